//! Calendar arithmetic and RFC 3339 output, shared by the log parsers.
//!
//! Log timestamps come as broken-down civil time ("10/Oct/2000:13:55:36 -0700",
//! "Jun 14 15:16:01"); JSON output wants RFC 3339. The conversion needs only the
//! proleptic Gregorian calendar and fixed UTC offsets, so it is done here in a
//! few lines (Howard Hinnant's `days_from_civil`) rather than with a date crate.
//!
//! ```
//! use firehose_transform::formats::timestamp::DateTime;
//!
//! let t = DateTime { year: 2000, month: 10, day: 10, hour: 13, minute: 55, second: 36, nanos: 0, offset_minutes: -420 };
//! assert_eq!(t.to_rfc3339(), "2000-10-10T13:55:36-07:00");
//! assert_eq!(t.to_utc().to_rfc3339(), "2000-10-10T20:55:36Z");
//! assert_eq!(t.unix_seconds(), 971211336);
//! ```

use std::fmt::Write as _;

/// A civil date and time with a fixed offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// The year (proleptic Gregorian).
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 60 (a leap second is kept as written).
    pub second: u8,
    /// Fraction of the second, in nanoseconds.
    pub nanos: u32,
    /// Offset from UTC in minutes (east positive).
    pub offset_minutes: i16,
}

/// Days from 1970-01-01 to the given civil date.
pub fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date (year, month, day) of a day count from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

/// Whether `year` has a 29th of February.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` of `year`.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The month number (1 to 12) of an English three-letter abbreviation, in any case.
///
/// ```
/// use firehose_transform::formats::timestamp::month_from_abbrev;
/// assert_eq!(month_from_abbrev("Oct"), Some(10));
/// assert_eq!(month_from_abbrev("oct"), Some(10));
/// assert_eq!(month_from_abbrev("Octo"), None);
/// ```
pub fn month_from_abbrev(abbrev: &str) -> Option<u8> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if abbrev.len() != 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(abbrev))
        .map(|i| i as u8 + 1)
}

impl DateTime {
    /// Whether every field is in range (day within its month, offset within ±24h).
    pub fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second <= 60
            && self.nanos < 1_000_000_000
            && self.offset_minutes.unsigned_abs() < 24 * 60
    }

    /// Seconds since the Unix epoch of this instant (offset applied).
    pub fn unix_seconds(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.offset_minutes) * 60
    }

    /// The same instant expressed in UTC (offset 0).
    pub fn to_utc(&self) -> DateTime {
        self.with_offset(0)
    }

    /// The same instant expressed at another UTC offset.
    pub fn with_offset(&self, offset_minutes: i16) -> DateTime {
        // A leap second (:60) has no Unix time of its own; keep it as written.
        let second = self.second.min(59);
        let local = DateTime { second, ..*self }.unix_seconds() + i64::from(offset_minutes) * 60;
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        let in_day = local.rem_euclid(86_400);
        DateTime {
            year,
            month,
            day,
            hour: (in_day / 3600) as u8,
            minute: (in_day % 3600 / 60) as u8,
            second: (in_day % 60) as u8 + (self.second - second),
            nanos: self.nanos,
            offset_minutes,
        }
    }

    /// The instant at `unix_millis` milliseconds since the epoch, in UTC.
    pub fn from_unix_millis(unix_millis: i64) -> DateTime {
        let seconds = unix_millis.div_euclid(1000);
        let nanos = (unix_millis.rem_euclid(1000) * 1_000_000) as u32;
        DateTime {
            year: 1970,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            nanos,
            offset_minutes: 0,
        }
        .plus_seconds(seconds)
    }

    fn plus_seconds(&self, seconds: i64) -> DateTime {
        let total = self.unix_seconds() + seconds + i64::from(self.offset_minutes) * 60;
        let (year, month, day) = civil_from_days(total.div_euclid(86_400));
        let in_day = total.rem_euclid(86_400);
        DateTime {
            year,
            month,
            day,
            hour: (in_day / 3600) as u8,
            minute: (in_day % 3600 / 60) as u8,
            second: (in_day % 60) as u8,
            ..*self
        }
    }

    /// Appends RFC 3339 text: `2000-10-10T13:55:36-07:00`, `Z` for UTC, and a
    /// fraction only when there is one (trailing zeros trimmed to 3, 6 or 9 digits).
    pub fn write_rfc3339(&self, out: &mut String) {
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.nanos != 0 {
            if self.nanos % 1_000_000 == 0 {
                let _ = write!(out, ".{:03}", self.nanos / 1_000_000);
            } else if self.nanos % 1000 == 0 {
                let _ = write!(out, ".{:06}", self.nanos / 1000);
            } else {
                let _ = write!(out, ".{:09}", self.nanos);
            }
        }
        if self.offset_minutes == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let abs = self.offset_minutes.unsigned_abs();
            let _ = write!(out, "{sign}{:02}:{:02}", abs / 60, abs % 60);
        }
    }

    /// RFC 3339 text, as a new string.
    pub fn to_rfc3339(&self) -> String {
        let mut out = String::with_capacity(32);
        self.write_rfc3339(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn offset_conversion_crosses_midnight_and_year() {
        let t = DateTime {
            year: 2015,
            month: 12,
            day: 31,
            hour: 23,
            minute: 30,
            second: 0,
            nanos: 0,
            offset_minutes: -90,
        };
        assert_eq!(t.to_utc().to_rfc3339(), "2016-01-01T01:00:00Z");
        assert_eq!(t.to_rfc3339(), "2015-12-31T23:30:00-01:30");
    }

    #[test]
    fn fractions_keep_their_precision() {
        let mut t = DateTime::from_unix_millis(1_495_072_949_453);
        assert_eq!(t.to_rfc3339(), "2017-05-18T02:02:29.453Z");
        t.nanos = 123_456_000;
        assert_eq!(t.to_rfc3339(), "2017-05-18T02:02:29.123456Z");
    }

    #[test]
    fn validity_checks_the_month_length() {
        let t = DateTime {
            year: 2023,
            month: 2,
            day: 29,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
            offset_minutes: 0,
        };
        assert!(!t.is_valid());
        assert!(DateTime { year: 2024, ..t }.is_valid());
    }

    proptest! {
        #[test]
        fn civil_round_trips(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn changing_offset_keeps_the_instant(ms in -10_000_000_000_000i64..10_000_000_000_000, offset in -1439i16..1440) {
            let utc = DateTime::from_unix_millis(ms);
            let shifted = utc.with_offset(offset);
            prop_assert_eq!(shifted.unix_seconds(), utc.unix_seconds());
            prop_assert!(shifted.is_valid());
        }
    }
}
