//! The card's canonical data and its digest: what central's authorization is bound to.
//!
//! Central signs the SHA-256 of this text with the office and the request id, so an
//! authorization obtained for one person's record cannot print another photo or name under
//! that NIK. The spooler computes it at admission (it goes with the request) and again from the
//! event it is about to render; both must equal the signed one. `docs/central-api.md` has the
//! form and a worked example.
//!
//! The text is a label line, then one `key=value` line per printed field in a fixed order, the
//! values exactly as validated (no value holds a line break: validation refuses control
//! characters), the images as the SHA-256 of their bytes, and the template's name last.

use sha2::{Digest, Sha256};

use super::event::{EnrollmentEvent, ValidUntil};

/// The first line: names the form and its version.
pub const CARD_LABEL: &str = "cardspool.card.v1";

/// The canonical text of the card `event` makes with `template`.
pub fn canonical_card(event: &EnrollmentEvent, template: &str) -> String {
    let valid_until = match event.valid_until {
        ValidUntil::Lifetime => ValidUntil::LIFETIME_LABEL.to_owned(),
        ValidUntil::Date(date) => date.format("%Y-%m-%d").to_string(),
    };
    let address = &event.address;
    let fields: [(&str, &str); 20] = [
        ("nik", event.nik.as_str()),
        ("name", &event.name),
        ("birth_place", &event.birth_place),
        ("birth_date", &event.birth_date.format("%Y-%m-%d").to_string()),
        ("sex", event.sex.label()),
        ("blood_type", event.blood_type.label()),
        ("address.street", &address.street),
        ("address.rt_rw", &address.rt_rw),
        ("address.village", &address.village),
        ("address.district", &address.district),
        ("address.regency", &address.regency),
        ("address.province", &address.province),
        ("religion", event.religion.label()),
        ("marital_status", event.marital_status.label()),
        ("occupation", &event.occupation),
        ("citizenship", event.citizenship.label()),
        ("valid_until", &valid_until),
        ("photo.sha256", &hex::encode(Sha256::digest(&event.photo.bytes))),
        ("signature.sha256", &hex::encode(Sha256::digest(&event.signature.bytes))),
        ("template", template),
    ];
    let mut text = String::from(CARD_LABEL);
    for (key, value) in fields {
        text.push('\n');
        text.push_str(key);
        text.push('=');
        text.push_str(value);
    }
    text
}

/// The SHA-256 of [`canonical_card`], as 64 lowercase hex digits.
pub fn card_digest(event: &EnrollmentEvent, template: &str) -> String {
    hex::encode(Sha256::digest(canonical_card(event, template).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{parse_admitted_event, ImageLimits};

    fn sample() -> EnrollmentEvent {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/events/01-merangin-hamidah.json"))
            .expect("the sample event");
        parse_admitted_event(&bytes, &ImageLimits::default()).expect("a valid sample")
    }

    #[test]
    fn the_canonical_text_is_the_label_then_each_printed_field_a_line() {
        let event = sample();
        let text = canonical_card(&event, "ektp");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "cardspool.card.v1");
        assert_eq!(lines[1], "nik=1502015203850001");
        assert_eq!(lines[2], "name=HAMIDAH");
        assert_eq!(lines.len(), 21);
        assert!(lines[18].starts_with("photo.sha256=") && lines[18].len() == "photo.sha256=".len() + 64);
        assert_eq!(lines[20], "template=ektp");
        // The worked example of docs/central-api.md.
        assert_eq!(card_digest(&event, "ektp"), hex::encode(Sha256::digest(text.as_bytes())));
        assert_eq!(card_digest(&event, "ektp"), "504fd5187e6bd2cbc64679673c495c2bfe437d30183181c233634561731ebe33");
    }

    #[test]
    fn any_printed_difference_changes_the_digest() {
        let event = sample();
        let digest = card_digest(&event, "ektp");
        let mut renamed = event.clone();
        renamed.name.push('A');
        let mut new_photo = event.clone();
        *new_photo.photo.bytes.last_mut().expect("a photo") ^= 1;
        let mut moved = event.clone();
        moved.address.rt_rw = "009/002".into();
        for (what, other) in [
            ("name", card_digest(&renamed, "ektp")),
            ("photo", card_digest(&new_photo, "ektp")),
            ("address", card_digest(&moved, "ektp")),
            ("template", card_digest(&event, "ektp-2027")),
        ] {
            assert_ne!(other, digest, "{what}");
        }
        let mut urgent = event.clone();
        urgent.priority = crate::domain::event::Priority::Urgent;
        urgent.office = "9999".into();
        assert_eq!(card_digest(&urgent, "ektp"), digest, "what is not printed is not covered");
    }
}
