//! TEMPORARY (oauth branch): the smallest plumbing from `config.toml` to the
//! IMAP and SMTP hooks, until the lead wires issue 13 in `config.rs` and the
//! daemon. The lead redoes this: one token source per distinct
//! `[… .oauth2]` table built by the daemon, and the store (sled) as the
//! [`RefreshTokenStore`].
//!
//! Meanwhile: one [`TokenClient`] per distinct table for the whole process
//! (the mailbox and the outbox share it when their tables are the same — two
//! clients refreshing one one-use refresh token would revoke each other),
//! and the rotated refresh token in a file beside the store:
//! `<store path>-oauth2/<client>.refresh_token`.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::Digest;

use super::{FileRefreshTokens, NoRefreshTokens, OAuth2Config, RefreshTokenStore, TokenClient, TokenSource};
use super::{Grant, TokenError};

type Registry = Mutex<Vec<(OAuth2Config, Arc<TokenClient>)>>;

fn registry() -> &'static Registry {
    static SOURCES: OnceLock<Registry> = OnceLock::new();
    SOURCES.get_or_init(|| Mutex::new(Vec::new()))
}

/// The token source of a table (`label` = "mailbox" or "outbox", for logs).
pub fn token_source(store_path: &Path, label: &str, cfg: &OAuth2Config) -> Result<Arc<dyn TokenSource>, TokenError> {
    let mut sources = registry().lock().map_err(|_| TokenError::Config("token source registry poisoned".into()))?;
    if let Some((_, s)) = sources.iter().find(|(c, _)| c == cfg) {
        return Ok(s.clone());
    }
    let store: Arc<dyn RefreshTokenStore> = match cfg.grant {
        Grant::ClientCredentials => Arc::new(NoRefreshTokens),
        Grant::RefreshToken => {
            let key = hex::encode(sha2::Sha256::digest(format!("{}\n{}", cfg.token_url, cfg.client_id)));
            let mut dir = store_path.as_os_str().to_owned();
            dir.push("-oauth2");
            Arc::new(FileRefreshTokens::new(Path::new(&dir).join(format!("{}.refresh_token", &key[..16]))))
        }
    };
    let client = Arc::new(TokenClient::new(label, cfg, store)?);
    sources.push((cfg.clone(), client.clone()));
    Ok(client)
}
