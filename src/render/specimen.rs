//! A specimen card: a made-up holder with generated photo and signature, for `template check`,
//! layout previews, tests and the benchmark. No real person's data.

use std::io::Cursor;

use base64::Engine as _;
use chrono::NaiveDate;
use image::{ImageEncoder as _, Rgb, RgbImage, Rgba, RgbaImage};

use crate::domain::event::{parse_event, EnrollmentEvent, ImageLimits};
use crate::domain::layout::CardContext;

/// A passport-style photo: 300 x 400 pixels (25 x 33 mm at about 300 ppi), JPEG.
pub fn photo_jpeg() -> Vec<u8> {
    let photo = RgbImage::from_fn(300, 400, |x, y| {
        let (dx, dy) = (x as f32 - 150.0, y as f32 - 170.0);
        let head = (dx / 80.0).powi(2) + (dy / 100.0).powi(2) < 1.0;
        let shoulders = y > 300 && (dx / 140.0).powi(2) + ((y as f32 - 420.0) / 120.0).powi(2) < 1.0;
        if head {
            Rgb([224, 182, 150])
        } else if shoulders {
            Rgb([40, 44, 60])
        } else {
            Rgb([205, 40, 45])
        }
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .write_image(photo.as_raw(), 300, 400, image::ExtendedColorType::Rgb8)
        .expect("encoding to memory cannot fail");
    bytes
}

/// A signature: a dark stroke on a transparent background, 400 x 150 pixels, PNG.
pub fn signature_png() -> Vec<u8> {
    let signature = RgbaImage::from_fn(400, 150, |x, y| {
        let curve = 75.0 + 35.0 * (x as f32 / 28.0).sin() * (1.0 - x as f32 / 500.0);
        if x > 30 && x < 370 && (y as f32 - curve).abs() < 3.0 {
            Rgba([20, 20, 60, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(Cursor::new(&mut bytes))
        .write_image(signature.as_raw(), 400, 150, image::ExtendedColorType::Rgba8)
        .expect("encoding to memory cannot fail");
    bytes
}

/// The specimen event as JSON, to be changed field by field in tests.
pub fn event_json() -> serde_json::Value {
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
    serde_json::json!({
        "schema": 1,
        "event_id": "specimen-0001",
        "type": "enrollment.completed",
        "occurred_at": "2026-11-27T09:12:00+07:00",
        "office": "1502",
        "template": "ektp",
        "nik": "1502015203850001",
        "name": "HAMIDAH",
        "birth_place": "BANGKO",
        "birth_date": "1985-03-12",
        "sex": "PEREMPUAN",
        "blood_type": "O",
        "address": {
            "street": "JL. SUDIRMAN NO. 1",
            "rt_rw": "001/002",
            "village": "PASAR BANGKO",
            "district": "BANGKO",
            "regency": "MERANGIN",
            "province": "JAMBI"
        },
        "religion": "ISLAM",
        "marital_status": "KAWIN",
        "occupation": "WIRASWASTA",
        "citizenship": "WNI",
        "valid_until": "SEUMUR HIDUP",
        "photo": b64(photo_jpeg()),
        "signature": b64(signature_png()),
    })
}

/// Parses an event in JSON form (as [`event_json`] gives, possibly changed).
///
/// # Panics
/// When the JSON is not a valid event: specimens are made in code, a bad one is a bug.
pub fn parse(json: &serde_json::Value) -> EnrollmentEvent {
    parse_event(json.to_string().as_bytes(), &ImageLimits::default()).expect("the specimen is a valid event")
}

/// The specimen event.
pub fn event() -> EnrollmentEvent {
    parse(&event_json())
}

/// A fixed job context for the specimen (fixed ids, so the QR payload is known).
pub fn context() -> CardContext {
    CardContext {
        job_id: "0190f1c2-8c3e-7b4a-9d2e-5f6a7b8c9d0e".parse().expect("a valid UUID"),
        authorization_id: None,
        issue_place: "MERANGIN".into(),
        issue_date: NaiveDate::from_ymd_opt(2026, 11, 27).expect("a valid date"),
    }
}
