//! `buzon login [--outbox]`: the device-code flow (RFC 8628) for the
//! mailbox's (or the outbox's) `[… .oauth2]` table with `grant =
//! "refresh_token"`. A person opens the provider's page on any device,
//! types the code shown and consents; the first refresh token is saved in
//! the store (durable before "done"), where the daemon and `buzon check`
//! read it. Refused while the daemon runs: it holds the store and its own
//! refresh token.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::Exit;
use crate::config::{Auth, Config, Mailbox, Outbox};
use crate::oauth2::{Grant, OAuth2Config, RefreshTokenStore, TokenError};
use crate::store::tokens::SavedRefreshToken;
use crate::store::{Store, StoreError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log in for `[outbox.oauth2]` instead of `[mailbox.oauth2]`.
    #[arg(long)]
    pub outbox: bool,
}

/// The table of a part and the mailbox it logs in as.
fn table(config: &Config, outbox: bool) -> anyhow::Result<(&OAuth2Config, String)> {
    let (part, auth, user) = if outbox {
        match &config.outbox {
            Outbox::Smtp(o) => ("outbox", &o.auth, o.user.clone().unwrap_or_default()),
            Outbox::Files { .. } => {
                anyhow::bail!("[outbox] is a folder of files (kind = \"files\"): nothing to log in to")
            }
        }
    } else {
        match &config.mailbox {
            Mailbox::Imap(m) => ("mailbox", &m.auth, m.user.clone()),
            Mailbox::Maildir { .. } => {
                anyhow::bail!(
                    "[mailbox] is a Maildir (kind = \"maildir\"): nothing to log in to (`--outbox` for the outbox)"
                )
            }
        }
    };
    let Auth::OAuth2(cfg) = auth else {
        anyhow::bail!("[{part}] logs in with a password (auth = \"password\"): `buzon login` is for auth = \"oauth2\"");
    };
    if cfg.grant != Grant::RefreshToken {
        anyhow::bail!(
            "[{part}.oauth2] uses grant = \"{}\": the app logs in with its own secret and nobody needs to sign in; `buzon login` is for grant = \"refresh_token\"",
            cfg.grant.name()
        );
    }
    Ok((cfg, user))
}

/// A failed device login as the operator should read it.
fn refusal(e: TokenError) -> anyhow::Error {
    match e.code() {
        Some("access_denied" | "authorization_declined") => anyhow::anyhow!(
            "the sign-in was declined on the provider's page ({e}). Run `buzon login` again and accept; if the page says an administrator must approve, an administrator must grant consent to the app first"
        ),
        Some("expired_token") => anyhow::anyhow!(
            "the code expired before the sign-in was completed ({e}). Run `buzon login` again and enter the new code in time"
        ),
        Some("invalid_client" | "unauthorized_client") => anyhow::anyhow!(
            "the provider refuses this app for the device login: {e}. Microsoft: allow public client flows in the app registration (Authentication → Advanced settings); Google: use an OAuth client of type \"TVs and Limited Input devices\""
        ),
        Some("invalid_scope") => anyhow::anyhow!(
            "the provider does not allow this scope in the device login: {e}. Google allows only a few scopes in this flow, and Gmail's is not documented among them: get the first refresh token with a Desktop OAuth client and set refresh_token_file, or use an app password (README: \"Google Workspace\")"
        ),
        _ => anyhow::anyhow!("the device login failed: {e}"),
    }
}

pub fn execute(config_path: &Path, args: Args) -> anyhow::Result<Exit> {
    let config = Config::load(config_path)?;
    let (cfg, user) = table(&config, args.outbox)?;
    let part = if args.outbox { "outbox" } else { "mailbox" };
    let store = match Store::open(&config.store.path) {
        Ok(s) => s,
        Err(StoreError::Locked(path)) => anyhow::bail!(
            "the daemon is running (the store {path} is in use): stop it, run `buzon login`, then start it again (a second login while it runs could spend the refresh token it holds)"
        ),
        Err(e) => return Err(e.into()),
    };
    let saved = SavedRefreshToken::new(&store, &cfg.token_url, &cfg.client_id);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let refresh = runtime.block_on(async {
        let login = crate::oauth2::device::start(cfg).await.map_err(refusal)?;
        let minutes = login.expires_in.as_secs().div_ceil(60);
        let mut out = std::io::stdout().lock();
        writeln!(out, "Sign-in for the {part} ({user}):")?;
        writeln!(out, "  1. Open {} in a browser, on any device.", login.verification_uri)?;
        writeln!(out, "  2. Enter the code {}", login.user_code)?;
        writeln!(out, "  3. Sign in as {user} and accept the permissions.")?;
        writeln!(out, "Waiting for the sign-in (the code is valid for {minutes} minutes)…")?;
        out.flush()?;
        drop(out);
        let wait = login.expires_in + Duration::from_secs(5);
        let tokens = crate::oauth2::device::finish(cfg, &login, Some(wait)).await.map_err(refusal)?;
        tokens.refresh_token.ok_or_else(|| {
            anyhow::anyhow!(
                "the provider gave no refresh token: Microsoft: add `offline_access` to scope in [{part}.oauth2]; Google: the scope https://mail.google.com/ gives one"
            )
        })
    })?;
    // Durable (flushed) before it says done.
    saved.save_refresh_token(refresh.expose())?;
    println!("Done: the refresh token is saved in the store ({}).", config.store.path.display());
    let other = match (args.outbox, &config.mailbox, &config.outbox) {
        (false, _, Outbox::Smtp(o)) => {
            matches!(&o.auth, Auth::OAuth2(t) if t.token_url == cfg.token_url && t.client_id == cfg.client_id)
                .then_some("outbox")
        }
        (true, Mailbox::Imap(m), _) => {
            matches!(&m.auth, Auth::OAuth2(t) if t.token_url == cfg.token_url && t.client_id == cfg.client_id)
                .then_some("mailbox")
        }
        _ => None,
    };
    if let Some(other) = other {
        println!("The {other} uses the same OAuth2 client: this sign-in serves it too.");
    }
    println!("Start buzon (`buzon run`), or first `buzon check`.");
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_device_login_says_what_happened_and_what_to_do() {
        let table = [
            ("access_denied", Some("The user denied the request."), "declined", "Run `buzon login` again"),
            ("authorization_declined", Some("AADSTS70000: The user denied"), "declined", "consent"),
            ("expired_token", None, "code expired", "enter the new code in time"),
            (
                "invalid_client",
                Some("AADSTS7000218: client_assertion or client_secret"),
                "refuses this app",
                "public client flows",
            ),
            ("invalid_scope", None, "does not allow this scope", "refresh_token_file"),
            ("server_error", None, "device login failed", "server_error"),
        ];
        for (code, desc, what, todo) in table {
            let e = crate::oauth2::classify(code, desc, Grant::RefreshToken);
            let text = refusal(e).to_string();
            assert!(text.contains(what), "{code}: {text}");
            assert!(text.contains(todo), "{code}: {text}");
            assert!(text.contains(code), "the provider's code is kept: {text}");
        }
    }
}
