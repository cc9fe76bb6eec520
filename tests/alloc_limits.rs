//! Peak allocation of `parse_event` on hostile payloads (issue 11: "no allocation beyond the
//! configured limits"). In the `serial` test binary, because a counting allocator is a whole
//! binary's.
//!
//! The allocator is `peak_alloc`'s: a wrapper around the system allocator that keeps the bytes
//! allocated now and at the peak (the project forbids `unsafe`, which implementing `GlobalAlloc`
//! needs). Its counters count every thread's allocations and libtest runs tests on threads, so
//! each test holds one lock from start to end.

use std::fmt::Write as _;

use base64::Engine as _;
use cardspool::domain::event::{parse_event, ImageLimits};
use peak_alloc::PeakAlloc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Every other test of the binary waits meanwhile (`crate::SERVICES`).
fn alone() -> tokio::sync::MutexGuard<'static, ()> {
    crate::SERVICES.blocking_lock()
}

const MIB: usize = 1024 * 1024;

/// How many bytes serde_json's `Value` may take for each byte of JSON text: `[0,0,...]` is two
/// bytes of text for each 32-byte `Value`, in a `Vec` that may have doubled its capacity and, while
/// it grows, holds the old buffer beside the new one. Measured at most 48
/// (`json_structure_grows_at_most_linearly`).
const JSON_BYTES_PER_TEXT_BYTE: usize = 56;

/// The most one `parse_event` may allocate at its peak: the JSON tree, the larger of the two
/// image limits decoded (`check_image` caps a decoder at 8 bytes a pixel plus 1 MiB; the images
/// are decoded one after the other), and 16 MiB for everything else.
fn bound(payload: &[u8], limits: &ImageLimits) -> usize {
    let pixels = limits.photo_max_pixels.max(limits.signature_max_pixels) as usize;
    JSON_BYTES_PER_TEXT_BYTE * payload.len() + 8 * pixels + 16 * MIB
}

/// The limits of the bomb tests: the 60000x60000 claims are 36,000 times too many pixels.
const SMALL: ImageLimits = ImageLimits {
    photo_max_bytes: 64 * 1024,
    photo_max_pixels: 100_000,
    signature_max_bytes: 64 * 1024,
    signature_max_pixels: 100_000,
};

/// Runs `parse_event` and returns whether it accepted the payload and the bytes allocated at its
/// peak above what was allocated before.
fn peak_of_parse(payload: &[u8], limits: &ImageLimits) -> (Result<(), String>, usize) {
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let outcome = parse_event(payload, limits).map(drop).map_err(|error| error.to_string());
    (outcome, ALLOCATOR.peak_usage().saturating_sub(before))
}

fn sample() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/events/01-merangin-hamidah.json");
    serde_json::from_slice(&std::fs::read(path).expect("a sample event")).expect("JSON")
}

fn decoded(event: &Value, field: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(event[field].as_str().expect("an image")).expect("base64")
}

fn with_images(photo: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut event = sample();
    event["photo"] = Value::from(base64::engine::general_purpose::STANDARD.encode(photo));
    event["signature"] = Value::from(base64::engine::general_purpose::STANDARD.encode(signature));
    serde_json::to_vec(&event).expect("serializes")
}

fn png_chunk(kind: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(&kind);
    chunk.extend_from_slice(data);
    let crc = crc32fast::hash(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    chunk
}

/// A PNG whose header claims `width` x `height` (8-bit RGBA) and whose data is `idat`, with
/// `extra` chunks between the two.
fn png(width: u32, height: u32, extra: &[Vec<u8>], idat: &[u8]) -> Vec<u8> {
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(*b"IHDR", &header));
    for chunk in extra {
        png.extend_from_slice(chunk);
    }
    png.extend(png_chunk(*b"IDAT", idat));
    png.extend(png_chunk(*b"IEND", &[]));
    png
}

/// A real JPEG (the sample's photo) whose frame header claims `width` x `height`.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = decoded(&sample(), "photo");
    let sof = jpeg.windows(2).position(|pair| matches!(pair, [0xFF, 0xC0..=0xC2])).expect("a frame header");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

#[test]
fn images_claiming_60000_by_60000_pixels_are_refused_from_the_header() {
    let _alone = alone();
    let signature = decoded(&sample(), "signature");
    let zlib_of_nothing = miniz_oxide::deflate::compress_to_vec_zlib(&[0; 64], 6);
    for photo in [png(60_000, 60_000, &[], &zlib_of_nothing), jpeg_claiming(60_000, 60_000)] {
        let payload = with_images(&photo, &signature);
        let (outcome, peak) = peak_of_parse(&payload, &SMALL);
        let reason = outcome.expect_err("refused");
        assert!(reason.contains("60000x60000 pixels"), "{reason}");
        // Not decoded at all: the JSON and the base64 only.
        assert!(peak < 4 * payload.len() + MIB, "{peak} bytes at the peak for a {} byte payload", payload.len());
    }
}

#[test]
fn images_within_the_pixel_limit_without_their_data_stay_within_the_bound() {
    let _alone = alone();
    let signature = decoded(&sample(), "signature");
    // 316 x 316 = 99,856 pixels: the header passes, the data is missing, cut off or too short.
    let zlib_of_nothing = miniz_oxide::deflate::compress_to_vec_zlib(&[0; 64], 6);
    let jpeg = jpeg_claiming(316, 316);
    for (photo, refused) in [
        (png(316, 316, &[], &[]), true),
        (png(316, 316, &[], &zlib_of_nothing), true),
        (jpeg[..jpeg.len() / 3].to_vec(), true),
        // The 300x400 sample's data read as 316x316: garbled but whole, so accepted.
        (jpeg, false),
    ] {
        let payload = with_images(&photo, &signature);
        let (outcome, peak) = peak_of_parse(&payload, &SMALL);
        assert_eq!(outcome.is_err(), refused, "{outcome:?}");
        assert!(peak < bound(&payload, &SMALL), "{peak} bytes at the peak");
    }
}

/// A PNG of one pixel carrying a colour profile (iCCP) that inflates 1,000-fold: 64 KiB of
/// payload, 64 MiB once inflated.
#[test]
fn a_compressed_colour_profile_cannot_inflate_beyond_the_bound() {
    let _alone = alone();
    let mut profile = b"icc\0\0".to_vec();
    profile.extend(miniz_oxide::deflate::compress_to_vec_zlib(&vec![0; 64 * MIB], 10));
    let pixel = miniz_oxide::deflate::compress_to_vec_zlib(&[0, 0, 0, 0, 0], 6);
    let photo = png(1, 1, &[png_chunk(*b"iCCP", &profile)], &pixel);
    assert!(photo.len() < SMALL.photo_max_bytes, "{} bytes", photo.len());
    let payload = with_images(&photo, &decoded(&sample(), "signature"));
    let (_, peak) = peak_of_parse(&payload, &SMALL);
    assert!(peak < bound(&payload, &SMALL), "{} MiB at the peak", peak / MIB);
}

#[test]
fn json_structure_grows_at_most_linearly() {
    let _alone = alone();
    let limits = ImageLimits::default();
    let two_mib = 2 * MIB; // intake's max_event_bytes: larger payloads are never parsed
    let zeros = format!("{{\"x\":[{}0]}}", "0,".repeat(two_mib / 2));
    let empty_arrays = format!("{{\"x\":[{}[]]}}", "[],".repeat(two_mib / 3));
    let mut keys = String::from("{");
    for i in 0..two_mib / 12 {
        write!(keys, "\"{i:x}\":0,").expect("a String takes any text");
    }
    keys.push_str("\"\":0}");
    let nested = "[".repeat(two_mib);
    for payload in [zeros, empty_arrays, keys, nested] {
        let (outcome, peak) = peak_of_parse(payload.as_bytes(), &limits);
        assert!(outcome.is_err());
        let per_byte = peak as f64 / payload.len() as f64;
        println!("{per_byte:.1} bytes allocated per byte of {:?}...", &payload[..12]);
        assert!(peak < JSON_BYTES_PER_TEXT_BYTE * payload.len() + MIB, "{per_byte:.1} bytes per byte");
    }
}

/// Every sample, and each with its images damaged at random (a fixed seed): cut off, bytes
/// changed, the header's dimensions rewritten.
#[test]
fn samples_and_damaged_samples_stay_within_the_bound() {
    let _alone = alone();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/events");
    let mut paths: Vec<_> = std::fs::read_dir(dir).expect("samples").map(|e| e.expect("an entry").path()).collect();
    paths.sort();
    let mut random = StdRng::seed_from_u64(11);
    let limits = ImageLimits::default();
    for path in paths {
        let text = std::fs::read(&path).expect("a sample");
        let (outcome, peak) = peak_of_parse(&text, &limits);
        assert!(outcome.is_ok(), "{}: {outcome:?}", path.display());
        assert!(peak < bound(&text, &limits), "{}: {peak} bytes", path.display());
        let event: Value = serde_json::from_slice(&text).expect("JSON");
        for damage in 0..3 {
            let (mut photo, mut signature) = (decoded(&event, "photo"), decoded(&event, "signature"));
            let image = if random.gen() { &mut photo } else { &mut signature };
            match damage {
                0 => image.truncate(random.gen_range(0..image.len())),
                1 => {
                    for _ in 0..random.gen_range(1..8) {
                        let at = random.gen_range(0..image.len());
                        image[at] = random.gen();
                    }
                }
                _ => {
                    // PNG IHDR (the CRC left wrong) or the JPEG's first bytes after SOI.
                    let at = random.gen_range(2..33);
                    image[at] = random.gen();
                }
            }
            let mut event = event.clone();
            event["photo"] = Value::from(base64::engine::general_purpose::STANDARD.encode(&photo));
            event["signature"] = Value::from(base64::engine::general_purpose::STANDARD.encode(&signature));
            let payload = serde_json::to_vec(&event).expect("serializes");
            let (_, peak) = peak_of_parse(&payload, &limits);
            assert!(peak < bound(&payload, &limits), "{} damage {damage}: {peak} bytes", path.display());
        }
    }
}
