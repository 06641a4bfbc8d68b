//! The `Date` operations of the claim checks and their messages: `TimeClip`, `setUTCSeconds`,
//! `toUTCString`.

/// Largest absolute time value a JS `Date` holds (±100 000 000 days).
pub const MAX_TIME_MS: f64 = 8.64e15;

/// `TimeClip`: NaN for non-finite or |t| > 8.64e15, else truncated toward zero (`-0` → `0`).
pub fn time_clip(ms: f64) -> f64 {
    if !ms.is_finite() || ms.abs() > MAX_TIME_MS {
        return f64::NAN;
    }
    // Adding +0.0 turns -0.0 into +0.0, as ToIntegerOrInfinity does.
    ms.trunc() + 0.0
}

/// `const d = new Date(0); d.setUTCSeconds(value); d.getTime()`: the seconds
/// are truncated toward zero, multiplied by 1000 and time-clipped, so values
/// beyond ±8.64e12 s (and non-finite ones) give NaN.
pub fn set_utc_seconds_ms(value: f64) -> f64 {
    if !value.is_finite() {
        return f64::NAN;
    }
    time_clip(value.trunc() * 1000.0)
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MS_PER_DAY: f64 = 86_400_000.0;

/// Proleptic-Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`). Total for |days| ≤ 10^8 + 1, the whole `Date` range.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `new Date(ms).toUTCString()`: `Www, DD Mon YYYY HH:MM:SS GMT`, years
/// zero-padded to 4 digits with a `-` sign when negative (`-1199`, `-0001`),
/// longer years in full (`10000`), `Invalid Date` for NaN or out of range.
pub fn to_utc_string(ms: f64) -> String {
    let t = time_clip(ms);
    if t.is_nan() {
        return "Invalid Date".to_owned();
    }
    let days_f = (t / MS_PER_DAY).floor();
    let ms_of_day = t - days_f * MS_PER_DAY;
    // |days_f| ≤ 1e8 and 0 ≤ ms_of_day < 86 400 000 after TimeClip: both casts are exact.
    let days = days_f as i64;
    let ms_of_day = ms_of_day as i64;
    let weekday = WEEKDAYS.get((days + 4).rem_euclid(7) as usize).copied().unwrap_or("???");
    let (year, month, day) = civil_from_days(days);
    let month_name = MONTHS.get((month - 1) as usize).copied().unwrap_or("???");
    let (h, m, s) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60);
    let year_text = if year < 0 { format!("-{:04}", -year) } else { format!("{year:04}") };
    format!("{weekday}, {day:02} {month_name} {year_text} {h:02}:{m:02}:{s:02} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_utc_seconds_truncates_and_clips() {
        assert_eq!(set_utc_seconds_ms(0.0), 0.0);
        assert!(set_utc_seconds_ms(-0.0).is_sign_positive());
        assert_eq!(set_utc_seconds_ms(1.9), 1000.0);
        assert_eq!(set_utc_seconds_ms(-1.9), -1000.0);
        assert_eq!(set_utc_seconds_ms(0.5), 0.0);
        assert!(set_utc_seconds_ms(-0.5).is_sign_positive());
        assert_eq!(set_utc_seconds_ms(8.64e12), 8.64e15);
        assert!(set_utc_seconds_ms(8.64e12 + 1.0).is_nan());
        assert_eq!(set_utc_seconds_ms(-8.64e12), -8.64e15);
        assert!(set_utc_seconds_ms(-8.64e12 - 1.0).is_nan());
        assert_eq!(set_utc_seconds_ms(8639999999999.9), 8639999999999000.0);
        for nan in [1e20, -1e13, 1e13, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, f64::MAX, 9007199254740993.0] {
            assert!(set_utc_seconds_ms(nan).is_nan(), "{nan}");
        }
    }

    #[test]
    fn time_clip_matches_javascript() {
        assert_eq!(time_clip(1.5), 1.0);
        assert_eq!(time_clip(-1.5), -1.0);
        assert!(time_clip(-0.0).is_sign_positive());
        assert_eq!(time_clip(8.64e15), 8.64e15);
        assert!(time_clip(8.64e15 + 1.0).is_nan());
        assert!(time_clip(f64::NAN).is_nan());
    }

    /// Expected values printed by Node v20 (`new Date(0).setUTCSeconds(s)` / `new Date(ms).toUTCString()`).
    #[test]
    fn utc_strings_match_node() {
        let by_seconds: [(f64, &str); 10] = [
            (0.0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (1.9, "Thu, 01 Jan 1970 00:00:01 GMT"),
            (-1.9, "Wed, 31 Dec 1969 23:59:59 GMT"),
            (8.64e12, "Sat, 13 Sep 275760 00:00:00 GMT"),
            (-8.64e12, "Tue, 20 Apr -271821 00:00:00 GMT"),
            (-62198755200.0, "Fri, 01 Jan -0001 00:00:00 GMT"),
            (-99999999999.0, "Thu, 15 Feb -1199 14:13:21 GMT"),
            (253402300800.0, "Sat, 01 Jan 10000 00:00:00 GMT"),
            (1666648250.0, "Mon, 24 Oct 2022 21:50:50 GMT"),
            (8639999999999.9, "Fri, 12 Sep 275760 23:59:59 GMT"),
        ];
        for (s, expected) in by_seconds {
            assert_eq!(to_utc_string(set_utc_seconds_ms(s)), expected, "{s}");
        }
        let by_ms: [(f64, &str); 8] = [
            (-62135596800001.0, "Sun, 31 Dec 0000 23:59:59 GMT"),
            (-62167219200000.0, "Sat, 01 Jan 0000 00:00:00 GMT"),
            (-62167219200001.0, "Fri, 31 Dec -0001 23:59:59 GMT"),
            (-377705116800000.0, "Mon, 01 Jan -9999 00:00:00 GMT"),
            (1.5, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (-1.5, "Wed, 31 Dec 1969 23:59:59 GMT"),
            (951782400000.0, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (1795763638000.0, "Fri, 27 Nov 2026 07:13:58 GMT"),
        ];
        for (ms, expected) in by_ms {
            assert_eq!(to_utc_string(ms), expected, "{ms}");
        }
        for invalid in [f64::NAN, f64::INFINITY, 8.64e15 + 1.0, -8.64e15 - 1.0] {
            assert_eq!(to_utc_string(invalid), "Invalid Date");
        }
    }

    fn days_in_month(year: i64, month: i64) -> i64 {
        let leap = year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0);
        match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    #[test]
    fn civil_dates_advance_one_day_at_a_time() {
        assert_eq!(civil_from_days(-100_000_000), (-271821, 4, 20));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(100_000_000), (275760, 9, 13));
        // Windows around the range ends, year 0, the epoch, 2000 and 10000, each crossing leap days.
        for start in [-100_000_000i64, -719_528 - 800, -800, 10_957 - 800, 2_932_896 - 800, 99_998_400] {
            let mut last = civil_from_days(start);
            for days in start + 1..start + 1600 {
                let next = civil_from_days(days);
                let expected = if last.2 < days_in_month(last.0, last.1) {
                    (last.0, last.1, last.2 + 1)
                } else if last.1 < 12 {
                    (last.0, last.1 + 1, 1)
                } else {
                    (last.0 + 1, 1, 1)
                };
                assert_eq!(next, expected, "day {days}");
                last = next;
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn utc_string_never_panics(ms in proptest::num::f64::ANY) {
            let _ = to_utc_string(ms);
            let _ = set_utc_seconds_ms(ms);
        }
    }
}
