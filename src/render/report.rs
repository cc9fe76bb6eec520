//! The daily report as a one-page A4 PDF (printpdf, PDF's built-in Helvetica: the report holds
//! figures and names, nothing that needs a font of its own): the printers' day, the jobs' day,
//! a bar chart of cards printed per hour, and a line for the supervisor's signature.

use printpdf::{
    BuiltinFont, Color, Line, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point,
    Pt, Rect, TextItem, TextMatrix, WindingOrder,
};

use crate::domain::report::DailyReport;

const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const MARGIN: f32 = 18.0;

/// Builds the report's PDF.
pub fn daily_report_pdf(report: &DailyReport) -> Vec<u8> {
    let mut page = Page { ops: Vec::new(), y: MARGIN, height: PAGE_HEIGHT };
    let zone = report.zone;
    page.text(16.0, true, MARGIN, &format!("Daily report - Laporan harian {}", report.day()));
    page.text(
        10.0,
        false,
        MARGIN,
        &format!("Office {}, times in {}; made {}", report.office, zone.name(), zone.format(report.made_at)),
    );
    page.gap(4.0);

    page.text(12.0, true, MARGIN, "Printers - Printer");
    let columns = [MARGIN, 62.0, 84.0, 106.0, 124.0, 148.0, 174.0];
    page.row(&columns, true, &["printer", "printed", "spoiled", "test", "in doubt", "blanks loaded", "blanks at end"]);
    if report.printers.is_empty() {
        page.text(10.0, false, MARGIN, "No printer took a card this day.");
    }
    for printer in &report.printers {
        let stock = printer.stock_at_day_end.map_or_else(|| "not counted".to_owned(), |n| n.to_string());
        page.row(
            &columns,
            false,
            &[
                &printer.printer,
                &printer.printed.to_string(),
                &printer.spoiled.to_string(),
                &printer.test.to_string(),
                &printer.unsettled.to_string(),
                &printer.blanks_loaded.to_string(),
                &stock,
            ],
        );
        for reason in &printer.spoiled_reasons {
            page.text(9.0, false, MARGIN + 6.0, &format!("spoiled: {reason}"));
        }
    }
    page.gap(4.0);

    page.text(12.0, true, MARGIN, "Jobs - Pekerjaan");
    let jobs = &report.jobs;
    page.text(
        10.0,
        false,
        MARGIN,
        &format!(
            "received {}   printed {}   rejected {}   refused at intake {}",
            jobs.received, jobs.printed, jobs.rejected, jobs.refused_at_intake
        ),
    );
    let oldest =
        jobs.oldest_waiting_since.map_or_else(String::new, |at| format!(", the oldest since {}", zone.format(at)));
    page.text(10.0, false, MARGIN, &format!("still waiting when the report was made: {}{oldest}", jobs.still_waiting));
    page.gap(4.0);

    page.text(12.0, true, MARGIN, "Cards printed per hour - Kartu tercetak per jam");
    page.chart(&report.printed_per_hour);
    page.gap(12.0);

    page.text(10.0, false, MARGIN, "Supervisor (name, signature, date) - Pengawas (nama, tanda tangan, tanggal):");
    page.gap(12.0);
    page.line(MARGIN, PAGE_WIDTH - MARGIN);

    let mut document = PdfDocument::new(&format!("Daily report {} {}", report.office, report.day()));
    document.pages.push(PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), page.ops));
    let options = PdfSaveOptions { optimize: false, subset_fonts: false, secure: true, image_optimization: None };
    document.save(&options, &mut Vec::new())
}

/// What the citizen's slip says: which card, for whom, where it stands.
#[derive(Debug, Clone)]
pub struct Slip {
    pub office: String,
    pub job_id: String,
    pub event_id: String,
    pub name: String,
    /// Masked, as staff lists show it.
    pub nik_masked: String,
    pub state: String,
    pub estimate: String,
    /// When the slip was printed, in the office's zone.
    pub made_at: String,
}

/// The slip a citizen takes home (A6, one page): the card's reference to quote at the counter,
/// the name and masked NIK, where the card stands and when it is expected.
pub fn slip_pdf(slip: &Slip) -> Vec<u8> {
    const WIDTH: f32 = 105.0;
    const HEIGHT: f32 = 148.0;
    let mut page = Page { ops: Vec::new(), y: 10.0, height: HEIGHT };
    page.text(13.0, true, 10.0, "e-KTP card - Kartu e-KTP");
    page.text(9.0, false, 10.0, &format!("Office {} - {}", slip.office, slip.made_at));
    page.gap(4.0);
    page.text(9.0, true, 10.0, "Reference - Nomor referensi");
    page.text(10.0, false, 10.0, &slip.job_id);
    page.text(8.0, false, 10.0, &format!("event {}", slip.event_id));
    page.gap(3.0);
    page.text(9.0, true, 10.0, "Name - Nama");
    page.text(10.0, false, 10.0, &slip.name);
    page.text(9.0, true, 10.0, "NIK");
    page.text(10.0, false, 10.0, &slip.nik_masked);
    page.gap(3.0);
    page.text(9.0, true, 10.0, "State - Status");
    page.text(10.0, false, 10.0, &slip.state);
    page.gap(3.0);
    page.text(9.0, true, 10.0, "When - Perkiraan");
    for line in wrap(&slip.estimate, 48) {
        page.text(9.5, false, 10.0, &line);
    }
    page.gap(6.0);
    page.text(8.0, false, 10.0, "Quote the reference at the counter. - Sebutkan nomor referensi di loket.");
    let mut document = PdfDocument::new(&format!("Slip {}", slip.job_id));
    document.pages.push(PdfPage::new(Mm(WIDTH), Mm(HEIGHT), page.ops));
    let options = PdfSaveOptions { optimize: false, subset_fonts: false, secure: true, image_optimization: None };
    document.save(&options, &mut Vec::new())
}

/// Words of `text` in lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// A page written top to bottom: `y` is the next line's top, in millimetres from the top.
struct Page {
    ops: Vec<Op>,
    y: f32,
    /// The page's height in millimetres (PDF measures from the bottom).
    height: f32,
}

impl Page {
    fn gap(&mut self, mm: f32) {
        self.y += mm;
    }

    fn put(&mut self, size: f32, bold: bool, x: f32, baseline: f32, text: &str) {
        let font = if bold { BuiltinFont::HelveticaBold } else { BuiltinFont::Helvetica };
        self.ops.push(Op::StartTextSection);
        self.ops.push(Op::SetFont { font: PdfFontHandle::Builtin(font), size: Pt(size) });
        self.ops.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Mm(x).into_pt(), Mm(self.height - baseline).into_pt()),
        });
        self.ops.push(Op::ShowText { items: vec![TextItem::Text(latin(text))] });
        self.ops.push(Op::EndTextSection);
    }

    fn text(&mut self, size: f32, bold: bool, x: f32, text: &str) {
        let line = size * 0.3528 * 1.45;
        self.put(size, bold, x, self.y + line * 0.8, text);
        self.y += line;
    }

    fn row(&mut self, columns: &[f32], bold: bool, cells: &[&str]) {
        let line = 10.0 * 0.3528 * 1.45;
        for (x, cell) in columns.iter().zip(cells) {
            self.put(9.5, bold, *x, self.y + line * 0.8, cell);
        }
        self.y += line;
    }

    fn line(&mut self, from: f32, to: f32) {
        let height = self.height;
        let point =
            |x: f32, y: f32| LinePoint { p: Point { x: Mm(x).into_pt(), y: Mm(height - y).into_pt() }, bezier: false };
        self.ops.push(Op::SetOutlineColor { col: black() });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(0.6) });
        self.ops.push(Op::DrawLine {
            line: Line { points: vec![point(from, self.y), point(to, self.y)], is_closed: false },
        });
    }

    /// 24 bars, one an hour, scaled to the busiest hour; its count above each bar.
    fn chart(&mut self, per_hour: &[i64; 24]) {
        let (height, top) = (40.0, self.y + 6.0);
        let bottom = top + height;
        let width = (PAGE_WIDTH - 2.0 * MARGIN) / 24.0;
        let most = per_hour.iter().copied().max().unwrap_or(0).max(1) as f32;
        self.ops
            .push(Op::SetFillColor { col: Color::Rgb(printpdf::Rgb { r: 0.2, g: 0.4, b: 0.7, icc_profile: None }) });
        for (hour, printed) in per_hour.iter().enumerate() {
            let x = MARGIN + width * hour as f32;
            if *printed > 0 {
                let bar = height * (*printed as f32 / most);
                self.ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: Mm(x + width * 0.15).into_pt(),
                        y: Mm(self.height - bottom).into_pt(),
                        width: Mm(width * 0.7).into_pt(),
                        height: Mm(bar).into_pt(),
                        mode: Some(PaintMode::Fill),
                        winding_order: Some(WindingOrder::NonZero),
                    },
                });
                self.put(7.0, false, x + width * 0.2, bottom - bar - 1.0, &printed.to_string());
            }
            self.put(7.0, false, x + width * 0.2, bottom + 4.0, &format!("{hour:02}"));
        }
        self.ops.push(Op::SetFillColor { col: black() });
        self.y = bottom + 6.0;
        self.line(MARGIN, PAGE_WIDTH - MARGIN);
    }
}

fn black() -> Color {
    Color::Rgb(printpdf::Rgb { r: 0.0, g: 0.0, b: 0.0, icc_profile: None })
}

/// What Helvetica's Latin encoding can show: the text as is when it is ASCII, with a few
/// typographic characters replaced and anything else as `?`.
fn latin(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c,
            '—' | '–' => '-',
            '‘' | '’' => '\'',
            '“' | '”' => '"',
            _ => '?',
        })
        .collect()
}
