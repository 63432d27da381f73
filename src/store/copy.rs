//! A private copy of a store for dry runs (`classify --desk`), removed when
//! dropped.

use std::path::{Path, PathBuf};

use super::{Store, StoreError};

/// A private copy of a store for dry runs (`classify --desk`, `rules
/// replay`): the files copied aside (the daemon may hold the original, and
/// nothing done to the copy reaches it), removed when dropped.
pub struct StoreCopy {
    store: Option<Store>,
    dir: PathBuf,
}

impl StoreCopy {
    pub fn store(&self) -> &Store {
        // `store` is only taken in `drop`.
        self.store.as_ref().unwrap_or_else(|| unreachable!("a StoreCopy holds its store until dropped"))
    }
}

impl Drop for StoreCopy {
    fn drop(&mut self) {
        drop(self.store.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Copy the files of a sled folder (without unfinished snapshots).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".generating") {
            continue;
        }
        let kind = e.file_type()?;
        if kind.is_dir() {
            copy_tree(&e.path(), &to.join(&name))?;
        } else if kind.is_file() {
            std::fs::copy(e.path(), to.join(&name))?;
        }
    }
    Ok(())
}

impl Store {
    /// Open a private copy of the store at `path` as it is now (an empty
    /// store when there is none yet).
    pub fn open_copy(path: &Path) -> Result<StoreCopy, StoreError> {
        let dir = std::env::temp_dir().join(format!("buzon-copy-{}-{}", std::process::id(), fastrand::u64(..)));
        let io = |e: std::io::Error| StoreError::Sled(sled::Error::Io(e));
        let db = dir.join("store");
        if path.join("db").exists() {
            copy_tree(path, &db).map_err(io)?;
        }
        let mut copy = StoreCopy { store: None, dir };
        copy.store = Some(Store::open(&db)?);
        Ok(copy)
    }
}
