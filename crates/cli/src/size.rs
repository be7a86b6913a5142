//! Parsing of memory sizes as QEMU's `-m` takes them.

/// Parses `SIZE` as QEMU's `-m` does: a number with an optional suffix
/// `K`, `M`, `G` or `T` (binary units, either case, an optional trailing
/// `B` or `iB`); a bare number means MiB. Zero is refused here so that
/// `-m 0` gets a clear message.
pub fn parse_mem_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(digits_end);
    if num.is_empty() {
        return Err(format!(
            "invalid memory size `{text}` (expected e.g. 128M, 2G)"
        ));
    }
    let value: u64 = num
        .parse()
        .map_err(|_| format!("memory size `{text}` is too large"))?;
    let suffix = suffix.to_ascii_lowercase();
    let suffix = suffix
        .strip_suffix("ib")
        .or_else(|| suffix.strip_suffix('b'))
        .unwrap_or(&suffix);
    let shift = match suffix {
        "" | "m" => 20,
        "k" => 10,
        "g" => 30,
        "t" => 40,
        _ => {
            return Err(format!(
                "invalid memory size suffix in `{text}` (use K, M, G or T)"
            ));
        }
    };
    if value == 0 {
        return Err("memory size must be greater than 0".to_string());
    }
    value
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("memory size `{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_qemu() {
        assert_eq!(parse_mem_size("128"), Ok(128 << 20));
        assert_eq!(parse_mem_size("256M"), Ok(256 << 20));
        assert_eq!(parse_mem_size("2G"), Ok(2 << 30));
        assert_eq!(parse_mem_size("2g"), Ok(2 << 30));
        assert_eq!(parse_mem_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_mem_size("1T"), Ok(1 << 40));
    }

    #[test]
    fn bad_sizes() {
        assert!(parse_mem_size("0").unwrap_err().contains("greater than 0"));
        assert!(parse_mem_size("0M").is_err());
        assert!(parse_mem_size("M").is_err());
        assert!(parse_mem_size("12X").is_err());
        assert!(parse_mem_size("99999999999999999999").is_err());
        assert!(parse_mem_size("99999999999T").is_err());
    }
}
