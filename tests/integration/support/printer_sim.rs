//! Simulated IPP card printers for the tests: ippeveprinter (Debian's cups-ipp-utils), each on
//! a free port with its own spool folder and a private D-Bus daemon, running
//! `tests/printer-sim/card-printer.sh` as its print command.
//!
//! ippeveprinter keeps every received document in its spool folder as `<id>-<job-name>.pdf`
//! (`-k`), which is what the tests count to prove a card arrived exactly once.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A fault the simulated printer runs into with its next jobs (see card-printer.sh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFault {
    Jam,
    Ribbon,
    Cover,
    Hopper,
    Slow,
}

impl SimFault {
    pub fn word(self) -> &'static str {
        match self {
            SimFault::Jam => "jam",
            SimFault::Ribbon => "ribbon",
            SimFault::Cover => "cover",
            SimFault::Hopper => "hopper",
            SimFault::Slow => "slow",
        }
    }
}

pub struct SimPrinter {
    pub name: String,
    pub port: u16,
    /// Where ippeveprinter finds `localhost.crt` and `localhost.key` to answer `ipps://` too.
    credentials: Option<PathBuf>,
    dir: tempfile::TempDir,
    printer: Option<Child>,
    dbus: Child,
    generation: u32,
}

fn find_tool(tool: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = [PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")];
    std::env::split_paths(&path)
        .chain(extra)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{tool} not found: the printer tests need ippeveprinter and dbus-daemon \
                 (Debian: apt-get install cups-ipp-utils dbus)"
            )
        })
}

/// A port for a new printer: below Linux's ephemeral range (32768 and up), and never the same
/// twice in one test process. A port from `bind(0)` would be handed to the next printer as soon
/// as a test killed its printer, and the killed one restarts on its own port: two tests would then
/// talk to one printer. Starts at a point that depends on the process id, so that two test
/// processes at once rarely meet; one that is taken is skipped.
fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = (std::process::id() % 400) * 25;
    loop {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = u16::try_from(20_000 + (start + offset) % 12_000).expect("a port below 32768");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn print_command() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/printer-sim/card-printer.sh")
}

/// A self-signed certificate for `localhost`, in the file names ippeveprinter looks for. It lives
/// in the build's own temporary folder (`target/tmp`), made once and shared by every test process
/// until it is a day old (it is valid for two), so that no test run leaves a folder behind in
/// `/tmp`. A new one is made aside and renamed into place, so that two processes at once never
/// see half a certificate.
fn localhost_credentials() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let shared = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cardsim-tls");
        let fresh = std::fs::metadata(shared.join("localhost.crt"))
            .and_then(|certificate| certificate.modified())
            .is_ok_and(|made| made.elapsed().is_ok_and(|age| age < Duration::from_secs(24 * 3600)));
        let usable = fresh && shared.join("localhost.key").is_file();
        if usable {
            return shared;
        }
        let aside =
            tempfile::Builder::new().prefix("cardsim-tls-new-").tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost"])
            .arg("-keyout")
            .arg(aside.path().join("localhost.key"))
            .arg("-out")
            .arg(aside.path().join("localhost.crt"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap_or_else(|error| {
                panic!("openssl is needed for the IPPS printer test (Debian: apt-get install openssl): {error}")
            });
        assert!(status.success(), "openssl could not make a self-signed certificate");
        // A stale or broken one is moved out of the way first (rename cannot replace a folder
        // that has files); if another process puts one in place between the two renames, that
        // one is used and ours is dropped with its temporary folder.
        if shared.exists() {
            let stale =
                Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cardsim-tls-stale-{}", std::process::id()));
            if std::fs::rename(&shared, &stale).is_ok() {
                let _ = std::fs::remove_dir_all(&stale);
            }
        }
        let _ = std::fs::rename(aside.path(), &shared);
        assert!(
            shared.join("localhost.crt").is_file() && shared.join("localhost.key").is_file(),
            "no certificate and key in {}",
            shared.display()
        );
        shared
    })
    .clone()
}

impl SimPrinter {
    /// Starts a simulated card printer and waits until it answers.
    pub fn start(name: &str) -> SimPrinter {
        SimPrinter::start_with(name, None)
    }

    /// Starts a simulated card printer that answers `ipps://` (TLS, a self-signed certificate
    /// for localhost) as well as `ipp://`.
    pub fn start_with_tls(name: &str) -> SimPrinter {
        SimPrinter::start_with(name, Some(localhost_credentials()))
    }

    fn start_with(name: &str, credentials: Option<PathBuf>) -> SimPrinter {
        // Both tools are looked for first, so that a missing one is named before anything starts.
        find_tool("ippeveprinter");
        let dbus_daemon = find_tool("dbus-daemon");
        let dir = tempfile::Builder::new().prefix("cardsim-").tempdir().unwrap();
        let bus = dir.path().join("bus");
        let mut dbus = Command::new(dbus_daemon)
            .args(["--session", "--nofork", "--print-address"])
            .arg(format!("--address=unix:path={}", bus.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start dbus-daemon");
        // The daemon prints its address once it listens.
        let mut line = String::new();
        BufReader::new(dbus.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("unix:"), "dbus-daemon did not start: {line:?}");
        let mut printer =
            SimPrinter { name: name.to_owned(), port: 0, credentials, dir, printer: None, dbus, generation: 0 };
        printer.launch();
        printer
    }

    fn launch(&mut self) {
        let ippeveprinter = find_tool("ippeveprinter");
        let bus = self.dir.path().join("bus");
        for _ in 0..5 {
            let port = if self.port == 0 { free_port() } else { self.port };
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.path().join("printer.log"))
                .unwrap();
            let mut command = Command::new(&ippeveprinter);
            if let Some(credentials) = &self.credentials {
                command.arg("-K").arg(credentials);
            }
            let mut child = command
                .env("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={}", bus.display()))
                .args(["-r", "off", "-n", "localhost", "-p", &port.to_string(), "-k", "-d"])
                .arg(self.dir.path())
                .args(["-f", "application/pdf", "-c"])
                .arg(print_command())
                .args(["-m", "CardSim", "-M", "Cardspool", &self.name])
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("cannot start ippeveprinter");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = std::fs::read_to_string(self.dir.path().join("printer.log")).unwrap_or_default();
                    eprintln!("ippeveprinter on port {port} exited ({status}): {log}");
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    self.port = port;
                    self.printer = Some(child);
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("ippeveprinter {} did not start; see {}", self.name, self.dir.path().join("printer.log").display());
    }

    pub fn uri(&self) -> String {
        format!("ipp://localhost:{}/ipp/print", self.port)
    }

    /// The spooler's configuration for this printer: pool `ektp`, one job at a time, over IPP.
    pub fn config(&self) -> cardspool::config::PrinterConfig {
        cardspool::config::PrinterConfig {
            name: self.name.clone(),
            uri: self.uri(),
            pool: "ektp".into(),
            max_jobs: 1,
            ignore_tls_errors: false,
        }
    }

    /// The printer over TLS (only for a printer started with [`SimPrinter::start_with_tls`]).
    pub fn ipps_uri(&self) -> String {
        assert!(self.credentials.is_some(), "{} was started without TLS", self.name);
        format!("ipps://localhost:{}/ipp/print", self.port)
    }

    /// The printer's spool folder: received documents, the fault file, the log.
    pub fn spool(&self) -> &Path {
        self.dir.path()
    }

    /// The next jobs run into `fault` (until cleared).
    pub fn inject(&self, fault: SimFault) {
        std::fs::write(self.dir.path().join("fault"), fault.word()).unwrap();
    }

    pub fn clear_fault(&self) {
        std::fs::write(self.dir.path().join("fault"), "").unwrap();
    }

    /// Kills the printer process (SIGKILL): the port refuses connections from now on.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.printer.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the printer again on the same port and folder. Like a real printer switched off
    /// and on, it has forgotten every job; earlier documents are kept aside (prefixed with the
    /// generation) so that its reused job ids cannot overwrite them.
    pub fn restart(&mut self) {
        self.kill();
        self.generation += 1;
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            let is_pdf = Path::new(&name).extension().is_some_and(|x| x == "pdf");
            if is_pdf && !name.starts_with("gen") {
                let kept = self.dir.path().join(format!("gen{}-{name}", self.generation));
                std::fs::rename(entry.path(), kept).unwrap();
            }
        }
        self.launch();
    }

    /// Every document the printer has received, as job names (lowercase: ippeveprinter's
    /// file names are), one entry per arrival.
    pub fn received(&self) -> Vec<String> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let Some(stem) = name.strip_suffix(".pdf") else { continue };
            let stem = if stem.starts_with("gen") { stem.split_once('-').map_or(stem, |(_, rest)| rest) } else { stem };
            if let Some((_, job_name)) = stem.split_once('-') {
                names.push(job_name.to_owned());
            }
        }
        names.sort();
        names
    }

    /// How many times a job's document arrived.
    pub fn arrivals(&self, job_name: &str) -> usize {
        let wanted = job_name.to_lowercase();
        self.received().iter().filter(|name| **name == wanted).count()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("printer.log")).unwrap_or_default()
    }
}

impl Drop for SimPrinter {
    fn drop(&mut self) {
        self.kill();
        let _ = self.dbus.kill();
        let _ = self.dbus.wait();
    }
}

/// A small valid PDF (one ID-1 page), for adapter tests that need no rendering.
pub fn tiny_pdf() -> Vec<u8> {
    let objects = [
        "<</Type/Catalog/Pages 2 0 R>>",
        "<</Type/Pages/Kids[3 0 R]/Count 1>>",
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 243 153]>>",
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<</Size {}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}
