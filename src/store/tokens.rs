//! Rotated OAuth2 refresh tokens, kept in the store (the meta tree) and made
//! durable before the token client hands out the access token that came
//! with them: a crash between receiving and saving never locks the desk out.

use sha2::Digest;

use super::Store;
use super::keys::{self, Tree};
use crate::oauth2::{RefreshTokenStore, Secret};

/// The saved refresh token of one OAuth2 client (token URL + client id).
pub struct SavedRefreshToken {
    store: Store,
    key: Vec<u8>,
}

impl SavedRefreshToken {
    pub fn new(store: &Store, token_url: &str, client_id: &str) -> SavedRefreshToken {
        let id = hex::encode(sha2::Sha256::digest(format!("{token_url}\n{client_id}")));
        SavedRefreshToken { store: store.clone(), key: keys::refresh_token(&id[..16]) }
    }
}

impl RefreshTokenStore for SavedRefreshToken {
    fn load_refresh_token(&self) -> anyhow::Result<Option<Secret>> {
        let v = self.store.tree(Tree::Meta).get(&self.key)?;
        Ok(v.map(|b| String::from_utf8_lossy(&b).trim().to_string()).filter(|t| !t.is_empty()).map(Secret::new))
    }

    fn save_refresh_token(&self, token: &str) -> anyhow::Result<()> {
        self.store.tree(Tree::Meta).insert(&self.key, token.as_bytes())?;
        self.store.flush()?;
        Ok(())
    }
}

/// Every saved refresh token (for tests and checks; never printed by a command).
pub fn saved_refresh_tokens(store: &Store) -> anyhow::Result<Vec<Secret>> {
    let mut out = Vec::new();
    for kv in store.tree(Tree::Meta).scan_prefix(keys::refresh_token("")) {
        let (_, v) = kv?;
        out.push(Secret::new(String::from_utf8_lossy(&v).trim().to_string()));
    }
    Ok(out)
}
