//! QR codes for the card: encoding, and placement on the printer's dot grid.

use fast_qr::qr::QRBuilder;

use super::fit::BoxMm;
use super::template::{QrEcl, QrItem};

/// Light modules around the symbol that a reader needs to find it (ISO/IEC 18004).
pub const QUIET_ZONE_MODULES: usize = 4;

/// The modules of a QR symbol, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    size: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `payload` (byte mode).
    ///
    /// # Errors
    /// When the payload is too long for any QR version at this error-correction level.
    pub fn encode(payload: &str, ecl: QrEcl) -> Result<QrMatrix, String> {
        let ecl = match ecl {
            QrEcl::L => fast_qr::ECL::L,
            QrEcl::M => fast_qr::ECL::M,
            QrEcl::Q => fast_qr::ECL::Q,
            QrEcl::H => fast_qr::ECL::H,
        };
        let code = QRBuilder::new(payload.as_bytes().to_vec())
            .ecl(ecl)
            .build()
            .map_err(|e| format!("cannot encode {} bytes as a QR code: {e}", payload.len()))?;
        let dark = (0..code.size).flat_map(|row| code[row].iter().map(|m| m.value()).collect::<Vec<_>>()).collect();
        Ok(QrMatrix { size: code.size, dark })
    }

    /// Modules per side, without the quiet zone.
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn is_dark(&self, row: usize, column: usize) -> bool {
        self.dark[row * self.size + column]
    }

    /// Runs of dark modules per row as `(row, first column, length)`: one rectangle each.
    pub fn dark_runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        (0..self.size).flat_map(move |row| {
            let mut runs = Vec::new();
            let mut column = 0;
            while column < self.size {
                if self.is_dark(row, column) {
                    let start = column;
                    while column < self.size && self.is_dark(row, column) {
                        column += 1;
                    }
                    runs.push((row, start, column - start));
                } else {
                    column += 1;
                }
            }
            runs
        })
    }
}

impl QrMatrix {
    /// The dark modules as rectangles `(row, column, width, height)` in modules: runs of a row,
    /// merged with identical runs of the rows below. Fewer, larger shapes than one per module
    /// or per run: a smaller content stream, less to write per card.
    pub fn dark_rects(&self) -> Vec<(usize, usize, usize, usize)> {
        let mut done: Vec<(usize, usize, usize, usize)> = Vec::new();
        // Open rectangles, keyed by (column, width), still growing downwards.
        let mut open: Vec<(usize, usize, usize, usize)> = Vec::new();
        let mut all_runs = self.dark_runs().peekable();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for row in 0..self.size {
            runs.clear();
            while let Some((_, column, width)) = all_runs.next_if(|&(run_row, _, _)| run_row == row) {
                runs.push((column, width));
            }
            let mut still_open = Vec::with_capacity(open.len());
            for rect in open.drain(..) {
                if let Some(index) = runs.iter().position(|&(c, w)| c == rect.1 && w == rect.2) {
                    runs.swap_remove(index);
                    still_open.push((rect.0, rect.1, rect.2, rect.3 + 1));
                } else {
                    done.push(rect);
                }
            }
            still_open.extend(runs.iter().map(|&(c, w)| (row, c, w, 1)));
            open = still_open;
        }
        done.extend(open);
        done
    }
}

/// A QR symbol placed on the card: `x`, `y` is the top-left of its quiet zone.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedQr {
    pub matrix: QrMatrix,
    pub x: f32,
    pub y: f32,
    pub module_mm: f32,
}

impl PlacedQr {
    /// The symbol with its quiet zone.
    pub fn outer(&self) -> BoxMm {
        let side = (self.matrix.size + 2 * QUIET_ZONE_MODULES) as f32 * self.module_mm;
        BoxMm { x: self.x, y: self.y, width: side, height: side }
    }
}

/// Encodes and places a QR item: modules of whole printer dots, quiet zone included, centred in
/// the item's box with its corner on the dot grid.
///
/// # Errors
/// When the payload cannot be encoded, or the symbol with its quiet zone is larger than the box.
pub fn place_qr(payload: &str, item: &QrItem) -> Result<PlacedQr, String> {
    let matrix = QrMatrix::encode(payload, item.ecl)?;
    let dot_mm = 25.4 / item.dpi as f32;
    let module_mm = item.module_dots as f32 * dot_mm;
    let side = (matrix.size + 2 * QUIET_ZONE_MODULES) as f32 * module_mm;
    let bx = item.bx;
    if side > bx.width + 1e-4 || side > bx.height + 1e-4 {
        return Err(format!(
            "a {n}x{n} QR code with {dots}-dot modules and its quiet zone needs {side:.2} mm, the box is {w:.2} x {h:.2} mm",
            n = matrix.size,
            dots = item.module_dots,
            w = bx.width,
            h = bx.height
        ));
    }
    let snap = |start: f32, room: f32| {
        let centred = start + (room - side) / 2.0;
        let snapped = (centred / dot_mm).floor() * dot_mm;
        if snapped < start - 1e-4 {
            snapped + dot_mm
        } else {
            snapped
        }
    };
    Ok(PlacedQr { matrix, x: snap(bx.x, bx.width), y: snap(bx.y, bx.height), module_mm })
}

#[cfg(test)]
mod tests {
    use super::super::template::TextTemplate;
    use super::*;

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let matrix = QrMatrix::encode("1502015203850001|0190f1c2-aaaa-7bbb-8ccc-0123456789ab", QrEcl::M).unwrap();
        let mut covered = vec![false; matrix.size() * matrix.size()];
        for (row, start, length) in matrix.dark_runs() {
            for column in start..start + length {
                covered[row * matrix.size() + column] = true;
            }
        }
        for row in 0..matrix.size() {
            for column in 0..matrix.size() {
                assert_eq!(covered[row * matrix.size() + column], matrix.is_dark(row, column));
            }
        }
    }

    #[test]
    fn rects_cover_exactly_the_dark_modules_once() {
        let matrix = QrMatrix::encode("1502015203850001|0190f1c2-aaaa-7bbb-8ccc-0123456789ab", QrEcl::M).unwrap();
        let mut cover = vec![0u8; matrix.size() * matrix.size()];
        let rects = matrix.dark_rects();
        for &(row, column, width, height) in &rects {
            for r in row..row + height {
                for c in column..column + width {
                    cover[r * matrix.size() + c] += 1;
                }
            }
        }
        for row in 0..matrix.size() {
            for column in 0..matrix.size() {
                assert_eq!(cover[row * matrix.size() + column], u8::from(matrix.is_dark(row, column)));
            }
        }
        assert!(rects.len() < matrix.dark_runs().count(), "merging should save shapes");
    }

    #[test]
    fn placed_on_whole_dots_inside_the_box() {
        let item = QrItem {
            payload: TextTemplate::parse("{nik}").unwrap(),
            bx: BoxMm { x: 60.3, y: 10.1, width: 20.0, height: 20.0 },
            module_dots: 3,
            dpi: 300,
            ecl: QrEcl::M,
        };
        let placed = place_qr("1502015203850001|0190f1c2-aaaa-7bbb-8ccc-0123456789ab", &item).unwrap();
        let dot = 25.4 / 300.0;
        assert!((placed.module_mm - 3.0 * dot).abs() < 1e-6);
        for coordinate in [placed.x, placed.y] {
            let dots = coordinate / dot;
            assert!((dots - dots.round()).abs() < 1e-3, "{coordinate} is not on the dot grid");
        }
        let outer = placed.outer();
        assert!(outer.x >= item.bx.x && outer.right() <= item.bx.right() + 1e-4);
        assert!(outer.y >= item.bx.y && outer.bottom() <= item.bx.bottom() + 1e-4);
        let small = QrItem { bx: BoxMm { width: 8.0, height: 8.0, ..item.bx }, ..item };
        assert!(place_qr("1502015203850001|0190f1c2", &small).unwrap_err().contains("needs"));
    }
}
