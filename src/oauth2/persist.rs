//! Where a rotated refresh token goes before it is used. Providers that
//! rotate (Microsoft for some clients, most OIDC servers) make the old
//! token one-use: a new token lost in a crash means a person has to log in
//! again. So the token client hands each new refresh token to
//! [`RefreshTokenStore::save_refresh_token`] and waits for it to return
//! before it hands out the access token that came with it.
//!
//! The store (sled) implements this trait in the daemon; [`FileRefreshTokens`]
//! is a file-backed implementation (atomic replace, fsync, mode 0600) for
//! tests and for running without the store hook.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::Secret;

/// Keeps the current refresh token durably.
pub trait RefreshTokenStore: Send + Sync {
    /// The last saved refresh token, if any (it wins over `refresh_token_file`).
    fn load_refresh_token(&self) -> anyhow::Result<Option<Secret>>;
    /// Save `token` durably (on disk when this returns Ok). Called, and
    /// waited for, before the access token obtained with it is used.
    fn save_refresh_token(&self, token: &str) -> anyhow::Result<()>;
}

/// No persistence: for the client-credentials grant, which has no refresh token.
pub struct NoRefreshTokens;

impl RefreshTokenStore for NoRefreshTokens {
    fn load_refresh_token(&self) -> anyhow::Result<Option<Secret>> {
        Ok(None)
    }
    fn save_refresh_token(&self, _token: &str) -> anyhow::Result<()> {
        Ok(())
    }
}

/// One file holding the current refresh token (first line).
#[derive(Debug, Clone)]
pub struct FileRefreshTokens {
    path: PathBuf,
}

impl FileRefreshTokens {
    pub fn new(path: impl Into<PathBuf>) -> FileRefreshTokens {
        FileRefreshTokens { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RefreshTokenStore for FileRefreshTokens {
    fn load_refresh_token(&self) -> anyhow::Result<Option<Secret>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text.lines().next().map(str::trim).filter(|l| !l.is_empty()).map(Secret::new)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", self.path.display())),
        }
    }

    fn save_refresh_token(&self, token: &str) -> anyhow::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        let tmp = self.path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
            f.write_all(token.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            std::fs::File::open(dir)?.sync_all()
        };
        write().map_err(|e| anyhow::anyhow!("cannot write {}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_store_replaces_the_token_and_keeps_it_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = FileRefreshTokens::new(dir.path().join("oauth2/mailbox.refresh_token"));
        assert!(store.load_refresh_token().unwrap_or_else(|e| panic!("{e}")).is_none());
        store.save_refresh_token("rt-1").unwrap_or_else(|e| panic!("{e}"));
        store.save_refresh_token("rt-2").unwrap_or_else(|e| panic!("{e}"));
        let got = store.load_refresh_token().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got.as_ref().map(Secret::expose), Some("rt-2"));
        let mode = std::fs::metadata(store.path()).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode, 0o600);
        assert!(!store.path().with_extension("tmp").exists());
    }

    #[test]
    fn an_unwritable_place_is_an_error_not_a_silent_loss() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap_or_else(|e| panic!("{e}"));
        let store = FileRefreshTokens::new(blocker.join("token"));
        assert!(store.save_refresh_token("rt").is_err());
    }
}
