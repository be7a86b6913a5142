//! Parsing of memory sizes as QEMU's `-m` takes them.

/// Parses `SIZE` as QEMU's `-m` does: a number, possibly with a decimal
/// fraction (`1.5G`), with an optional suffix `K`, `M`, `G` or `T` (binary
/// units, either case, an optional trailing `B` or `iB`); a bare number
/// means MiB. Zero is refused here so that `-m 0` gets a clear message.
pub fn parse_mem_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let number_end = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(number_end);
    let (num, fraction) = number.split_once('.').unwrap_or((number, ""));
    if num.is_empty() || fraction.contains('.') {
        return Err(format!(
            "invalid memory size `{text}` (expected e.g. 128M, 1.5G)"
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
    let too_large = || format!("memory size `{text}` is too large");
    let whole = value.checked_mul(1u64 << shift).ok_or_else(too_large)?;
    // The fraction in units of the suffix, exact to the byte (`1.5G`,
    // `0.25M`); digits past what a byte can resolve are refused.
    let part = if fraction.is_empty() {
        0
    } else {
        let digits = u32::try_from(fraction.len()).map_err(|_| too_large())?;
        let scale = 10u128.checked_pow(digits).ok_or_else(too_large)?;
        let f: u128 = fraction.parse().map_err(|_| too_large())?;
        let bytes = f * (1u128 << shift);
        if bytes % scale != 0 {
            return Err(format!(
                "memory size `{text}` is not a whole number of bytes"
            ));
        }
        u64::try_from(bytes / scale).map_err(|_| too_large())?
    };
    let size = whole.checked_add(part).ok_or_else(too_large)?;
    if size == 0 {
        return Err("memory size must be greater than 0".to_string());
    }
    Ok(size)
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
        assert_eq!(parse_mem_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_mem_size("0.5"), Ok(1 << 19));
        assert_eq!(parse_mem_size("2.25M"), Ok(9 << 18));
    }

    #[test]
    fn bad_sizes() {
        assert!(parse_mem_size("0").unwrap_err().contains("greater than 0"));
        assert!(parse_mem_size("0M").is_err());
        assert!(parse_mem_size("M").is_err());
        assert!(parse_mem_size("12X").is_err());
        assert!(parse_mem_size("99999999999999999999").is_err());
        assert!(parse_mem_size("99999999999T").is_err());
        assert!(parse_mem_size("1.2.3G").is_err());
        assert!(parse_mem_size("0.0").is_err());
        assert!(
            parse_mem_size("1.0000001K")
                .unwrap_err()
                .contains("whole number")
        );
    }
}
