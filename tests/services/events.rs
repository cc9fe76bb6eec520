//! Valid enrollment events made up in code, for tests that need many distinct ones.

use std::io::Cursor;

use base64::Engine as _;
use image::{ImageBuffer, Rgb, Rgba};

fn jpeg(width: u32, height: u32, shade: u8) -> Vec<u8> {
    let image: ImageBuffer<Rgb<u8>, Vec<u8>> =
        ImageBuffer::from_fn(width, height, |x, y| Rgb([shade, (x * 7) as u8, (y * 5) as u8]));
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg).expect("encode JPEG");
    bytes
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image: ImageBuffer<Rgba<u8>, Vec<u8>> = ImageBuffer::from_fn(width, height, |x, y| {
        if (x + y) % 9 == 0 {
            Rgba([10, 10, 60, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).expect("encode PNG");
    bytes
}

/// A valid event; `n` makes the event id and the NIK's serial distinct.
pub fn synthetic_event(event_id: &str, n: u32) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::json!({
        "schema": 1,
        "event_id": event_id,
        "type": "enrollment.completed",
        "occurred_at": "2026-11-27T09:12:00+07:00",
        "office": "1502",
        "priority": if n % 10 == 0 { "urgent" } else { "normal" },
        "nik": format!("150201520385{:04}", (n % 9_999) + 1),
        "name": "HAMIDAH",
        "birth_place": "BANGKO",
        "birth_date": "1985-03-12",
        "sex": "PEREMPUAN",
        "blood_type": "O",
        "address": {"street": "JL. SUDIRMAN NO. 1", "rt_rw": "001/002", "village": "PASAR BANGKO",
                    "district": "BANGKO", "regency": "MERANGIN", "province": "JAMBI"},
        "religion": "ISLAM",
        "marital_status": "KAWIN",
        "occupation": "WIRASWASTA",
        "citizenship": "WNI",
        "valid_until": "SEUMUR HIDUP",
        "photo": b64.encode(jpeg(30, 40, (n % 200) as u8)),
        "signature": b64.encode(png(40, 16)),
    })
}

pub fn synthetic_payload(event_id: &str, n: u32) -> Vec<u8> {
    serde_json::to_vec(&synthetic_event(event_id, n)).expect("serialise")
}
