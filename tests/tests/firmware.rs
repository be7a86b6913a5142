//! The firmware suite: one test per line of `firmware/tests.txt`, each run
//! on the board and hart count the manifest gives.

include!(concat!(env!("OUT_DIR"), "/firmware_tests.rs"));
