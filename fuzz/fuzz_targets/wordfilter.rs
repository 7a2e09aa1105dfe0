//! libFuzzer target `wordfilter` (`cargo fuzz run wordfilter`, nightly); the body is
//! [`gateway_fuzz::wordfilter`], which `fuzz-stable` runs on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gateway_fuzz::wordfilter(data);
});
