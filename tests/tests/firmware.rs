//! The firmware suite: one `#[test]` per test of `firmware/tests.toml`, each
//! run by the suite runner as `ferrite suite firmware/tests.toml` runs it.

include!(concat!(env!("OUT_DIR"), "/firmware_tests.rs"));
