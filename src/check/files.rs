//! A Maildir mailbox and a folder-of-files outbox: the folder exists (or
//! will be created, where buzon creates it) and can be written (a probe
//! file is written and removed; nothing else changes).

use std::path::{Path, PathBuf};

use super::{Flow, Part};

/// Write and remove a probe file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let file = dir.join(format!(".buzon-check-{}", std::process::id()));
    std::fs::write(&file, b"buzon check\n")?;
    std::fs::remove_file(&file)
}

/// The nearest folder above `path` that exists (where it would be created).
fn existing_parent(path: &Path) -> Option<PathBuf> {
    path.ancestors().skip(1).find(|a| a.is_dir()).map(Path::to_path_buf).or_else(|| Some(PathBuf::from(".")))
}

/// Step `maildir`.
pub(super) fn maildir(path: &Path, create: bool, p: &mut Part<'_, '_>) -> Flow<()> {
    let shown = path.display();
    if path.is_dir() {
        let missing: Vec<&str> = ["new", "cur", "tmp"].into_iter().filter(|d| !path.join(d).is_dir()).collect();
        let probe_dir = if path.join("tmp").is_dir() { path.join("tmp") } else { path.to_path_buf() };
        return match probe(&probe_dir) {
            Ok(()) if missing.is_empty() => {
                p.pass("maildir", format!("{shown} exists and can be written (new/, cur/, tmp/)"));
                Ok(())
            }
            Ok(()) => {
                p.pass(
                    "maildir",
                    format!("{shown} exists and can be written; {} created at start", missing.join("/, ") + "/"),
                );
                Ok(())
            }
            Err(e) => Err(p.fail(
                "maildir",
                format!("{} cannot be written: {e}", probe_dir.display()),
                format!("give the user buzon runs as write access to {shown} and its new/, cur/, tmp/"),
            )),
        };
    }
    if path.exists() {
        return Err(p.fail(
            "maildir",
            format!("{shown} is not a folder"),
            "set `path` in [mailbox] to the Maildir folder (with new/, cur/, tmp/)",
        ));
    }
    if !create {
        return Err(p.fail(
            "maildir",
            format!("{shown} does not exist"),
            "create it (with new/, cur/, tmp/), correct `path` in [mailbox], or set create = true there",
        ));
    }
    creatable("maildir", path, "created at start (create = true)", p)
}

/// Step `files` (and `send`, which has nothing to do here).
pub(super) fn outbox(path: &Path, send_to: Option<&str>, p: &mut Part<'_, '_>) -> Flow<()> {
    let shown = path.display();
    if path.is_dir() {
        match probe(path) {
            Ok(()) => p.pass("files", format!("{shown} exists and can be written")),
            Err(e) => {
                return Err(p.fail(
                    "files",
                    format!("{shown} cannot be written: {e}"),
                    format!("give the user buzon runs as write access to {shown}"),
                ));
            }
        }
    } else if path.exists() {
        return Err(p.fail("files", format!("{shown} is not a folder"), "set `path` in [outbox] to a folder"));
    } else {
        creatable("files", path, "created with the first mail", p)?;
    }
    if send_to.is_some() {
        p.skip("send", "the outbox is a folder of .eml files: nothing is sent (kind = \"smtp\" sends)");
    }
    Ok(())
}

/// A folder that does not exist yet: can its nearest existing parent be written?
fn creatable(step: &'static str, path: &Path, when: &str, p: &mut Part<'_, '_>) -> Flow<()> {
    let Some(parent) = existing_parent(path) else {
        return Err(p.fail(step, format!("{} has no existing parent", path.display()), "check `path`"));
    };
    match probe(&parent) {
        Ok(()) => {
            p.pass(
                step,
                format!(
                    "{} does not exist yet: {when} (in {}, which can be written)",
                    path.display(),
                    parent.display()
                ),
            );
            Ok(())
        }
        Err(e) => Err(p.fail(
            step,
            format!("{} does not exist and {} cannot be written: {e}", path.display(), parent.display()),
            format!("create {} for the user buzon runs as, or correct `path`", path.display()),
        )),
    }
}
