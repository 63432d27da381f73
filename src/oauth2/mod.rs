//! OAuth2 for IMAP and SMTP (Microsoft 365 and Google Workspace have no
//! password login, or forbid it): the `[mailbox.oauth2]` / `[outbox.oauth2]`
//! table ([`OAuth2Config`]), the token client ([`TokenClient`], a
//! [`TokenSource`] for the IMAP and SMTP hooks), the persistence of rotated
//! refresh tokens ([`RefreshTokenStore`]), the SASL strings ([`sasl`]) and
//! the device-code flow for `buzon login` ([`device`]).
//!
//! | file | what |
//! |---|---|
//! | `config.rs` | the table: serde, `deny_unknown_fields`, problems with fixes |
//! | `client.rs` | client credentials / refresh token grants, refresh ahead of expiry and on demand |
//! | `persist.rs` | the rotated refresh token, saved before use; a file-backed store |
//! | `error.rs` | fatal (refused client, grant, consent) vs retryable (transport) |
//! | `sasl.rs` | XOAUTH2 and OAUTHBEARER (RFC 7628) initial responses |
//! | `device.rs` | RFC 8628 device authorization grant |
//! | `secret.rs` | tokens and secrets that never print |

pub mod client;
pub mod config;
pub mod device;
pub mod error;
pub mod persist;
pub mod sasl;
pub mod secret;

pub use client::{TokenClient, TokenFuture, TokenSource, refresh_due};
pub use config::{Grant, OAuth2Config};
pub use error::{Kind, TokenError, classify};
pub use persist::{FileRefreshTokens, NoRefreshTokens, RefreshTokenStore};
pub use secret::Secret;
