//! `-dfilter`: the pc ranges the per-block log items (`in_asm`, `exec`,
//! `cpu`) are limited to, as QEMU's `qemu_log_in_addr_range`.
//!
//! The filter is process-wide, like the log it filters (a `tracing`
//! subscriber is process-wide too): set once at start-up, read only on
//! paths that already log.

use std::sync::OnceLock;

static RANGES: OnceLock<Vec<PcRange>> = OnceLock::new();

/// An inclusive range of pcs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcRange {
    /// First pc in the range.
    pub start: u64,
    /// Last pc in the range (inclusive).
    pub last: u64,
}

/// A `-dfilter` list that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bad -dfilter range `{0}`: expected START+LEN, START-LEN or START..END")]
pub struct BadRange(pub String);

/// Parse QEMU's `-dfilter` syntax: comma-separated `START+LEN` (from START,
/// LEN bytes), `START-LEN` (the LEN bytes ending at START), `START..END`
/// (both inclusive); numbers in decimal or with `0x`.
pub fn parse(spec: &str) -> Result<Vec<PcRange>, BadRange> {
    let bad = || BadRange(spec.to_string());
    let num = |s: &str| -> Result<u64, BadRange> {
        let s = s.trim();
        match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => s.parse(),
        }
        .map_err(|_| bad())
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        let range = if let Some((a, b)) = part.split_once("..") {
            let (start, last) = (num(a)?, num(b)?);
            if last < start {
                return Err(bad());
            }
            PcRange { start, last }
        } else if let Some((a, len)) = part.split_once('+') {
            let (start, len) = (num(a)?, num(len)?);
            let last = start
                .checked_add(len.checked_sub(1).ok_or_else(bad)?)
                .ok_or_else(bad)?;
            PcRange { start, last }
        } else if let Some((a, len)) = part.split_once('-') {
            let (last, len) = (num(a)?, num(len)?);
            let start = (last + 1).checked_sub(len).ok_or_else(bad)?;
            if len == 0 {
                return Err(bad());
            }
            PcRange { start, last }
        } else {
            return Err(bad());
        };
        out.push(range);
    }
    Ok(out)
}

/// Limit the per-block log items to `ranges` (once per process; a second
/// call is ignored).
pub fn set(ranges: Vec<PcRange>) {
    let _ = RANGES.set(ranges);
}

/// Whether a block at `pc` is logged: no filter, or `pc` in one of its
/// ranges.
pub fn allows(pc: u64) -> bool {
    match RANGES.get() {
        None => true,
        Some(ranges) => ranges.iter().any(|r| (r.start..=r.last).contains(&pc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_forms() {
        assert_eq!(
            parse("0x80000000+0x100,0x80002000..0x80003000,0x1000-0x10").unwrap(),
            vec![
                PcRange {
                    start: 0x8000_0000,
                    last: 0x8000_00ff
                },
                PcRange {
                    start: 0x8000_2000,
                    last: 0x8000_3000
                },
                PcRange {
                    start: 0xff1,
                    last: 0x1000
                },
            ]
        );
        assert_eq!(
            parse("4096+16").unwrap(),
            vec![PcRange {
                start: 4096,
                last: 4111
            }]
        );
        for bad in [
            "",
            "0x10",
            "0x20..0x10",
            "0x10+0",
            "zz+1",
            "0x10-0x20",
            "0x10-0",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
