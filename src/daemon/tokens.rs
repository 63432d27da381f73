//! The OAuth2 token sources of a config: one client per distinct
//! `[… .oauth2]` table (the mailbox and the outbox share one when their
//! tables are the same — two clients refreshing one one-use refresh token
//! would revoke each other), its rotated refresh tokens kept in the store.

use std::sync::Arc;

use crate::config::{Auth, Config, Mailbox, Outbox};
use crate::oauth2::{Grant, NoRefreshTokens, OAuth2Config, RefreshTokenStore, TokenClient, TokenError, TokenSource};
use crate::store::Store;
use crate::store::tokens::SavedRefreshToken;

/// The token source of the mailbox and of the outbox, when they use OAuth2.
#[derive(Default)]
pub struct Sources {
    pub mailbox: Option<Arc<dyn TokenSource>>,
    pub outbox: Option<Arc<dyn TokenSource>>,
}

fn client(label: &str, cfg: &OAuth2Config, store: &Store) -> Result<Arc<dyn TokenSource>, TokenError> {
    let saved: Arc<dyn RefreshTokenStore> = match cfg.grant {
        Grant::ClientCredentials => Arc::new(NoRefreshTokens),
        Grant::RefreshToken => Arc::new(SavedRefreshToken::new(store, &cfg.token_url, &cfg.client_id)),
    };
    Ok(Arc::new(TokenClient::new(label, cfg, saved)?))
}

pub fn sources(config: &Config, store: &Store) -> Result<Sources, TokenError> {
    let mailbox = match &config.mailbox {
        Mailbox::Imap(m) => match &m.auth {
            Auth::OAuth2(t) => Some((t, client("mailbox", t, store)?)),
            Auth::Password(_) => None,
        },
        Mailbox::Maildir { .. } => None,
    };
    let outbox = match &config.outbox {
        Outbox::Smtp(o) => match &o.auth {
            Auth::OAuth2(t) => match &mailbox {
                Some((same, shared)) if *same == t => Some(shared.clone()),
                _ => Some(client("outbox", t, store)?),
            },
            Auth::Password(_) => None,
        },
        Outbox::Files { .. } => None,
    };
    Ok(Sources { mailbox: mailbox.map(|(_, s)| s), outbox })
}
