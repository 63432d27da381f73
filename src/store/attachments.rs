//! Where attachments are kept: content-addressed files `<dir>/<ab>/<sha256>`
//! (the sender's file name is never used as a path), written before the
//! commit that names them and made durable with its batch.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The path of an attachment, relative to the attachments folder.
pub fn rel_path(sha256: &str) -> String {
    format!("{}/{sha256}", sha256.get(..2).unwrap_or("00"))
}

/// Keep an attachment. Returns its relative path, and the file's full path
/// when it was written now (to be made durable). Idempotent.
pub fn keep(dir: &Path, sha256: &str, data: &[u8]) -> std::io::Result<(String, Option<PathBuf>)> {
    let rel = rel_path(sha256);
    let path = dir.join(&rel);
    if path.exists() {
        return Ok((rel, None));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = dir.join(format!("{rel}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    std::fs::rename(&tmp, &path)?;
    Ok((rel, Some(path)))
}

/// Make the attachment files of a batch durable. A few files: each file,
/// then each folder that got a new entry (`syncfs` would wait for every
/// other writer's dirty data, a mail server's on the same machine included).
/// Many files: one `syncfs` costs less than their fsyncs.
pub fn sync(files: &[PathBuf]) -> std::io::Result<()> {
    const PER_FILE_UP_TO: usize = 8;
    if files.len() > PER_FILE_UP_TO {
        if let Some(f) = files.first() {
            rustix::fs::syncfs(std::fs::File::open(f)?)?;
        }
        return Ok(());
    }
    let mut dirs = std::collections::BTreeSet::new();
    for f in files {
        std::fs::File::open(f)?.sync_all()?;
        // The file's folder, and its parent (the folder may be new too).
        if let Some(d) = f.parent() {
            dirs.insert(d.to_path_buf());
            if let Some(p) = d.parent() {
                dirs.insert(p.to_path_buf());
            }
        }
    }
    for d in dirs {
        std::fs::File::open(&d)?.sync_all()?;
    }
    Ok(())
}
