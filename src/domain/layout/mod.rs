//! Card layouts: the template model, fit-to-box, and laying out one card.
//!
//! Architecture invariant: pure. Templates arrive as text, fonts as metric tables, images as
//! their pixel sizes; what comes out is a list of [`Drawing`]s in millimetres. Reading files,
//! parsing fonts and writing PDF are the render adapter's (`crate::render`).

pub mod card;
pub mod fit;
pub mod qr;
pub mod template;

pub use card::{CardContext, CardValues, Drawing, Layout, LayoutError, PagePlan, Segment};
pub use fit::{
    fit_text, BoxMm, FitError, FittedText, FontMetrics, HorizontalAlign, TextStyle, VerticalAlign, MM_PER_PT,
};
pub use qr::{PlacedQr, QrMatrix, QUIET_ZONE_MODULES};
pub use template::{parse_template, Field, ImageSource, Rgb, Template, TemplateError, ID1_HEIGHT_MM, ID1_WIDTH_MM};
