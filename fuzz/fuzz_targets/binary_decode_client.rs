//! libFuzzer target `binary_decode_client` (`cargo fuzz run binary_decode_client`, nightly); the body is
//! [`gateway_fuzz::binary_decode_client`], which `fuzz-stable` runs on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gateway_fuzz::binary_decode_client(data);
});
