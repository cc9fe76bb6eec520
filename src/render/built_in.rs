//! The card templates built into the binary, with their fonts: the e-KTP layout of
//! `templates/`, so that `cardspool run` and `cardspool render` work from any directory.
//! `[render] templates_dir` adds templates and overrides a built-in one by name;
//! `cardspool template export DIR` writes these files out for editing.

use std::path::{Path, PathBuf};

/// What built-in templates' files are called in messages (`(built-in)/ektp.toml`).
pub const LABEL: &str = "(built-in)";

/// Every built-in file, by its path in a templates directory.
pub const FILES: &[(&str, &[u8])] = &[
    ("ektp.toml", include_bytes!("../../templates/ektp.toml")),
    ("fonts/LiberationSans-Regular.ttf", include_bytes!("../../templates/fonts/LiberationSans-Regular.ttf")),
    ("fonts/LiberationSans-Bold.ttf", include_bytes!("../../templates/fonts/LiberationSans-Bold.ttf")),
    ("fonts/LICENSE-LiberationSans.txt", include_bytes!("../../templates/fonts/LICENSE-LiberationSans.txt")),
    ("fonts/README.md", include_bytes!("../../templates/fonts/README.md")),
];

/// A built-in file's bytes, by its path in a templates directory.
pub fn file(path: &str) -> Option<&'static [u8]> {
    let path = path.trim_start_matches("./");
    FILES.iter().find(|(name, _)| *name == path).map(|(_, bytes)| *bytes)
}

/// The built-in templates: `(file name, TOML source)`.
pub fn templates() -> impl Iterator<Item = (&'static str, &'static str)> {
    let is_template = |name: &str| Path::new(name).extension().is_some_and(|ext| ext == "toml") && !name.contains('/');
    FILES.iter().filter(move |(name, _)| is_template(name)).filter_map(|(name, bytes)| {
        // Built from the repository's own UTF-8 files; a test checks each one.
        std::str::from_utf8(bytes).ok().map(|source| (*name, source))
    })
}

/// Writes the built-in files into `dir` (made when missing), never over an existing file;
/// the paths written.
///
/// # Errors
/// The first file that exists already or cannot be written (the ones before it stay).
pub fn export(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|error| std::io::Error::new(error.kind(), format!("{}: {error}", path.display())))?;
        std::io::Write::write_all(&mut file, bytes)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_template_is_utf8_and_its_fonts_are_built_in() {
        assert_eq!(templates().count(), 1);
        assert!(file("fonts/LiberationSans-Bold.ttf").is_some());
        assert!(file("./ektp.toml").is_some());
        assert!(file("fonts/nothing.ttf").is_none());
    }

    #[test]
    fn export_writes_the_files_and_never_over_one() {
        let dir = tempfile::tempdir().unwrap();
        let written = export(dir.path()).unwrap();
        assert_eq!(written.len(), FILES.len());
        assert_eq!(std::fs::read(dir.path().join("ektp.toml")).unwrap(), file("ektp.toml").unwrap());
        let again = export(dir.path()).unwrap_err();
        assert!(again.to_string().contains("ektp.toml"), "{again}");
    }
}
