//! The event's images as PDF image XObjects.
//!
//! A JPEG photo goes in as it came, a DCTDecode stream: no decoding, no second lossy pass, no
//! silent downscaling (printpdf's own image path does all three). A PNG (the signature, or a
//! PNG photo) is decoded and split into colour and an alpha soft mask, so a transparent
//! signature lies on the card's background.

use std::collections::BTreeMap;
use std::io::Cursor;

use printpdf::{DictItem, ExternalStream, ExternalXObject};

use crate::domain::event::{decoder_limits, EncodedImage, ImageFormat};

/// Fast deflate, where the PNG encoder is not used: a signature is mostly empty, level 1 already
/// shrinks it tenfold.
const DEFLATE_LEVEL: u8 = 1;

fn name(value: &str) -> DictItem {
    DictItem::Name(value.as_bytes().to_vec())
}

fn image_dict(width: u32, height: u32, color_space: &str, filter: &str) -> BTreeMap<String, DictItem> {
    BTreeMap::from([
        ("Type".to_owned(), name("XObject")),
        ("Subtype".to_owned(), name("Image")),
        ("Width".to_owned(), DictItem::Int(i64::from(width))),
        ("Height".to_owned(), DictItem::Int(i64::from(height))),
        ("ColorSpace".to_owned(), name(color_space)),
        ("BitsPerComponent".to_owned(), DictItem::Int(8)),
        ("Filter".to_owned(), name(filter)),
    ])
}

fn xobject(dict: BTreeMap<String, DictItem>, content: Vec<u8>) -> ExternalXObject {
    // `compress: false`: the content is already encoded (DCT or Flate) and says so in /Filter.
    ExternalXObject { stream: ExternalStream { dict, content, compress: false }, width: None, height: None, dpi: None }
}

/// The image as an XObject.
///
/// # Errors
/// A message when the image cannot be read (the event was validated, so this means a JPEG
/// with an unusual structure, such as 12-bit samples).
pub(crate) fn image_xobject(image: &EncodedImage) -> Result<ExternalXObject, String> {
    match image.format {
        ImageFormat::Jpeg => jpeg_xobject(image),
        ImageFormat::Png => png_xobject(image),
    }
}

fn jpeg_xobject(image: &EncodedImage) -> Result<ExternalXObject, String> {
    let frame = jpeg_frame(&image.bytes)?;
    let color_space = match frame.components {
        1 => "DeviceGray",
        3 => "DeviceRGB",
        4 => "DeviceCMYK",
        n => return Err(format!("JPEG with {n} colour components")),
    };
    if frame.precision != 8 {
        return Err(format!("JPEG with {}-bit samples (PDF takes 8)", frame.precision));
    }
    let mut dict = image_dict(frame.width, frame.height, color_space, "DCTDecode");
    if frame.components == 4 && frame.adobe {
        // Adobe writes CMYK JPEGs inverted; every PDF producer undoes it this way.
        dict.insert("Decode".into(), DictItem::Array([1, 0, 1, 0, 1, 0, 1, 0].map(DictItem::Int).to_vec()));
    }
    Ok(xobject(dict, image.bytes.clone()))
}

struct JpegFrame {
    width: u32,
    height: u32,
    components: u8,
    precision: u8,
    adobe: bool,
}

/// Reads the frame header (SOFn) and notes an Adobe APP14 marker, walking the marker segments.
fn jpeg_frame(bytes: &[u8]) -> Result<JpegFrame, String> {
    let mut position = 2;
    let mut adobe = false;
    while position + 4 <= bytes.len() {
        if bytes[position] != 0xFF {
            return Err("JPEG marker structure is broken".into());
        }
        let marker = bytes[position + 1];
        if marker == 0xFF {
            position += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([bytes[position + 2], bytes[position + 3]]));
        let segment = bytes.get(position + 4..position + 2 + length).ok_or("JPEG segment runs past the end")?;
        match marker {
            0xEE if segment.starts_with(b"Adobe") => adobe = true,
            // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if segment.len() < 6 {
                    return Err("JPEG frame header is too short".into());
                }
                return Ok(JpegFrame {
                    precision: segment[0],
                    height: u32::from(u16::from_be_bytes([segment[1], segment[2]])),
                    width: u32::from(u16::from_be_bytes([segment[3], segment[4]])),
                    components: segment[5],
                    adobe,
                });
            }
            0xDA => break,
            _ => {}
        }
        position += 2 + length;
    }
    Err("JPEG has no frame header".into())
}

fn png_xobject(png: &EncodedImage) -> Result<ExternalXObject, String> {
    // Under intake's cap for its pixels: under image's default (512 MiB), a compressed colour
    // profile (iCCP) inflates to hundreds of MiB from a small file (tests/alloc_limits.rs).
    let mut reader = image::ImageReader::with_format(Cursor::new(&png.bytes), image::ImageFormat::Png);
    reader.limits(decoder_limits(u64::from(png.width) * u64::from(png.height)));
    let decoded = reader.decode().map_err(|e| format!("PNG cannot be decoded: {e}"))?;
    let (width, height) = (decoded.width(), decoded.height());
    let has_alpha = decoded.color().has_alpha();
    let gray = !decoded.color().has_color();
    let deflate = |data: &[u8]| miniz_oxide::deflate::compress_to_vec_zlib(data, DEFLATE_LEVEL);

    let (color, alpha, color_space) = match (gray, has_alpha) {
        (true, false) => (decoded.into_luma8().into_raw(), None, "DeviceGray"),
        (false, false) => (decoded.into_rgb8().into_raw(), None, "DeviceRGB"),
        (true, true) => {
            let pixels = decoded.into_luma_alpha8().into_raw();
            let (color, alpha) = split_alpha::<2>(&pixels);
            (color, Some(alpha), "DeviceGray")
        }
        (false, true) => {
            let pixels = decoded.into_rgba8().into_raw();
            let (color, alpha) = split_alpha::<4>(&pixels);
            (color, Some(alpha), "DeviceRGB")
        }
    };
    let plane = |samples: &[u8], color_space: &str| {
        let colors = if color_space == "DeviceGray" { 1 } else { 3 };
        let mut dict = image_dict(width, height, color_space, "FlateDecode");
        match png_stream(samples, width, height, colors) {
            Some(content) => {
                dict.insert("DecodeParms".into(), png_predictor(width, colors));
                (dict, content)
            }
            None => (dict, deflate(samples)),
        }
    };
    let (mut dict, content) = plane(&color, color_space);
    if let Some(alpha) = alpha.filter(|alpha: &Vec<u8>| alpha.iter().any(|&a| a != 255)) {
        let (mask, mask_content) = plane(&alpha, "DeviceGray");
        let stream = ExternalStream { dict: mask, content: mask_content, compress: false };
        dict.insert("SMask".into(), DictItem::Stream { stream });
    }
    Ok(xobject(dict, content))
}

/// The samples as a zlib stream of PNG rows (a filter byte before each row), by the PNG encoder's
/// fastest mode (fdeflate, made for image rows): quicker than miniz's fastest level on a signature.
/// A PDF reader undoes the row filters itself ([`png_predictor`]).
///
/// The rows are filtered `Up` (each the difference to the row above): a signature's colour plane
/// is one ink colour, so every row after the first becomes zeros, which fdeflate's fast mode
/// compresses at memory speed. Unfiltered, the repeated colour defeated that mode and the
/// encoder stored the plane as it was: a card was 247 KB instead of 59 KB, and the signature
/// took a third of its rendering time (`docs/performance.md`, 2026-12-06).
/// `None` if the encoder refuses the samples (the caller then deflates them plainly).
fn png_stream(samples: &[u8], width: u32, height: u32, colors: u8) -> Option<Vec<u8>> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::ImageEncoder;
    let color_type = if colors == 1 { image::ExtendedColorType::L8 } else { image::ExtendedColorType::Rgb8 };
    let mut png = Vec::with_capacity(samples.len() / 8);
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Up)
        .write_image(samples, width, height, color_type)
        .ok()?;
    // The zlib stream is the IDAT chunks' data, in order: after the 8-byte signature, each chunk
    // is its length, type, data and CRC.
    let mut stream = Vec::with_capacity(png.len());
    let mut chunks = png.get(8..)?;
    while chunks.len() >= 12 {
        let length = u32::from_be_bytes(chunks[..4].try_into().ok()?) as usize;
        let data = chunks.get(8..8 + length)?;
        if &chunks[4..8] == b"IDAT" {
            stream.extend_from_slice(data);
        }
        chunks = chunks.get(12 + length..)?;
    }
    Some(stream)
}

/// `DecodeParms` for [`png_stream`]'s rows: PNG predictors, the filter chosen per row.
fn png_predictor(width: u32, colors: u8) -> DictItem {
    DictItem::Dict {
        map: BTreeMap::from([
            ("Predictor".to_owned(), DictItem::Int(15)),
            ("Colors".to_owned(), DictItem::Int(i64::from(colors))),
            ("BitsPerComponent".to_owned(), DictItem::Int(8)),
            ("Columns".to_owned(), DictItem::Int(i64::from(width))),
        ]),
    }
}

/// Splits interleaved pixels of `N` channels (the last one alpha) into colour and alpha planes.
fn split_alpha<const N: usize>(pixels: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let count = pixels.len() / N;
    let mut color = vec![0; count * (N - 1)];
    let mut alpha = vec![0; count];
    // Fixed-size chunks on both sides: the compiler turns this into straight-line copies.
    for ((pixel, out), a) in pixels.chunks_exact(N).zip(color.chunks_exact_mut(N - 1)).zip(alpha.iter_mut()) {
        out.copy_from_slice(&pixel[..N - 1]);
        *a = pixel[N - 1];
    }
    (color, alpha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_frame_header_is_found() {
        let mut bytes = Vec::new();
        let photo = image::RgbImage::from_pixel(30, 40, image::Rgb([200, 100, 50]));
        image::codecs::jpeg::JpegEncoder::new(&mut bytes).encode_image(&photo).unwrap();
        let frame = jpeg_frame(&bytes).unwrap();
        assert_eq!((frame.width, frame.height, frame.components, frame.precision), (30, 40, 3, 8));
        assert!(jpeg_frame(&bytes[..20]).is_err());
    }

    #[test]
    fn alpha_is_split_from_colour() {
        let (color, alpha) = split_alpha::<4>(&[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!((color, alpha), (vec![1, 2, 3, 5, 6, 7], vec![4, 8]));
        let (color, alpha) = split_alpha::<2>(&[9, 0, 8, 255]);
        assert_eq!((color, alpha), (vec![9, 8], vec![0, 255]));
    }
}
