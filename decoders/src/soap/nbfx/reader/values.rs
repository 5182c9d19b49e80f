//! How typed text-record values are spelled in XML, following .NET: GUIDs, floats, decimals,
//! DateTime and TimeSpan. Pure formatting into a `String`; not responsible for reading the
//! records that carry the values (see `text.rs`).

use std::fmt::Write as _;

use super::cursor::malformed;
use crate::DecodeError;

/// 100 ns ticks per second, minute, hour and day (.NET `TimeSpan`/`DateTime` units).
pub(super) const TICKS_PER_SECOND: u64 = 10_000_000;
pub(super) const TICKS_PER_DAY: u64 = 86_400 * TICKS_PER_SECOND;
/// `DateTime.MaxValue.Ticks + 1`: MC-NBFX 2.2.3.12 says the value MUST be below this.
pub(super) const DATETIME_TICKS_END: u64 = 3_155_378_976_000_000_000;

/// Appends 16 bytes as a GUID in .NET byte order (see [`crate::util::dotnet_guid`]).
pub(super) fn push_guid(out: &mut String, b: &[u8; 16]) {
    const ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (n, &i) in ORDER.iter().enumerate() {
        if matches!(n, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let byte = b.get(i).copied().unwrap_or(0);
        for nibble in [byte >> 4, byte & 0x0F] {
            out.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
}

/// Appends a float the way .NET Core's round-trip formatting does: the shortest digits that read
/// back to the same value, exponent notation (`1E+16`, `1E-05`) when the decimal exponent is at
/// least 15 (7 for single precision) or below -4, `INF`/`-INF`/`NaN`, and `-0`.
pub(super) fn push_float(out: &mut String, v: f64, single: bool, scratch: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v < 0.0 { "-INF" } else { "INF" });
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    scratch.clear();
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "1e16".
    let _ = if single {
        write!(scratch, "{:e}", v as f32)
    } else {
        write!(scratch, "{v:e}")
    };
    let (mantissa, exp) = scratch.split_once('e').unwrap_or((scratch.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    if neg {
        out.push('-');
    }
    let digits = mantissa.bytes().filter(u8::is_ascii_digit);
    let ndigits = mantissa.bytes().filter(u8::is_ascii_digit).count() as i32;
    let threshold = if single { 7 } else { 15 };
    if exp >= threshold || exp < -4 {
        for (n, d) in digits.enumerate() {
            if n == 1 {
                out.push('.');
            }
            out.push(char::from(d));
        }
        let _ = write!(
            out,
            "E{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        digits.for_each(|d| out.push(char::from(d)));
    } else {
        for (n, d) in digits.enumerate() {
            if n as i32 == exp + 1 {
                out.push('.');
            }
            out.push(char::from(d));
        }
        for _ in ndigits..=exp {
            out.push('0');
        }
    }
}

/// Appends a 16-byte .NET `decimal` (MS-OAUT DECIMAL: reserved u16, scale, sign, hi u32, lo
/// u64) exactly, keeping the digits its scale implies (`1.50` stays `1.50`, as .NET prints it).
pub(super) fn push_decimal(
    out: &mut String,
    b: &[u8; 16],
    at: usize,
    scratch: &mut String,
) -> Result<(), DecodeError> {
    let [_, _, scale, sign, h0, h1, h2, h3, l @ ..] = *b;
    if scale > 28 || (sign != 0 && sign != 0x80) {
        return Err(malformed(
            "DecimalText",
            at,
            format!("scale {scale} / sign 0x{sign:02X} is not a valid .NET decimal"),
        ));
    }
    let hi = u32::from_le_bytes([h0, h1, h2, h3]);
    let lo = u64::from_le_bytes(l);
    let mag = (u128::from(hi) << 64) | u128::from(lo);
    scratch.clear();
    let _ = write!(scratch, "{mag:0>width$}", width = usize::from(scale) + 1);
    if sign != 0 && mag != 0 {
        out.push('-');
    }
    let split = scratch.len() - usize::from(scale);
    out.push_str(scratch.get(..split).unwrap_or("0"));
    if scale > 0 {
        out.push('.');
        out.push_str(scratch.get(split..).unwrap_or(""));
    }
    Ok(())
}

/// Appends up to seven fraction digits of `ticks` (100 ns units) without trailing zeros.
pub(super) fn push_fraction(out: &mut String, frac: u64) {
    if frac == 0 {
        return;
    }
    let mut digits = [0u8; 7];
    let mut f = frac;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (f % 10) as u8;
        f /= 10;
    }
    let used = 7 - digits.iter().rev().take_while(|d| **d == b'0').count();
    out.push('.');
    for d in digits.iter().take(used) {
        out.push(char::from(*d));
    }
}

/// Civil date of a day count since 0001-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
pub(super) fn civil_from_days(days_since_0001: i64) -> (i64, u32, u32) {
    let z = days_since_0001 - 719_162 + 719_468; // to 0000-03-01 based
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Appends a DateTimeText value (MC-NBFX 2.2.3.12): `yyyy-MM-ddTHH:mm:ss[.fffffff]` plus `Z`
/// for UTC. The time part is always written, as .NET does and as the spec's own example
/// (`2006-05-17T00:00:00`) shows, although the spec prose allows a bare date at midnight.
/// Local times (kind 2) are stored by .NET as UTC ticks; a decoder has no time zone of its
/// own, so they are rendered in UTC with an explicit `+00:00`.
pub(super) fn push_datetime(out: &mut String, raw: u64, at: usize) -> Result<(), DecodeError> {
    let kind = raw >> 62;
    let ticks = raw & ((1 << 62) - 1);
    if ticks >= DATETIME_TICKS_END || kind == 3 {
        return Err(malformed(
            "DateTimeText",
            at,
            format!("0x{raw:016X} is not a valid .NET DateTime"),
        ));
    }
    let days = (ticks / TICKS_PER_DAY) as i64;
    let rem = ticks % TICKS_PER_DAY;
    let (y, mo, d) = civil_from_days(days);
    let secs = rem / TICKS_PER_SECOND;
    let _ = write!(
        out,
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    push_fraction(out, rem % TICKS_PER_SECOND);
    match kind {
        1 => out.push('Z'),
        2 => out.push_str("+00:00"),
        _ => {}
    }
    Ok(())
}

/// Appends a TimeSpanText value as an `xs:duration` (`PT3H20M`, `-PT5M44S`, `P1DT2H`, `PT0S`),
/// which is what .NET writes (`XmlConvert.ToString(TimeSpan)`) and what the spec's examples
/// show; the spec prose describes `[d.]HH:mm:ss` instead.
pub(super) fn push_timespan(out: &mut String, t: i64) {
    if t < 0 {
        out.push('-');
    }
    let a = t.unsigned_abs();
    out.push('P');
    let days = a / TICKS_PER_DAY;
    let rem = a % TICKS_PER_DAY;
    if days != 0 {
        let _ = write!(out, "{days}D");
    }
    if rem != 0 {
        out.push('T');
        let secs = rem / TICKS_PER_SECOND;
        let frac = rem % TICKS_PER_SECOND;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h != 0 {
            let _ = write!(out, "{h}H");
        }
        if m != 0 {
            let _ = write!(out, "{m}M");
        }
        if s != 0 || frac != 0 {
            let _ = write!(out, "{s}");
            push_fraction(out, frac);
            out.push('S');
        }
    } else if days == 0 {
        out.push_str("T0S");
    }
}
