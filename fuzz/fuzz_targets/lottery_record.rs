//! libFuzzer target `lottery_record` (`cargo fuzz run lottery_record`, nightly); the body is
//! [`gateway_fuzz::lottery_record`], which `fuzz-stable` runs on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gateway_fuzz::lottery_record(data);
});
