//! A Maildir: an MTA writes into `tmp/` and renames into `new/`, so files in
//! `new/` are complete. Messages are taken in delivery order (modification
//! time, then name) and moved to `cur/` once processed.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
}

impl Maildir {
    /// Open the Maildir at `root`, creating `new/`, `cur/` and `tmp/` if needed.
    pub fn open(root: &Path) -> std::io::Result<Maildir> {
        for d in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        Ok(Maildir { root: root.to_path_buf() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Messages waiting in `new/`, in delivery order.
    pub fn pending(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut v: Vec<(SystemTime, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(self.root.join("new"))? {
            let e = e?;
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let meta = match e.metadata() {
                Ok(m) if m.is_file() => m,
                _ => continue, // vanished or not a file
            };
            v.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), e.path()));
        }
        v.sort();
        Ok(v.into_iter().map(|(_, p)| p).collect())
    }

    /// Move a processed message from `new/` to `cur/` (flag Seen).
    pub fn ack(&self, path: &Path) -> std::io::Result<()> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let target = if name.contains(":2,") { name } else { format!("{name}:2,S") };
        match std::fs::rename(path, self.root.join("cur").join(target)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()), // already moved
            other => other,
        }
    }

    /// Deliver `bytes` as a new message (tmp/ then rename into new/), as an MTA would.
    pub fn deliver(&self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let tmp = self.root.join("tmp").join(name);
        std::fs::write(&tmp, bytes)?;
        let dest = self.root.join("new").join(name);
        std::fs::rename(&tmp, &dest)?;
        Ok(dest)
    }
}
