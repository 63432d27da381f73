//! The `[mailbox.oauth2]` / `[outbox.oauth2]` table of `config.toml`.
//!
//! ```toml
//! [mailbox]
//! auth = "oauth2"
//! [mailbox.oauth2]
//! token_url = "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token"
//! client_id = "…"
//! client_secret_env = "BUZON_OAUTH_SECRET"
//! scope = "https://outlook.office365.com/.default"
//! grant = "client_credentials"
//! ```
//!
//! The config loader (`config.rs`) embeds [`OAuth2Config`] and calls
//! [`OAuth2Config::problems`] in its validation stage and
//! [`OAuth2Config::resolve_paths`] with its base folder.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Secret;

/// How buzon gets its access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// The app's own identity (client id + secret), no user involved:
    /// Microsoft 365 with an application permission on the mailbox
    /// (`IMAP.AccessAsApp`, `SMTP.SendAsApp`). The default.
    #[default]
    ClientCredentials,
    /// A user's refresh token (Google Workspace, or Microsoft delegated
    /// access): each refresh may hand out a new refresh token, which is
    /// saved before it is used.
    RefreshToken,
}

impl Grant {
    pub fn name(self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::RefreshToken => "refresh_token",
        }
    }
}

/// `[mailbox.oauth2]` and `[outbox.oauth2]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Config {
    /// The provider's token endpoint, e.g.
    /// `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token` or
    /// `https://oauth2.googleapis.com/token`. HTTPS, except on loopback.
    pub token_url: String,
    /// The app (client) id of the registration.
    pub client_id: String,
    /// Name of an environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// A file holding the client secret (first line). Relative to the config file.
    pub client_secret_file: Option<PathBuf>,
    /// Space-separated scopes asked for, e.g.
    /// `https://outlook.office365.com/.default` (Microsoft, app access) or
    /// `https://mail.google.com/` (Google).
    pub scope: String,
    /// `client_credentials` (default) or `refresh_token`.
    #[serde(default)]
    pub grant: Grant,
    /// For `grant = "refresh_token"`, optional: a file holding the first
    /// refresh token (first line), for a token obtained elsewhere; `buzon
    /// login` keeps it in the store instead. Only read while no token has
    /// been saved in the store; the saved one wins afterwards.
    pub refresh_token_file: Option<PathBuf>,
    /// The device authorization endpoint for `buzon login` (RFC 8628). When
    /// absent it is derived from `token_url`: Microsoft's `…/devicecode`,
    /// Google's `https://oauth2.googleapis.com/device/code`.
    pub device_authorization_url: Option<String>,
}

/// Hosts where plain `http://` is acceptable (test identity providers).
fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1") || host.starts_with("127.")
}

/// The host of an `http(s)://host[:port]/…` URL, and whether it is HTTPS.
fn split_url(url: &str) -> Option<(bool, &str)> {
    let (https, rest) =
        if let Some(r) = url.strip_prefix("https://") { (true, r) } else { (false, url.strip_prefix("http://")?) };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if authority.starts_with('[') {
        authority.find(']').map(|i| &authority[..=i])?
    } else {
        authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority)
    };
    (!host.is_empty()).then_some((https, host))
}

impl OAuth2Config {
    /// Every problem of the table, each a sentence naming the key and the
    /// fix (the loader attaches the position). Empty when usable.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        match split_url(&self.token_url) {
            None => out.push(format!(
                "token_url `{}` is not an http(s) URL (e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token)",
                self.token_url
            )),
            Some((false, host)) if !is_loopback(host) => out.push(format!(
                "token_url `{}` must use https (plain http only for a test provider on 127.0.0.1)",
                self.token_url
            )),
            Some(_) => {}
        }
        if let Some(url) = &self.device_authorization_url
            && split_url(url).is_none()
        {
            out.push(format!("device_authorization_url `{url}` is not an http(s) URL"));
        }
        if self.client_id.trim().is_empty() {
            out.push("client_id is empty: give the app (client) id of the registration".into());
        }
        if self.scope.split_whitespace().next().is_none() {
            out.push(
                "scope is empty (e.g. \"https://outlook.office365.com/.default\" or \"https://mail.google.com/\")"
                    .into(),
            );
        }
        if self.client_secret_env.is_some() && self.client_secret_file.is_some() {
            out.push("give one of `client_secret_env` and `client_secret_file`, not both".into());
        }
        match self.grant {
            Grant::ClientCredentials => {
                if self.client_secret_env.is_none() && self.client_secret_file.is_none() {
                    out.push(
                        "grant \"client_credentials\" needs the client secret: `client_secret_env` or `client_secret_file`"
                            .into(),
                    );
                }
                if self.refresh_token_file.is_some() {
                    out.push("refresh_token_file is only read with grant = \"refresh_token\"".into());
                }
            }
            // The first refresh token comes from `buzon login` (kept in the
            // store) or from `refresh_token_file`; without either, the first
            // token request says to run `buzon login`.
            Grant::RefreshToken => {}
        }
        out
    }

    /// Make the file paths absolute against the config file's folder.
    pub fn resolve_paths(&mut self, resolve: impl Fn(&Path) -> PathBuf) {
        for p in [&mut self.client_secret_file, &mut self.refresh_token_file] {
            *p = p.as_deref().map(&resolve);
        }
    }

    /// The client secret, from the environment or its file; `None` when
    /// none is configured (a public client with a refresh token).
    pub fn client_secret(&self) -> Result<Option<Secret>, String> {
        if let Some(name) = &self.client_secret_env {
            return std::env::var(name)
                .map(|v| Some(Secret::new(v.trim())))
                .map_err(|_| format!("the environment variable {name} (client_secret_env) is not set"));
        }
        if let Some(path) = &self.client_secret_file {
            return first_line(path).map(Some).map_err(|e| format!("cannot read client_secret_file: {e}"));
        }
        Ok(None)
    }

    /// The first refresh token, from `refresh_token_file`.
    pub fn first_refresh_token(&self) -> Result<Option<Secret>, String> {
        match &self.refresh_token_file {
            Some(path) => first_line(path).map(Some).map_err(|e| format!("cannot read refresh_token_file: {e}")),
            None => Ok(None),
        }
    }

    /// The scopes, one per word.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }

    /// The device authorization endpoint (given, or derived from `token_url`).
    pub fn device_url(&self) -> String {
        if let Some(u) = &self.device_authorization_url {
            return u.clone();
        }
        if self.token_url.starts_with("https://oauth2.googleapis.com/") {
            return "https://oauth2.googleapis.com/device/code".into();
        }
        match self.token_url.strip_suffix("/token") {
            Some(base) => format!("{base}/devicecode"),
            None => format!("{}/devicecode", self.token_url.trim_end_matches('/')),
        }
    }
}

/// The first line of a secret file, trimmed; an empty one is an error.
fn first_line(path: &Path) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(Secret::new(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<OAuth2Config, String> {
        toml::from_str(toml_text).map_err(|e| e.to_string())
    }

    const MS: &str = r#"
token_url = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
client_id = "6731de76-14a6-49ae-97bc-6eba6914391e"
client_secret_env = "BUZON_OAUTH_SECRET"
scope = "https://outlook.office365.com/.default"
"#;

    #[test]
    fn the_documented_tables_parse_and_validate() {
        let c = parse(MS).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.grant, Grant::ClientCredentials);
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        assert_eq!(c.device_url(), "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode");
        let g = parse(
            r#"
token_url = "https://oauth2.googleapis.com/token"
client_id = "1234.apps.googleusercontent.com"
client_secret_file = "secretos/google.txt"
scope = "https://mail.google.com/"
grant = "refresh_token"
refresh_token_file = "secretos/refresh.txt"
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(g.problems().is_empty(), "{:?}", g.problems());
        assert_eq!(g.device_url(), "https://oauth2.googleapis.com/device/code");
        let mut g = g;
        g.resolve_paths(|p| Path::new("/etc/buzon").join(p));
        assert_eq!(g.refresh_token_file.as_deref(), Some(Path::new("/etc/buzon/secretos/refresh.txt")));
    }

    #[test]
    fn unknown_keys_and_grants_are_refused() {
        let e = parse(&format!("{MS}client_secret = \"x\"\n")).err().unwrap_or_default();
        assert!(e.contains("unknown field `client_secret`"), "{e}");
        let e = parse(&format!("{MS}grant = \"password\"\n")).err().unwrap_or_default();
        assert!(e.contains("unknown variant `password`"), "{e}");
    }

    #[test]
    fn problems_name_the_key_and_the_fix() {
        let base = parse(MS).unwrap_or_else(|e| panic!("{e}"));
        type Change = Box<dyn Fn(&mut OAuth2Config)>;
        let table: Vec<(Change, &str)> = vec![
            (Box::new(|c| c.token_url = "http://login.example.com/token".into()), "must use https"),
            (Box::new(|c| c.token_url = "login.microsoftonline.com/token".into()), "is not an http(s) URL"),
            (Box::new(|c| c.client_id = " ".into()), "client_id is empty"),
            (Box::new(|c| c.scope = "".into()), "scope is empty"),
            (Box::new(|c| c.client_secret_env = None), "needs the client secret"),
            (Box::new(|c| c.client_secret_file = Some("s".into())), "not both"),
            (Box::new(|c| c.refresh_token_file = Some("r".into())), "only read with grant"),
        ];
        for (change, want) in table {
            let mut c = base.clone();
            change(&mut c);
            let p = c.problems();
            assert!(p.iter().any(|m| m.contains(want)), "{want}: {p:?}");
        }
        // A refresh-token client needs no file: `buzon login` keeps the token in the store.
        let mut c = base.clone();
        c.grant = Grant::RefreshToken;
        c.client_secret_env = None;
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        // A test provider on loopback may use plain http.
        for url in ["http://127.0.0.1:18080/token", "http://localhost/token", "http://[::1]:80/token"] {
            let mut c = base.clone();
            c.token_url = url.into();
            assert!(c.problems().is_empty(), "{url}: {:?}", c.problems());
        }
    }

    #[test]
    fn secrets_come_from_the_environment_or_a_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("secret");
        std::fs::write(&file, "s3cr3t-valor\nsecond line ignored\n").unwrap_or_else(|e| panic!("{e}"));
        let mut c = parse(MS).unwrap_or_else(|e| panic!("{e}"));
        c.client_secret_env = None;
        c.client_secret_file = Some(file.clone());
        assert_eq!(c.client_secret().ok().flatten().map(|s| s.expose().to_string()), Some("s3cr3t-valor".into()));
        c.client_secret_file = Some(dir.path().join("missing"));
        assert!(c.client_secret().is_err_and(|e| e.contains("client_secret_file")));
        c.client_secret_file = None;
        c.client_secret_env = Some("BUZON_TEST_SURELY_UNSET_VARIABLE".into());
        assert!(c.client_secret().is_err_and(|e| e.contains("BUZON_TEST_SURELY_UNSET_VARIABLE")));
        std::fs::write(&file, "\n").unwrap_or_else(|e| panic!("{e}"));
        c.refresh_token_file = Some(file);
        assert!(c.first_refresh_token().is_err_and(|e| e.contains("is empty")));
    }
}
