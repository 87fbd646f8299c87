//! The time the vector outputs record as theirs (a GeoPackage's `gpkg_contents.last_change`,
//! a DBF's date of last update) as a UTC calendar date, without a calendar crate. The job
//! hands its one time stamp to both writers, so that the same inputs give the same bytes
//! ([`crate::job::Job::timestamp`]).

use crate::error::{Error, Result};
use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC time to the millisecond, in the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UtcTime {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    /// Milliseconds since midnight.
    pub ms_of_day: u32,
}

/// The earliest and latest years every output can record: a DBF stores the year as
/// year − 1900 in one byte.
const YEARS: std::ops::RangeInclusive<i64> = 1900..=2155;

impl UtcTime {
    /// `time` in UTC, rounded down to the millisecond.
    pub(crate) fn of(time: SystemTime) -> UtcTime {
        let ms: i128 = match time.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i128,
            Err(e) => -(e.duration().as_nanos().div_ceil(1_000_000) as i128),
        };
        const DAY: i128 = 86_400_000;
        let (days, ms_of_day) = (ms.div_euclid(DAY), ms.rem_euclid(DAY));
        // Days since 1970-01-01 to a civil date (H. Hinnant, "chrono-Compatible Low-Level
        // Date Algorithms", civil_from_days).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i128::from(month <= 2);
        UtcTime {
            year: year as i64,
            month: month as u8,
            day: day as u8,
            ms_of_day: ms_of_day as u32,
        }
    }

    /// ISO 8601 as a GeoPackage `DATETIME` holds it: `YYYY-MM-DDTHH:MM:SS.SSSZ`.
    pub(crate) fn iso8601(&self) -> String {
        let s = self.ms_of_day / 1000;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year,
            self.month,
            self.day,
            s / 3600,
            s / 60 % 60,
            s % 60,
            self.ms_of_day % 1000
        )
    }

    /// The date of a DBF header: year − 1900, month, day.
    pub(crate) fn dbf_date(&self) -> [u8; 3] {
        [(self.year - 1900) as u8, self.month, self.day]
    }
}

/// `time` as a calendar date, refused outside the years every output can record (1900 to
/// 2155).
pub(crate) fn checked(time: SystemTime) -> Result<UtcTime> {
    let t = UtcTime::of(time);
    if YEARS.contains(&t.year) {
        Ok(t)
    } else {
        Err(Error::InvalidParameter {
            name: "timestamp".into(),
            value: format!("year {}", t.year),
            reason: "the outputs record times from 1900 to 2155 (a DBF holds the year as \
                     year − 1900 in one byte)"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// SQLite's own calendar (`strftime` of a Unix time) agrees with ours from 1900 to 2155,
    /// leap days, century years and times before 1970 included.
    #[test]
    fn dates_equal_sqlite_strftime() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let sqlite = |ms: i64| -> String {
            db.query_row(
                "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?1 / 1000.0, 'unixepoch')",
                [ms],
                |r| r.get(0),
            )
            .unwrap()
        };
        let mut ms: i64 = -2_208_988_800_000; // 1900-01-01
        let end: i64 = 5_996_188_800_000; // early 2160
        let mut step = 1_u64;
        while ms < end {
            let time = if ms >= 0 {
                UNIX_EPOCH + Duration::from_millis(ms as u64)
            } else {
                UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
            };
            assert_eq!(UtcTime::of(time).iso8601(), sqlite(ms), "{ms} ms");
            // Steps that wander over every day of the year and time of day.
            step = step.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ms += 3_600_000 * 7 + (step >> 40) as i64 % 86_400_000;
        }
        let leap = UNIX_EPOCH + Duration::from_secs(951_825_600); // 2000-02-29T12:00:00Z
        assert_eq!(UtcTime::of(leap).iso8601(), "2000-02-29T12:00:00.000Z");
        assert_eq!(UtcTime::of(leap).dbf_date(), [100, 2, 29]);
        assert!(checked(UNIX_EPOCH - Duration::from_secs(2_208_988_801)).is_err());
        assert!(checked(UNIX_EPOCH + Duration::from_secs(5_964_652_800)).is_err()); // early 2159
    }
}
