//! The NIK (Nomor Induk Kependudukan), Indonesia's 16-digit population number.
//!
//! Layout: province (2) + regency (2) + district (2) + birth date DDMMYY, with 40 added to the
//! day for women, + serial (4, from 0001). There is no check digit, so validation can only refuse
//! what cannot be a NIK.

use std::borrow::Cow;
use std::fmt;

use chrono::NaiveDate;

use super::event::Sex;

/// A NIK that passed the structural checks. Its `Debug` and `Display` show it masked, so a NIK
/// cannot reach a log line by accident; [`Nik::as_str`] gives the full number where it is needed
/// (the journal, central, the printed card).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nik(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    #[error("must be exactly 16 digits, got {0} characters")]
    Length(usize),
    #[error("must contain only digits 0-9")]
    NotDigits,
    #[error("region code {0:?} is not a real province/regency/district code (00)")]
    Region(&'static str),
    #[error("birth date part {0} is not a date (DDMMYY, the day 01-31 for men or 41-71 for women)")]
    BirthDate(String),
    #[error("serial number 0000 is never issued")]
    Serial,
}

impl Nik {
    /// Parses and checks a NIK.
    ///
    /// # Errors
    /// A [`NikError`] naming the first structural rule the value breaks.
    pub fn parse(value: &str) -> Result<Self, NikError> {
        let chars = value.chars().count();
        if chars != 16 {
            return Err(NikError::Length(chars));
        }
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NikError::NotDigits);
        }
        for (range, part) in [(0..2, "province"), (2..4, "regency"), (4..6, "district")] {
            if &value[range] == "00" {
                return Err(NikError::Region(part));
            }
        }
        if &value[12..16] == "0000" {
            return Err(NikError::Serial);
        }
        let nik = Nik(value.to_owned());
        if nik.birth_dates().is_empty() {
            return Err(NikError::BirthDate(value[6..12].to_owned()));
        }
        Ok(nik)
    }

    /// The full number. Use only where the number itself is needed, never in logs.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A form safe for logs and staff lists: the region prefix and the last two digits.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }

    fn digits(&self, range: std::ops::Range<usize>) -> u32 {
        self.0[range].parse().expect("checked: ASCII digits")
    }

    /// The sex the NIK encodes (day + 40 for women).
    pub fn sex(&self) -> Sex {
        if self.digits(6..8) > 40 {
            Sex::Female
        } else {
            Sex::Male
        }
    }

    /// Day, month and two-digit year encoded in the NIK (day already taken mod 40).
    pub fn birth_day_month_year(&self) -> (u32, u32, u32) {
        (self.digits(6..8) % 40, self.digits(8..10), self.digits(10..12))
    }

    /// The birth dates the NIK can stand for: the century is not encoded, so 1900s and 2000s.
    fn birth_dates(&self) -> Vec<NaiveDate> {
        // Men's days are 01-31 and women's 41-71; 81-99 would pass a bare "mod 40" yet no NIK
        // is issued with them.
        if !matches!(self.digits(6..8), 1..=31 | 41..=71) {
            return Vec::new();
        }
        let (day, month, yy) = self.birth_day_month_year();
        [1900, 2000]
            .into_iter()
            .filter_map(|century| NaiveDate::from_ymd_opt(century + yy as i32, month, day))
            .collect()
    }

    /// Whether the NIK's encoded date agrees with a stated birth date.
    pub fn matches_birth_date(&self, date: NaiveDate) -> bool {
        self.birth_dates().contains(&date)
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nik({})", self.masked())
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Masks every run of 16 or more digits (what a NIK looks like) as staff lists show NIKs: the
/// first four and the last two digits kept. Free text from outside (a staff reason, central's
/// denial, a rejection quoting a value) goes through this before it is stored, logged or sent.
pub fn redact_niks(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        match (b.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= 16 {
                    runs.push((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    if runs.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in runs {
        out.push_str(&text[last..s]);
        out.push_str(&text[s..s + 4]);
        out.extend(std::iter::repeat_n('*', e - s - 6));
        out.push_str(&text[e - 2..e]);
        last = e;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_err(value: &str, expected: &NikError) {
        assert_eq!(Nik::parse(value).unwrap_err(), *expected, "{value}");
    }

    #[test]
    fn accepts_women_and_men() {
        let woman = Nik::parse("1502015203850001").unwrap();
        assert_eq!(woman.sex(), Sex::Female);
        assert!(woman.matches_birth_date(NaiveDate::from_ymd_opt(1985, 3, 12).unwrap()));
        let man = Nik::parse("1502011203850002").unwrap();
        assert_eq!(man.sex(), Sex::Male);
        assert!(man.matches_birth_date(NaiveDate::from_ymd_opt(1985, 3, 12).unwrap()));
        assert!(!man.matches_birth_date(NaiveDate::from_ymd_opt(1985, 3, 13).unwrap()));
    }

    #[test]
    fn refuses_what_cannot_be_a_nik() {
        check_err("150201520385000", &NikError::Length(15));
        check_err("15020152038500011", &NikError::Length(17));
        check_err("15020152038500a1", &NikError::NotDigits);
        check_err("0002015203850001", &NikError::Region("province"));
        check_err("1502015203850000", &NikError::Serial);
        check_err("1502013203850001", &NikError::BirthDate("320385".into()));
        check_err("1502017203850001", &NikError::BirthDate("720385".into()));
        check_err("1502010013850001", &NikError::BirthDate("001385".into()));
        check_err("1502013002850001", &NikError::BirthDate("300285".into()));
        // Days 81-99 give a real day mod 40 (85 -> 5) but are neither a man's nor a woman's.
        check_err("1502018503850001", &NikError::BirthDate("850385".into()));
        check_err("1502019903850001", &NikError::BirthDate("990385".into()));
        check_err("1502014003850001", &NikError::BirthDate("400385".into()));
        check_err("1502010003850001", &NikError::BirthDate("000385".into()));
    }

    #[test]
    fn day_ranges_edges() {
        for (day, sex) in [("01", Sex::Male), ("31", Sex::Male), ("41", Sex::Female), ("71", Sex::Female)] {
            let nik = Nik::parse(&format!("150201{day}01850001")).unwrap();
            assert_eq!(nik.sex(), sex, "day {day}");
        }
    }

    #[test]
    fn leap_day_valid_in_either_century() {
        // 29 Feb 00 is valid for 2000 (not 1900); 29 Feb 01 never is.
        assert!(Nik::parse("1502012902000001").is_ok());
        assert!(Nik::parse("1502016902000001").is_ok());
        assert!(Nik::parse("1502012902010001").is_err());
    }

    #[test]
    fn debug_and_display_never_show_the_full_number() {
        let nik = Nik::parse("1502015203850001").unwrap();
        assert!(!format!("{nik:?}").contains("1502015203850001"));
        assert!(!format!("{nik}").contains("5203"));
        assert_eq!(nik.masked(), "1502**********01");
    }

    #[test]
    fn runs_of_sixteen_digits_or_more_are_masked() {
        assert_eq!(redact_niks("nik 1502015203850001 refused"), "nik 1502**********01 refused");
        assert_eq!(redact_niks("15020152038500012"), "1502***********12");
        assert_eq!(redact_niks("a 150201520385000 b"), "a 150201520385000 b", "15 digits stay");
        assert_eq!(redact_niks("x1502015203850001"), "x1502**********01");
        assert_eq!(redact_niks("1502015203850001,3171015203850002"), "1502**********01,3171**********02");
        assert!(matches!(redact_niks("nothing here 123"), Cow::Borrowed(_)));
    }
}
