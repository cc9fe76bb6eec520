//! The card renderer against the real tools: poppler (`pdfinfo`, `pdftotext`, `pdffonts`,
//! `pdfimages`, `pdftoppm`), `qpdf` and `zbarimg`. Every test renders through the public API
//! (`TemplateStore`) with the repository's own `templates/`, except the CLI tests, which run the
//! binary.
//!
//! Pixel snapshots live in `tests/snapshots/`; after an intended layout change regenerate them
//! with `UPDATE_SNAPSHOTS=1 cargo test --test integration render::snapshots` and look at the new
//! PNGs before committing them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use cardspool::domain::event::{parse_event, ImageLimits};
use cardspool::render::{specimen, CardContext, RenderError, TemplateStore};
use tempfile::TempDir;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn store() -> &'static TemplateStore {
    static STORE: OnceLock<TemplateStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let store = TemplateStore::load(&repo().join("templates")).expect("templates directory");
        assert!(
            store.problems().is_empty(),
            "{:?}",
            store.problems().iter().map(ToString::to_string).collect::<Vec<_>>()
        );
        store
    })
}

/// Runs a tool; a missing tool fails the test with the package to install.
fn run(tool: &str, args: &[&str]) -> std::process::Output {
    let package = match tool {
        "qpdf" => "qpdf",
        "zbarimg" => "zbar-tools",
        _ => "poppler-utils",
    };
    Command::new(tool).args(args).output().unwrap_or_else(|error| {
        panic!("cannot run {tool} ({error}): install it with `apt-get install {package}` (Debian package {package})")
    })
}

fn stdout(tool: &str, args: &[&str]) -> String {
    let output = run(tool, args);
    assert!(output.status.success(), "{tool} {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

struct Card {
    dir: TempDir,
    pdf: PathBuf,
}

impl Card {
    fn render(event: &serde_json::Value, context: &CardContext) -> Card {
        let bytes = store().render(&specimen::parse(event), context).expect("the card renders");
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("card.pdf");
        std::fs::write(&pdf, bytes).unwrap();
        Card { dir, pdf }
    }

    fn specimen() -> Card {
        Card::render(&specimen::event_json(), &specimen::context())
    }

    fn path(&self) -> &str {
        self.pdf.to_str().unwrap()
    }

    /// Page `page` (1-based) as a PNG at `dpi`.
    fn raster(&self, page: usize, dpi: u32) -> PathBuf {
        let prefix = self.dir.path().join(format!("page{page}-{dpi}"));
        let page_arg = page.to_string();
        let dpi_arg = dpi.to_string();
        stdout(
            "pdftoppm",
            &[
                "-r",
                &dpi_arg,
                "-f",
                &page_arg,
                "-l",
                &page_arg,
                "-singlefile",
                "-png",
                self.path(),
                prefix.to_str().unwrap(),
            ],
        );
        prefix.with_extension("png")
    }
}

#[test]
fn pages_are_id1_size_and_two() {
    let card = Card::specimen();
    let info = stdout("pdfinfo", &["-f", "1", "-l", "99", card.path()]);
    let sizes: Vec<(f64, f64)> = info
        .lines()
        .filter(|line| line.starts_with("Page") && line.contains(" size: "))
        .map(|line| {
            let numbers: Vec<f64> =
                line.split(": ").nth(1).unwrap().split_whitespace().filter_map(|word| word.parse().ok()).collect();
            (numbers[0] * 25.4 / 72.0, numbers[1] * 25.4 / 72.0)
        })
        .collect();
    assert_eq!(sizes.len(), 2, "{info}");
    for (width, height) in sizes {
        assert!((width - 85.60).abs() < 0.01 && (height - 53.98).abs() < 0.01, "page is {width} x {height} mm");
    }
    assert_eq!(stdout("qpdf", &["--show-npages", card.path()]).trim(), "2");
    assert!(info.contains("Title:           KTP Elektronik 0190f1c2"), "{info}");
    assert!(info.contains("CreationDate:"), "{info}");
}

#[test]
fn qpdf_finds_no_errors() {
    let card = Card::specimen();
    let output = run("qpdf", &["--check", card.path()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stdout).contains("No syntax or stream encoding errors"));
}

#[test]
fn every_field_is_there_in_reading_order() {
    let card = Card::specimen();
    let text = stdout("pdftotext", &["-layout", "-f", "1", "-l", "1", card.path(), "-"]);
    let expected = [
        "PROVINSI JAMBI",
        "KABUPATEN MERANGIN",
        "NIK",
        "1502015203850001",
        "Nama",
        "HAMIDAH",
        "Tempat/Tgl Lahir",
        "BANGKO, 12-03-1985",
        "Jenis Kelamin",
        "PEREMPUAN",
        "Gol. Darah",
        ": O",
        "Alamat",
        "JL. SUDIRMAN NO. 1",
        "RT/RW",
        "001/002",
        "Kel/Desa",
        "PASAR BANGKO",
        "Kecamatan",
        "BANGKO",
        "Agama",
        "ISLAM",
        "MERANGIN",
        "27-11-2026",
        "Status Perkawinan",
        "KAWIN",
        "Pekerjaan",
        "WIRASWASTA",
        "Kewarganegaraan",
        "WNI",
        "Berlaku Hingga",
        "SEUMUR HIDUP",
    ];
    let mut from = 0;
    for field in expected {
        let found =
            text[from..].find(field).unwrap_or_else(|| panic!("{field:?} not found after byte {from} in:\n{text}"));
        from += found + field.len();
    }
    let back = stdout("pdftotext", &["-f", "2", "-l", "2", card.path(), "-"]);
    assert!(back.contains("Ref. 0190f1c2-8c3e-7b4a-9d2e-5f6a7b8c9d0e"), "{back}");
}

#[test]
fn names_with_diacritics_and_apostrophes_render() {
    let mut event = specimen::event_json();
    // Sent decomposed (E + combining acute): the card shows the precomposed letter.
    event["name"] = "FRANC\u{327}OIS E\u{301}MILE LEFÈVRE-O'NEIL".into();
    event["birth_place"] = "SITI NUR’AINI".into();
    let card = Card::render(&event, &specimen::context());
    let text = stdout("pdftotext", &["-f", "1", "-l", "1", card.path(), "-"]);
    assert!(text.contains("FRANÇOIS ÉMILE LEFÈVRE-O'NEIL"), "{text}");
    assert!(text.contains("SITI NUR’AINI"), "{text}");
}

#[test]
fn every_font_is_embedded_and_subset() {
    let card = Card::specimen();
    let fonts = stdout("pdffonts", &[card.path()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "{fonts}");
    for row in rows {
        let columns: Vec<&str> = row.split_whitespace().collect();
        // name type... encoding emb sub uni object generation
        let n = columns.len();
        assert_eq!(&columns[n - 5..n - 2], &["yes", "yes", "yes"], "not embedded+subset+ToUnicode: {row}");
        let tag = columns[0].split('+').next().unwrap();
        assert!(tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()), "subset tag {tag:?} in {row}");
    }
}

#[test]
fn the_photo_is_the_event_jpeg_untouched() {
    let card = Card::specimen();
    let list = stdout("pdfimages", &["-list", card.path()]);
    let photo_row = list.lines().nth(2).unwrap();
    assert!(photo_row.contains("jpeg"), "{list}");
    let prefix = card.dir.path().join("img");
    stdout("pdfimages", &["-j", "-f", "1", "-l", "1", card.path(), prefix.to_str().unwrap()]);
    let extracted = std::fs::read(card.dir.path().join("img-000.jpg")).expect("pdfimages wrote the JPEG");
    assert_eq!(extracted, specimen::photo_jpeg(), "the JPEG was re-encoded");
    // The signature keeps its transparency as a soft mask.
    assert!(list.lines().any(|line| line.contains("smask")), "{list}");
}

fn decode_qr(card: &Card) -> String {
    let png = card.raster(2, 300);
    stdout("zbarimg", &["--raw", "-q", png.to_str().unwrap()]).trim().to_owned()
}

#[test]
fn the_qr_code_carries_only_the_nik_and_the_card_reference() {
    let card = Card::specimen();
    assert_eq!(decode_qr(&card), "1502015203850001|0190f1c2-8c3e-7b4a-9d2e-5f6a7b8c9d0e");
    let authorized = CardContext { authorization_id: Some("auth-7f3a9c".into()), ..specimen::context() };
    let card = Card::render(&specimen::event_json(), &authorized);
    assert_eq!(decode_qr(&card), "1502015203850001|auth-7f3a9c");
}

#[test]
fn the_photo_background_follows_the_birth_year() {
    let sample = |birth_date: &str| {
        let mut event = specimen::event_json();
        event["birth_date"] = birth_date.into();
        let card = Card::render(&event, &specimen::context());
        let png = card.raster(1, 300);
        let image = image::open(png).unwrap().to_rgb8();
        // The band left of the photo (the box starts at 63.0 mm, the 3:4 photo at 63.6 mm).
        let pixel = image.get_pixel((63.3 / 25.4 * 300.0) as u32, (20.0 / 25.4 * 300.0) as u32);
        pixel.0
    };
    let [r, _, b] = sample("1985-03-12");
    assert!(r > 150 && b < 100, "odd year should be red, got {r} {b}");
    let [r, _, b] = sample("1986-03-12");
    assert!(b > 120 && r < 100, "even year should be blue, got {r} {b}");
}

/// Compares with `tests/snapshots/NAME.png`: at most 0.5 % of the pixels may differ by more than
/// 48 in a channel (poppler versions anti-alias text differently; a moved field changes far more).
fn check_snapshot(name: &str, png: &Path) {
    let reference = repo().join("tests/snapshots").join(format!("{name}.png"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(reference.parent().unwrap()).unwrap();
        std::fs::copy(png, &reference).unwrap();
        return;
    }
    let expected = image::open(&reference)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_SNAPSHOTS=1 to create it", reference.display()))
        .to_rgb8();
    let actual = image::open(png).unwrap().to_rgb8();
    assert_eq!(expected.dimensions(), actual.dimensions(), "{name}: raster size changed");
    let differing = expected
        .pixels()
        .zip(actual.pixels())
        .filter(|(a, b)| a.0.iter().zip(b.0.iter()).any(|(x, y)| x.abs_diff(*y) > 48))
        .count();
    let share = differing as f64 / f64::from(expected.width() * expected.height());
    if share > 0.005 {
        let kept = std::env::temp_dir().join(format!("cardspool-snapshot-{name}.png"));
        std::fs::copy(png, &kept).unwrap();
        panic!(
            "{name}: {:.2} % of pixels differ from {} (new render kept at {})",
            share * 100.0,
            reference.display(),
            kept.display()
        );
    }
}

#[test]
fn snapshots_of_front_and_back() {
    let card = Card::specimen();
    check_snapshot("ektp-front", &card.raster(1, 150));
    check_snapshot("ektp-back", &card.raster(2, 150));
}

#[test]
fn every_sample_event_renders() {
    let dir = repo().join("samples/events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "expected the sample events in {}", dir.display());
    for file in files {
        let event = parse_event(&std::fs::read(&file).unwrap(), &ImageLimits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let pdf = store().render(&event, &specimen::context()).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(pdf.starts_with(b"%PDF-"), "{}", file.display());
    }
}

#[test]
fn a_value_that_cannot_fit_is_refused_naming_the_field() {
    let mut event = specimen::event_json();
    event["occupation"] = "W".repeat(40).into();
    let error = store().render(&specimen::parse(&event), &specimen::context()).unwrap_err();
    assert!(!error.is_retryable());
    let message = error.to_string();
    assert!(message.contains("occupation") && message.contains("does not fit"), "{message}");
}

#[test]
fn a_bad_template_is_reported_with_file_line_and_field_and_the_others_stay_usable() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("templates/fonts"), dir.path().join("fonts")).unwrap();
    std::fs::copy(repo().join("templates/ektp.toml"), dir.path().join("ektp.toml")).unwrap();
    let broken = std::fs::read_to_string(repo().join("templates/ektp.toml"))
        .unwrap()
        .replacen("min_size = 8\n", "min_size = 12\n", 1)
        .replacen("payload = \"{nik}|{card_ref}\"", "payload = \"{nik}|{name}\"", 1);
    std::fs::write(dir.path().join("broken.toml"), &broken).unwrap();
    std::fs::write(dir.path().join("garbage.toml"), "pool = \"x\"\nwidth_mm = [\n").unwrap();

    let store = TemplateStore::load(dir.path()).unwrap();
    assert_eq!(store.names().collect::<Vec<_>>(), vec!["ektp"]);
    assert!(store.render(&specimen::event(), &specimen::context()).is_ok());

    let Some(RenderError::Template { file, errors }) = store.problem("broken") else {
        panic!("{:?}", store.problems())
    };
    assert!(file.ends_with("broken.toml"));
    let min_size_line = broken.lines().position(|l| l == "min_size = 12").unwrap() + 1;
    let fields: Vec<(Option<usize>, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert!(
        fields.iter().any(|(line, field)| field.ends_with(".min_size")
            && line.is_some_and(|l| l < min_size_line && l > min_size_line - 8)),
        "{fields:?}"
    );
    assert!(fields.iter().any(|(_, field)| field.ends_with(".payload")), "{fields:?}");
    let message = store.problem("broken").unwrap().to_string();
    assert!(message.contains("broken.toml:"), "{message}");
    assert!(store.problem("garbage").is_some());
    assert!(matches!(store.template("broken"), Err(RenderError::UnknownTemplate { .. })));
}

#[test]
fn cli_renders_a_sample_and_checks_a_template() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("card.pdf");
    let binary = env!("CARGO_BIN_EXE_cardspool");
    let output = Command::new(binary)
        .current_dir(repo())
        .args(["render", "samples/events/01-merangin-hamidah.json", "-o", out.to_str().unwrap()])
        .args(["--job-id", "0190f1c2-8c3e-7b4a-9d2e-5f6a7b8c9d0e", "--issue-date", "2026-11-27"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = stdout("pdftotext", &[out.to_str().unwrap(), "-"]);
    assert!(text.contains("HAMIDAH") && text.contains("27-11-2026"), "{text}");

    let output = Command::new(binary).current_dir(repo()).args(["template", "check", "ektp"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    let output = Command::new(binary).current_dir(repo()).args(["template", "check", "nonesuch"]).output().unwrap();
    assert!(!output.status.success());
}

#[test]
fn the_built_in_template_works_from_any_directory_and_is_exported_for_editing() {
    let elsewhere = tempfile::tempdir().unwrap();
    let binary = env!("CARGO_BIN_EXE_cardspool");
    let out = elsewhere.path().join("card.pdf");
    let sample = repo().join("samples/events/01-merangin-hamidah.json");
    let output = Command::new(binary)
        .current_dir(elsewhere.path())
        .args(["render", sample.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "no templates directory here: {}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout("pdftotext", &[out.to_str().unwrap(), "-"]).contains("HAMIDAH"));

    let exported = elsewhere.path().join("my-templates");
    let export = |dir: &Path| {
        Command::new(binary).current_dir(elsewhere.path()).arg("template").arg("export").arg(dir).output().unwrap()
    };
    let output = export(&exported);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        std::fs::read(exported.join("ektp.toml")).unwrap(),
        std::fs::read(repo().join("templates/ektp.toml")).unwrap(),
        "the built-in template is the repository's"
    );
    assert!(exported.join("fonts/LiberationSans-Bold.ttf").is_file());
    let again = export(&exported);
    assert!(!again.status.success(), "an exported file is never overwritten");
    assert!(String::from_utf8_lossy(&again.stderr).contains("ektp.toml"), "{}", String::from_utf8_lossy(&again.stderr));

    // Edited there, it overrides the built-in template of its name.
    let edited =
        std::fs::read_to_string(exported.join("ektp.toml")).unwrap().replacen("title = \"", "title = \"EDITED ", 1);
    std::fs::write(exported.join("ektp.toml"), edited).unwrap();
    let list = Command::new(binary)
        .current_dir(elsewhere.path())
        .args(["template", "list", "--templates-dir"])
        .arg(&exported)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success() && listed.contains("EDITED") && listed.contains("my-templates"), "{listed}");
    let store = TemplateStore::load(&elsewhere.path().join("no-such-dir")).unwrap();
    assert_eq!(store.names().collect::<Vec<_>>(), ["ektp"], "a missing directory leaves the built-in template");
}
