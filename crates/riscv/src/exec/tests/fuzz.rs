//! Random instruction streams must never crash the host: every word becomes
//! an architectural result or exception.

use super::*;
use crate::csr::addr::*;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 17
    }
}

#[test]
fn random_programs_never_panic() {
    let mut rng = Lcg(0x5eed);
    for round in 0..200 {
        let mut rig = Rig::new();
        // Mostly valid-looking 32-bit words, some compressed parcels, some noise.
        let words: Vec<u32> = (0..512)
            .map(|_| {
                let w = rng.next() as u32;
                match rng.next() % 4 {
                    0 => w | 3,
                    1 => {
                        (w & 0xffff_ff80)
                            | [0x13, 0x33, 0x03, 0x23, 0x63, 0x2f, 0x73, 0x6f][(w % 8) as usize]
                    }
                    _ => w,
                }
            })
            .collect();
        rig.load(RAM, &words);
        // Traps land back in the random code; registers point around RAM, MMIO
        // and unmapped space.
        rig.set_csr(MTVEC, RAM + 4 * (rng.next() % 512));
        for r in 1..32 {
            let base = [RAM, IO, 0, 0x4000_0000, u64::MAX - 0x800][(rng.next() % 5) as usize];
            rig.cpu.set_xreg(r, base.wrapping_add(rng.next() % 0x2000));
        }
        let _ = rig.run(20_000);
        let st = rig.cpu.stats();
        assert!(st.insns + st.exceptions > 0, "round {round} did nothing");
    }
}
