//! The office's time: Indonesia's three zones, and times written as the print room writes them
//! (`01-12-2026 22:36 WIB`). Staff never see UTC.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// Waktu Indonesia Barat (UTC+7), Tengah (UTC+8) or Timur (UTC+9).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OfficeZone {
    #[default]
    #[serde(rename = "WIB", alias = "wib")]
    Wib,
    #[serde(rename = "WITA", alias = "wita")]
    Wita,
    #[serde(rename = "WIT", alias = "wit")]
    Wit,
}

impl OfficeZone {
    pub fn name(self) -> &'static str {
        match self {
            OfficeZone::Wib => "WIB",
            OfficeZone::Wita => "WITA",
            OfficeZone::Wit => "WIT",
        }
    }

    pub fn utc_offset_minutes(self) -> i32 {
        match self {
            OfficeZone::Wib => 7 * 60,
            OfficeZone::Wita => 8 * 60,
            OfficeZone::Wit => 9 * 60,
        }
    }

    pub fn offset(self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_minutes() * 60).expect("a whole number of hours east of UTC")
    }

    /// `01-12-2026 22:36 WIB`: day, month, year, then the time to the minute and the zone.
    pub fn format(self, at: DateTime<Utc>) -> String {
        format!("{} {}", at.with_timezone(&self.offset()).format("%d-%m-%Y %H:%M"), self.name())
    }

    /// `01-12-2026`: the office's date of `at`.
    pub fn format_date(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.offset()).format("%d-%m-%Y").to_string()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn times_are_written_the_indonesian_way_in_the_office_s_zone() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 15, 36, 0).unwrap();
        assert_eq!(OfficeZone::Wib.format(at), "01-12-2026 22:36 WIB");
        assert_eq!(OfficeZone::Wita.format(at), "01-12-2026 23:36 WITA");
        assert_eq!(OfficeZone::Wit.format(at), "02-12-2026 00:36 WIT", "past midnight in Papua");
        assert_eq!(OfficeZone::Wit.format_date(at), "02-12-2026");
        let zone: OfficeZone = serde_json::from_str("\"WITA\"").unwrap();
        assert_eq!(zone.utc_offset_minutes(), 480);
    }
}
