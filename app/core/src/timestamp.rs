//! One timestamp format for every table and every wire type.
//!
//! The system TFTSR learns from mixed two formats; we keep exactly one:
//! RFC 3339 in UTC with millisecond precision and a `Z` suffix
//! (`2026-11-23T08:31:10.123Z`). It sorts lexicographically in the same
//! order as in time, SQLite's `julianday()` understands it, and it is what
//! `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')` produces inside SQL.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A UTC instant with millisecond precision.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// The text was not a timestamp in TFTSR's canonical format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {0:?}: expected YYYY-MM-DDTHH:MM:SS.mmmZ")]
pub struct TimestampParseError(String);

impl Timestamp {
    /// Wraps an instant, truncating it to whole milliseconds so that a value
    /// survives a round trip through its text form unchanged.
    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        let dt = dt.to_offset(UtcOffset::UTC);
        let millis = dt.millisecond();
        let truncated = dt.replace_millisecond(millis).unwrap_or(dt);
        Self(truncated)
    }

    /// Milliseconds since the Unix epoch.
    pub fn from_unix_millis(ms: i64) -> Option<Self> {
        let nanos = i128::from(ms) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .map(Self)
    }

    pub fn unix_millis(self) -> i64 {
        // Fits: the representable range of `time` is far below i64::MAX ms.
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    pub fn as_datetime(self) -> OffsetDateTime {
        self.0
    }

    /// The instant `seconds` earlier (negative values go forward).
    pub fn minus_seconds(self, seconds: i64) -> Self {
        Self(self.0 - time::Duration::seconds(seconds))
    }

    pub fn parse(text: &str) -> Result<Self, TimestampParseError> {
        PrimitiveDateTime::parse(text, FORMAT)
            .map(|p| Self(p.assume_utc()))
            .map_err(|_| TimestampParseError(text.chars().take(40).collect()))
    }

    /// The date part, `YYYY-MM-DD`, for compact display.
    pub fn date(self) -> String {
        let d = self.0.date();
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    }

    /// `YYYY-MM-DD HH:MM` (UTC), for lists and timelines.
    pub fn short(self) -> String {
        format!(
            "{} {:02}:{:02} UTC",
            self.date(),
            self.0.hour(),
            self.0.minute()
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(FORMAT) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        let t = Timestamp::from_unix_millis(1_795_000_123_456).expect("in range");
        let text = t.to_string();
        assert_eq!(text, "2026-11-18T11:08:43.456Z");
        assert_eq!(Timestamp::parse(&text), Ok(t));
    }

    #[test]
    fn text_order_is_time_order() {
        let a = Timestamp::from_unix_millis(999).expect("in range");
        let b = Timestamp::from_unix_millis(1_000).expect("in range");
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn rejects_other_formats() {
        for bad in [
            "2026-11-18 09:48:43",
            "2026-11-18T09:48:43Z",
            "",
            "yesterday",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn truncates_to_milliseconds() {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(1_000_000_999_999).expect("in range");
        let t = Timestamp::from_datetime(dt);
        assert_eq!(Timestamp::parse(&t.to_string()), Ok(t));
    }
}
