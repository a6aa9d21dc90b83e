//! Payout periods: calendar months in UTC, written `YYYY-MM`. A payout may be for a month from
//! the one the first investor joined in up to the current one, never a month before a period
//! already paid: the high-water mark only moves forward, and so do periods.

use std::fmt;

const DAY_SECS: u64 = 86_400;
/// Longest input quoted back in an error.
const QUOTE_CHARS: usize = 16;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    year: u16,
    month: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("period {0}: a month written YYYY-MM, e.g. 2026-11")]
    Malformed(String),
    #[error("period {period} has not begun (this month is {current})")]
    Future { period: Period, current: Period },
    #[error("period {period} is before the first investor joined ({first})")]
    BeforeFirstInvestor { period: Period, first: Period },
    #[error("period {period} is before {last}, which has a payout run: periods go forward")]
    BeforeLastRun { period: Period, last: Period },
}

impl Period {
    /// `YYYY-MM` exactly: four digits, a dash, a month 01–12.
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let malformed = || {
            let quoted = if text.chars().count() <= QUOTE_CHARS {
                format!("{text:?}")
            } else {
                let head: String = text.chars().take(QUOTE_CHARS).collect();
                format!("{head:?}…")
            };
            PeriodError::Malformed(quoted)
        };
        let bytes = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
        if bytes.len() != 7 || bytes[4] != b'-' || !digits(0..4) || !digits(5..7) {
            return Err(malformed());
        }
        let year: u16 = text[..4].parse().map_err(|_| malformed())?;
        let month: u8 = text[5..].parse().map_err(|_| malformed())?;
        if year == 0 || !(1..=12).contains(&month) {
            return Err(malformed());
        }
        Ok(Period { year, month })
    }

    /// The month `unix_secs` falls in (UTC).
    pub fn of_unix(unix_secs: u64) -> Period {
        let (year, month) = year_month(unix_secs / DAY_SECS);
        Period {
            year: u16::try_from(year).unwrap_or(u16::MAX),
            month: u8::try_from(month).unwrap_or(12),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// `text` as a period a payout may be planned for at `now`: not after the current month, not
/// before the month of `epoch_start` (the first investor), not before `last_run`.
pub fn check(
    text: &str,
    now: u64,
    epoch_start: u64,
    last_run: Option<Period>,
) -> Result<Period, PeriodError> {
    let period = Period::parse(text)?;
    let current = Period::of_unix(now);
    if period > current {
        return Err(PeriodError::Future { period, current });
    }
    let first = Period::of_unix(epoch_start);
    if period < first {
        return Err(PeriodError::BeforeFirstInvestor { period, first });
    }
    if let Some(last) = last_run.filter(|last| period < *last) {
        return Err(PeriodError::BeforeLastRun { period, last });
    }
    Ok(period)
}

/// (year, month) of a day count since 1970-01-01: the civil-from-days formula of Howard
/// Hinnant's "chrono-Compatible Low-Level Date Algorithms".
fn year_month(days: u64) -> (u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24 00:00 UTC.
    const NOV_24: u64 = 20_781 * DAY_SECS;

    #[test]
    fn months_from_day_counts() {
        assert_eq!(year_month(0), (1970, 1));
        // 2026-11-24 is day 20,781; 2024-02-29 is day 19,782; 2000-03-01 is day 11,017.
        assert_eq!(year_month(20_781), (2026, 11));
        assert_eq!(year_month(19_782), (2024, 2));
        assert_eq!(year_month(11_017), (2000, 3));
        assert_eq!(year_month(11_016), (2000, 2));
        assert_eq!(Period::of_unix(NOV_24).to_string(), "2026-11");
    }

    #[test]
    fn only_year_dash_month_parses() {
        assert_eq!(Period::parse("2026-11").unwrap().to_string(), "2026-11");
        for bad in [
            "garbage",
            "2026-13",
            "2026-00",
            "2026-1",
            "26-11",
            "2026/11",
            "2026-11 ",
            "+202-11",
            "0000-05",
            "2026-1x",
            "",
            "２０２６-11",
        ] {
            assert!(
                matches!(Period::parse(bad), Err(PeriodError::Malformed(_))),
                "{bad:?}"
            );
        }
        let long = "x".repeat(1_000_000);
        let message = Period::parse(&long).unwrap_err().to_string();
        assert!(message.len() < 80, "{message}");
    }

    #[test]
    fn periods_run_from_the_first_investor_to_this_month_and_forward() {
        let joined = NOV_24 - 60 * DAY_SECS; // September
        assert!(check("2026-11", NOV_24, joined, None).is_ok());
        assert!(check("2026-09", NOV_24, joined, None).is_ok());
        assert!(matches!(
            check("2026-12", NOV_24, joined, None),
            Err(PeriodError::Future { .. })
        ));
        assert!(matches!(
            check("2099-01", NOV_24, joined, None),
            Err(PeriodError::Future { .. })
        ));
        assert!(matches!(
            check("2026-08", NOV_24, joined, None),
            Err(PeriodError::BeforeFirstInvestor { .. })
        ));
        let october = Period::parse("2026-10").unwrap();
        assert!(check("2026-10", NOV_24, joined, Some(october)).is_ok());
        assert!(matches!(
            check("2026-09", NOV_24, joined, Some(october)),
            Err(PeriodError::BeforeLastRun { .. })
        ));
    }
}
