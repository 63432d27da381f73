//! Every input the fuzz targets (`fuzz/`) ever crashed or hung on, replayed
//! through the same code as its target (`fuzz/src/lib.rs`, compiled in
//! here): each must return within a bound and without a panic in buzon's
//! own code (also none that a `catch_unwind` in `mail::parse` would swallow).
//!
//! Crashers live in `fuzz/regressions/<target>/`, minimised (`afl-tmin`),
//! one file each; see the README's "Fuzzing" paragraph.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time allowed for one input. The fuzz campaigns flag anything over 3 s
/// (release build) as a hang; the dependencies that do the heavy work are
/// optimised in test builds too, and a loaded machine gets some slack.
const BOUND: Duration = Duration::from_secs(4);

/// What the attachments of one mail may hold in memory: the per-mail ZIP
/// budget (64 MiB) plus the mail itself. The ZIP crashers made 1.3 GB.
const MAX_KEPT: usize = 80 * 1024 * 1024;

/// The panic counter is process-wide: tests that read it take turns.
static COUNTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crashers(target: &str) -> Vec<PathBuf> {
    let dir = root().join("fuzz/regressions").join(target);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    v.sort();
    v
}

/// Run `run` on every crasher of `target` on a worker thread; fail on a
/// panic (escaped or counted by the hook) or on an input over [`BOUND`].
fn replay<T: Send + Sync + 'static>(target: &str, harness_target: T, run: fn(&T, &[u8]) -> usize) -> usize {
    harness::install_panic_hook(false);
    let _turn = COUNTER.lock().unwrap_or_else(|e| e.into_inner());
    let t = Arc::new(harness_target);
    let files = crashers(target);
    for path in &files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let before = harness::own_panics();
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = Arc::clone(&t);
        let started = Instant::now();
        std::thread::spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&worker, &data)));
            let _ = tx.send(r.is_ok());
        });
        match rx.recv_timeout(BOUND) {
            Ok(true) => {}
            Ok(false) => panic!("{}: panicked", name(path)),
            Err(_) => panic!("{}: still running after {BOUND:?}", name(path)),
        }
        assert_eq!(harness::own_panics(), before, "{}: panicked inside buzon (the panic was caught)", name(path));
        eprintln!("{}: ok in {:?}", name(path), started.elapsed());
    }
    files.len()
}

fn name(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

#[test]
fn every_target_has_a_regression_folder_and_a_harness_that_loads() {
    for t in harness::TARGETS {
        assert!(root().join("fuzz/regressions").join(t).is_dir(), "fuzz/regressions/{t} is missing");
        assert!(root().join("fuzz/src/bin").join(format!("{t}.rs")).is_file(), "fuzz target {t} is missing");
    }
    let s = scratch();
    let mail = harness::MailTarget::new(&root()).unwrap_or_else(|e| panic!("{e}"));
    let raw = std::fs::read(root().join("examples/maildir/new/01-docs-invoice-packing.eml"))
        .unwrap_or_else(|e| panic!("example mail: {e}"));
    assert!(mail.run(&raw) > 0, "the example mail yields text and labels");
    let rules = harness::RulesTarget::new(&root(), s.path()).unwrap_or_else(|e| panic!("{e}"));
    let docs = std::fs::read(root().join("rules/30-documentos.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(rules.run(&docs) > 0, "a shipped rule file loads beside the labels");
    let config = harness::ConfigTarget::new(&root(), s.path()).unwrap_or_else(|e| panic!("{e}"));
    let shipped = std::fs::read(root().join("config.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.run(&shipped) > 0, "the shipped config goes through App::load");
}

#[test]
fn the_panic_policy_counts_our_panics_and_leaves_dependencies_to_their_catch_unwind() {
    let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lopdf-0.47.0/src/parser.rs";
    assert!(harness::third_party(registry));
    assert!(!harness::third_party("src/mail/quote.rs"));
    assert!(!harness::third_party("/work/main/src/mail/extract.rs"));
    assert!(!harness::third_party("/rustc/59807616e/library/alloc/src/raw_vec.rs"));
    harness::install_panic_hook(false);
    let _turn = COUNTER.lock().unwrap_or_else(|e| e.into_inner());
    let before = harness::own_panics();
    // A panic here (this file is not a dependency) that a catch_unwind
    // swallows, as `mail::parse` would: still counted.
    let swallowed = std::panic::catch_unwind(|| {
        let v: Vec<u8> = Vec::new();
        v[std::hint::black_box(3)]
    });
    assert!(swallowed.is_err());
    assert_eq!(harness::own_panics(), before + 1);
}

#[test]
fn mail_crashers_parse_and_classify_within_the_bound() {
    let t = harness::MailTarget::new(&root()).unwrap_or_else(|e| panic!("{e}"));
    replay("mail", t, mail_run);
}

/// The target's run, then the memory its attachments kept (speed alone
/// varies with the machine; the amplification does not).
fn mail_run(t: &harness::MailTarget, data: &[u8]) -> usize {
    let n = t.run(data);
    let mail = buzon::mail::parse(data, &buzon::mail::ParseOptions::default());
    let kept: usize = mail.attachments.iter().map(|a| a.data.len() + a.text.len()).sum();
    assert!(kept <= MAX_KEPT + data.len(), "a {} byte mail kept {kept} bytes of attachments", data.len());
    n
}

#[test]
fn rules_crashers_load_within_the_bound() {
    let s = scratch();
    let t = harness::RulesTarget::new(&root(), s.path()).unwrap_or_else(|e| panic!("{e}"));
    replay("rules", t, harness::RulesTarget::run);
}

#[test]
fn config_crashers_load_within_the_bound() {
    let s = scratch();
    let t = harness::ConfigTarget::new(&root(), s.path()).unwrap_or_else(|e| panic!("{e}"));
    replay("config", t, harness::ConfigTarget::run);
}
