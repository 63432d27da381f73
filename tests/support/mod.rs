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
