//! OAuth2 token sources for `buzon check`, built as the daemon builds them
//! (`daemon::tokens`): one client per distinct `[… .oauth2]` table, a
//! refresh token loaded from and rotated into the store. The one
//! difference: the store is opened only for a `refresh_token` grant, and
//! when the daemon holds it the token steps are skipped — a refresh token
//! may be good for one use only, and the daemon's is not ours to spend.

use std::path::Path;
use std::sync::Arc;

use crate::oauth2::{Grant, NoRefreshTokens, OAuth2Config, RefreshTokenStore, TokenClient, TokenError, TokenSource};
use crate::store::tokens::SavedRefreshToken;
use crate::store::{Store, StoreError};

/// A token source for one part, or why there is none.
pub(super) enum Got {
    /// `true`: the other part's client (the same table).
    Ready(Arc<dyn TokenSource>, bool),
    /// Not to be tried now (the daemon holds the store).
    Skip(String),
    /// Cannot work: (detail, fix).
    Fail(String, String),
}

enum Opened {
    Not,
    Open(Store),
    Locked,
    Failed(String),
}

pub(super) struct Tokens<'a> {
    store_path: &'a Path,
    store: Opened,
    clients: Vec<(OAuth2Config, Arc<dyn TokenSource>)>,
}

impl<'a> Tokens<'a> {
    pub fn new(store_path: &'a Path) -> Tokens<'a> {
        Tokens { store_path, store: Opened::Not, clients: Vec::new() }
    }

    /// The token source of `cfg` (`part`: `mailbox` or `outbox`).
    pub fn get(&mut self, part: &str, cfg: &OAuth2Config) -> Got {
        if let Some((_, c)) = self.clients.iter().find(|(t, _)| t == cfg) {
            return Got::Ready(c.clone(), true);
        }
        let saved: Arc<dyn RefreshTokenStore> = match cfg.grant {
            Grant::ClientCredentials => Arc::new(NoRefreshTokens),
            Grant::RefreshToken => {
                if matches!(self.store, Opened::Not) {
                    self.store = match Store::open(self.store_path) {
                        Ok(s) => Opened::Open(s),
                        Err(StoreError::Locked(_)) => Opened::Locked,
                        Err(e) => Opened::Failed(e.to_string()),
                    };
                }
                match &self.store {
                    Opened::Open(store) => Arc::new(SavedRefreshToken::new(store, &cfg.token_url, &cfg.client_id)),
                    Opened::Locked => {
                        return Got::Skip(format!(
                            "skipped: the daemon is running (it holds the store {}) and its refresh token may be good for one use only; `buzon status` shows its live source",
                            self.store_path.display()
                        ));
                    }
                    Opened::Failed(e) => {
                        return Got::Fail(
                            format!("the saved refresh token cannot be read: {e}"),
                            "see the store's error above; `buzon status` says more".into(),
                        );
                    }
                    Opened::Not => return Got::Fail("the store was not opened".into(), "try again".into()),
                }
            }
        };
        match TokenClient::new(&format!("check {part}"), cfg, saved) {
            Ok(c) => {
                let c: Arc<dyn TokenSource> = Arc::new(c);
                self.clients.push((cfg.clone(), c.clone()));
                Got::Ready(c, false)
            }
            Err(e) => {
                let (detail, fix) = token_problem(&e, part);
                Got::Fail(detail, fix)
            }
        }
    }
}

/// A token failure as (detail, fix), for the `token` step of `[part]`.
pub(super) fn token_problem(e: &TokenError, part: &str) -> (String, String) {
    let table = format!("[{part}.oauth2]");
    match e {
        TokenError::Refused { error, description, fix } => (
            format!(
                "the provider refused: {error}{}",
                description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
            ),
            fix.clone(),
        ),
        TokenError::Unavailable(_) => {
            (e.to_string(), format!("the provider failed for now: try again; if it lasts, check token_url in {table}"))
        }
        TokenError::Transport(_) => (
            e.to_string(),
            format!("check token_url in {table} and that this machine reaches the provider (proxy, firewall)"),
        ),
        TokenError::Persist(_) => {
            (e.to_string(), "the store could not be written: check the disk and the store's folder".into())
        }
        TokenError::Config(m) if m.contains("buzon login") => {
            (e.to_string(), format!("run `buzon login{}`", if part == "outbox" { " --outbox" } else { "" }))
        }
        TokenError::Config(_) => (e.to_string(), format!("correct {table} in config.toml")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_failures_keep_the_providers_words_and_name_a_fix() {
        let table = [
            (
                crate::oauth2::classify(
                    "invalid_client",
                    Some("AADSTS7000215: Invalid client secret provided."),
                    Grant::ClientCredentials,
                ),
                "mailbox",
                "the provider refused: invalid_client (AADSTS7000215: Invalid client secret provided.)",
                "check client_id and the client secret",
            ),
            (
                crate::oauth2::classify("invalid_grant", None, Grant::RefreshToken),
                "outbox",
                "the provider refused: invalid_grant",
                "run `buzon login` again",
            ),
            (
                TokenError::Transport("connection refused".into()),
                "mailbox",
                "cannot reach the token endpoint",
                "check token_url in [mailbox.oauth2]",
            ),
            (
                TokenError::Config("no refresh token: run `buzon login`".into()),
                "outbox",
                "no refresh token",
                "run `buzon login --outbox`",
            ),
            (
                TokenError::Config("the environment variable X (client_secret_env) is not set".into()),
                "mailbox",
                "client_secret_env",
                "correct [mailbox.oauth2]",
            ),
        ];
        for (e, part, detail, fix) in table {
            let (d, f) = token_problem(&e, part);
            assert!(d.contains(detail), "{d}");
            assert!(f.contains(fix), "{f}");
            assert!(!d.contains("Fix:"), "the fix is not repeated in the detail: {d}");
        }
    }
}
