//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository (read-only for tests).
pub fn shared() -> PathBuf {
    std::env::var_os("BUZON_SHARED").map(PathBuf::from).unwrap_or_else(|| root().join("../shared"))
}

/// Skip a test that reads the shared corpus when it is absent (a plain
/// `git clone` + `cargo test` passes anywhere), saying so; with
/// `BUZON_REQUIRE_SHARED=1` (CI) its absence fails the test instead.
pub fn skip_without_shared(test: &str) -> bool {
    let dir = shared();
    if dir.join("corpus").is_dir() {
        return false;
    }
    let required = std::env::var("BUZON_REQUIRE_SHARED").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{test}: BUZON_REQUIRE_SHARED=1 but the shared corpus is not at {} (set BUZON_SHARED)",
        dir.display()
    );
    eprintln!(
        "{test}: skipped: the shared corpus is not at {} (set BUZON_SHARED to its folder to run this test)",
        dir.display()
    );
    true
}

/// Run the `buzon` binary with `args` in `dir`.
pub fn buzon(dir: &Path, args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_buzon")).current_dir(dir).args(args).output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run buzon: {e}"),
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every regular file under `dir`, recursively.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A copy of the repository's config, rules and clients in a temp folder:
/// a separate, working instance.
pub struct Instance {
    pub dir: tempfile::TempDir,
}

impl Instance {
    pub fn new() -> Instance {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        copy_dir(&root().join("rules"), &dir.path().join("rules"));
        for f in ["config.toml", "clients.toml"] {
            if let Err(e) = std::fs::copy(root().join(f), dir.path().join(f)) {
                panic!("copy {f}: {e}");
            }
        }
        // The instance's Maildir exists, as a deployment's does.
        let _ = std::fs::create_dir_all(dir.path().join("var/maildir"));
        Instance { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(e) = std::fs::write(&p, text) {
            panic!("write {}: {e}", p.display());
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        buzon(self.path(), args)
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::create_dir_all(to);
    let Ok(rd) = std::fs::read_dir(from) else { panic!("read {}", from.display()) };
    for e in rd.flatten() {
        let p = e.path();
        let target = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else if let Err(err) = std::fs::copy(&p, &target) {
            panic!("copy {}: {err}", p.display());
        }
    }
}

pub mod generate;
pub mod stack;

impl Instance {
    /// The instance's Maildir (created).
    pub fn maildir(&self) -> buzon::mailbox::maildir::Maildir {
        match buzon::mailbox::maildir::Maildir::open(&self.path().join("var/maildir"), true) {
            Ok(m) => m,
            Err(e) => panic!("maildir: {e}"),
        }
    }

    /// Deliver a file from ../shared or raw bytes into new/.
    pub fn deliver(&self, name: &str, bytes: &[u8]) {
        if let Err(e) = self.maildir().deliver(name, bytes) {
            panic!("deliver {name}: {e}");
        }
    }

    /// The outgoing mails written by the files sink.
    pub fn outbox_files(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = files(&self.path().join("var/outbox"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .map(|p| {
                (
                    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    std::fs::read_to_string(&p).unwrap_or_default(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// `buzon status --json`, whatever its exit code (1: the desk is unwell,
    /// e.g. no daemon runs).
    pub fn status_json(&self) -> serde_json::Value {
        let out = self.run(&["status", "--json"]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "status: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
    }

    /// JSON lines of a read command.
    pub fn json(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    }
}

/// Decode a quoted-printable body enough to search it.
pub fn unqp(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One outgoing mail, decoded.
#[derive(Debug, Clone)]
pub struct Out {
    pub file: String,
    pub raw: String,
    pub subject: String,
    pub to: Vec<String>,
    pub message_id: String,
    pub text: String,
    /// (content type, file name)
    pub attachments: Vec<(String, String)>,
}

/// The instance's outbox files, decoded, in file-name order.
pub fn read_outbox(inst: &Instance) -> Vec<Out> {
    use mail_parser::{MessageParser, MimeHeaders};
    inst.outbox_files()
        .into_iter()
        .map(|(file, raw)| {
            let m = MessageParser::default().parse(raw.as_bytes()).unwrap_or_else(|| panic!("{file}: unparseable"));
            let to =
                m.to().map(|a| a.iter().filter_map(|x| x.address().map(str::to_string)).collect()).unwrap_or_default();
            let attachments = m
                .attachments()
                .map(|a| {
                    let ct = a
                        .content_type()
                        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                        .unwrap_or_default();
                    (ct, a.attachment_name().unwrap_or("").to_string())
                })
                .collect();
            Out {
                subject: m.subject().unwrap_or("").to_string(),
                to,
                message_id: m.message_id().unwrap_or("").to_string(),
                text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                attachments,
                file,
                raw,
            }
        })
        .collect()
}
