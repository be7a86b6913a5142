//! The `-d` tracing targets: `in_asm` once per translated block, `int` per
//! trap, `guest_errors` per bad access.

use std::io::Write;
use std::sync::{Arc, Mutex};

use super::asm::*;
use super::*;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture(filter: &str, f: impl FnOnce()) -> String {
    let buf = Buf::default();
    let out = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(move || out.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn in_asm_logs_each_block_once_with_disassembly() {
    let log = capture("in_asm=trace", || {
        let mut rig = Rig::new();
        rig.program(&[addi(1, 1, 1), bne(1, 2, -4), SPIN]);
        rig.cpu.set_xreg(2, 100);
        rig.run(1000);
        assert_eq!(rig.x(1), 100);
    });
    assert_eq!(log.matches("IN:").count(), 2, "{log}");
    assert_eq!(log.matches("addi ra, ra, 1").count(), 1, "{log}");
    assert!(log.contains("0x80000000:  00108093"), "{log}");
}

#[test]
fn int_and_guest_errors_targets() {
    let log = capture("int=trace,guest_errors=trace", || {
        let mut rig = Rig::new();
        rig.program(&[load(3, 5, 1, 0), SPIN]);
        rig.cpu.set_xreg(1, 0x4000_0000);
        rig.run(5);
    });
    assert!(
        log.contains("exception 5 (load access fault) at pc 0x80000000, tval 0x40000000"),
        "{log}"
    );
    assert!(log.contains("guest_errors"), "{log}");
}
