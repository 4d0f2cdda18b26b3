//! `dbaas::fuzzing::ovh_signature`: see that function for what the input means and what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| dbaas::fuzzing::ovh_signature(data));
