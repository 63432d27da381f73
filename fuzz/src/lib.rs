//! What each fuzz target does with one input. The same file is compiled into
//! the fuzz binaries (`fuzz/src/bin/*.rs`, as `buzon_fuzz`) and into the regression test
//! (`tests/fuzz_regressions.rs`, through `#[path]`), so a crasher replays
//! through exactly the code path that found it.
//!
//! Targets:
//! - `mail`: raw bytes → `mail::parse` → `rules::classify` with the shipped
//!   config, clients and rules (`App::classify`), PDF/ZIP extraction on.
//! - `rules`: the bytes as one rule file (`*.toml`, beside the shipped label
//!   declarations) → `RuleSet::load`, and when it loads, a classification of
//!   a sample mail with it; the same bytes as a `*.test` file →
//!   `rules::test::load_cases`.
//! - `config`: the bytes as `config.toml` → `Config::load` and, when it
//!   loads, everything built from it at start-up (`App::load` against the
//!   shipped rules and clients); the same bytes as `clients.toml` →
//!   `clients::load`, then sender look-ups in the resulting directory.

use std::path::{Path, PathBuf};

use buzon::app::App;
use buzon::clients::Directory;
use buzon::config::Config;
use buzon::mail::{Mail, ParseOptions, parse};
use buzon::rules::{Facts, RuleSet, classify};

/// The fuzz targets, by the name of their binary and regression folder.
pub const TARGETS: &[&str] = &["mail", "rules", "config"];

/// Panics at a location inside a dependency's source (crates.io or git).
/// `mail::parse` and the PDF reader catch those by design (the mail still
/// reaches the desk with the problem recorded), so by default they are not
/// crashes; a panic anywhere else is.
pub fn third_party(file: &str) -> bool {
    file.contains("/.cargo/registry/") || file.contains("/.cargo/git/") || file.contains("\\.cargo\\registry\\")
}

static OWN_PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many panics outside dependencies happened so far (also those that a
/// `catch_unwind` in buzon swallowed).
pub fn own_panics() -> usize {
    OWN_PANICS.load(std::sync::atomic::Ordering::SeqCst)
}

/// Count every panic in buzon's own code (or in std reached from it) and,
/// with `abort` (the fuzz binaries), abort on it so afl records a crash even
/// where a `catch_unwind` would hide it; with `BUZON_FUZZ_STRICT` set, every
/// panic at all counts. Panics inside dependencies are left to the
/// `catch_unwind` around them; if one escapes, afl's own `catch_unwind`
/// turns it into a crash anyway (and a test fails).
pub fn install_panic_hook(abort: bool) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let strict = std::env::var_os("BUZON_FUZZ_STRICT").is_some();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let tolerated = !strict && info.location().is_some_and(|l| third_party(l.file()));
            if !tolerated {
                OWN_PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                previous(info);
                if abort {
                    std::process::abort();
                }
            }
        }));
    });
}

/// A folder for the files a loader target writes, created on first use.
/// In the fuzz binaries one per afl-fuzz instance (by process id, or
/// `BUZON_FUZZ_SCRATCH`); in the tests a temporary folder.
pub fn scratch_dir(target: &str) -> PathBuf {
    match std::env::var_os("BUZON_FUZZ_SCRATCH") {
        Some(d) => PathBuf::from(d).join(format!("{target}-{}", std::process::id())),
        None => std::env::temp_dir().join(format!("buzon-fuzz-{target}-{}", std::process::id())),
    }
}

fn write(dir: &Path, name: &str, data: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let p = dir.join(name);
    std::fs::write(&p, data)?;
    Ok(p)
}

/// Target `mail`: parse → classify with the shipped business files.
pub struct MailTarget {
    app: App,
}

impl MailTarget {
    /// `root` is the repository (config.toml, clients.toml, rules/).
    pub fn new(root: &Path) -> Result<MailTarget, String> {
        let app = App::load(&root.join("config.toml")).map_err(|d| d.to_string())?;
        Ok(MailTarget { app })
    }

    /// Returns a digest of the outcome so nothing is optimised away.
    pub fn run(&self, data: &[u8]) -> usize {
        let (mail, c) = self.app.classify(data);
        mail.attachments.iter().map(|a| a.text.len()).sum::<usize>()
            + mail.new_text.len()
            + c.labels.len()
            + c.documents.len()
            + c.references.len()
    }
}

/// Target `rules`: the rule-file loader and the rule-test parser.
pub struct RulesTarget {
    rules_dir: PathBuf,
    tests_dir: PathBuf,
    sample: Mail,
}

impl RulesTarget {
    /// The rules folder gets the shipped `labels.toml` (declarations) so a
    /// fuzzed rule file can compile all the way; the fuzzed file is
    /// `zz-fuzz.toml` beside it.
    pub fn new(root: &Path, scratch: &Path) -> Result<RulesTarget, String> {
        let rules_dir = scratch.join("rules");
        let tests_dir = scratch.join("tests");
        let labels = std::fs::read(root.join("rules/labels.toml")).map_err(|e| format!("rules/labels.toml: {e}"))?;
        write(&rules_dir, "labels.toml", &labels).map_err(|e| format!("{}: {e}", rules_dir.display()))?;
        let raw = std::fs::read(root.join("examples/maildir/new/01-docs-invoice-packing.eml"))
            .map_err(|e| format!("sample mail: {e}"))?;
        let sample = parse(&raw, &ParseOptions::default());
        Ok(RulesTarget { rules_dir, tests_dir, sample })
    }

    pub fn run(&self, data: &[u8]) -> usize {
        let mut n = 0;
        if write(&self.rules_dir, "zz-fuzz.toml", data).is_ok() {
            match RuleSet::load(&self.rules_dir) {
                Ok(rules) => {
                    let c = classify(&rules, &self.sample, Facts { sender: "client", ..Facts::default() });
                    n += c.labels.len() + c.documents.len();
                }
                Err(d) => n += d.0.len(),
            }
        }
        if write(&self.tests_dir, "fuzz.test", data).is_ok() {
            n += match buzon::rules::test::load_cases(&self.tests_dir) {
                Ok(cases) => cases.len(),
                Err(e) => e.len(),
            };
        }
        n
    }
}

/// Target `config`: the config and clients loaders.
pub struct ConfigTarget {
    dir: PathBuf,
    config: Config,
}

impl ConfigTarget {
    /// The fuzzed config is loaded from a folder where `rules` and
    /// `clients.toml` resolve to the shipped ones (symlinks), so a config
    /// that loads goes on through the whole start-up (`App::load`).
    pub fn new(root: &Path, scratch: &Path) -> Result<ConfigTarget, String> {
        let root = root.canonicalize().map_err(|e| format!("{}: {e}", root.display()))?;
        let dir = scratch.join("config");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for name in ["rules", "clients.toml"] {
            let link = dir.join(name);
            if std::fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(root.join(name), &link).map_err(|e| format!("{}: {e}", link.display()))?;
            }
        }
        let config = Config::load(&root.join("config.toml")).map_err(|d| d.to_string())?;
        Ok(ConfigTarget { dir, config })
    }

    pub fn run(&self, data: &[u8]) -> usize {
        let mut n = 0;
        if let Ok(path) = write(&self.dir, "config.toml", data)
            && Config::load(&path).is_ok()
        {
            n += match App::load(&path) {
                Ok(app) => app.rules.rules.len() + app.directory.clients.len(),
                Err(d) => d.0.len(),
            };
        }
        if let Ok(path) = write(&self.dir, "fuzz-clients.toml", data) {
            match buzon::clients::load(&path) {
                Ok(clients) => {
                    let dir = Directory::new(&self.config, clients);
                    for c in &dir.clients {
                        for a in &c.contacts {
                            n += dir.sender(a).role().len();
                        }
                        for d in c.domains.iter().chain(&c.partners) {
                            n += dir.sender(&format!("ventas@{d}")).role().len();
                        }
                    }
                    n += dir.sender("ana@andes.test").role().len();
                }
                Err(d) => n += d.0.len(),
            }
        }
        n
    }
}
