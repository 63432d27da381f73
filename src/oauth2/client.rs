//! The token client: gets access tokens from the provider's token endpoint
//! (the `oauth2` crate over reqwest with rustls + ring), keeps the current
//! one, refreshes it ahead of expiry and after a server refused it, and
//! saves rotated refresh tokens before they are used.
//!
//! One request at a time per client (an async lock): two connections that
//! both find the token stale wait for one refresh, which matters when
//! refresh tokens are one-use — two refreshes with the same token would
//! make the provider revoke both.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use ::oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, HttpClientError, RefreshToken, RequestTokenError,
    Scope, TokenResponse, TokenUrl,
};
use tracing::{info, warn};

use super::{Grant, OAuth2Config, RefreshTokenStore, Secret, TokenError, classify};

/// Lifetime assumed when the provider does not say (`expires_in` is only
/// RECOMMENDED by RFC 6749; Microsoft and Google send it).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// Refresh when less than this is left, or less than a tenth of the
/// lifetime, whichever is smaller (a 5-second test token is not refreshed
/// on every use; a one-hour token is refreshed 5 minutes early).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Is a token obtained `age` ago, valid for `life`, due for a refresh?
pub fn refresh_due(life: Duration, age: Duration) -> bool {
    let margin = REFRESH_MARGIN.min(life / 10);
    age + margin >= life
}

/// A future returned by [`TokenSource::access_token`].
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Secret, TokenError>> + Send + 'a>>;

/// Where the IMAP and SMTP hooks get bearer tokens from.
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// A token valid for a while yet: the kept one, or a new one.
    fn access_token(&self) -> TokenFuture<'_>;
    /// The server refused `token` (a failed AUTHENTICATE): the next
    /// [`TokenSource::access_token`] gets a new one whatever its expiry says.
    fn rejected(&self, token: &Secret);
}

struct Cached {
    token: Secret,
    obtained: Instant,
    life: Duration,
}

#[derive(Default)]
struct State {
    /// The refresh token to use next (grant = refresh_token).
    refresh: Option<Secret>,
    /// `refresh` came from the provider and is not saved yet.
    unsaved: bool,
    cached: Option<Cached>,
}

type Oauth = BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Access tokens for one `[… .oauth2]` table.
pub struct TokenClient {
    /// For logs: which table and provider.
    label: String,
    grant: Grant,
    scopes: Vec<String>,
    oauth: Oauth,
    http: reqwest::Client,
    store: Arc<dyn RefreshTokenStore>,
    /// The token of `refresh_token_file`, tried once when the saved one is
    /// refused (an operator ran `buzon login` again).
    file_token: Option<Secret>,
    state: tokio::sync::Mutex<State>,
    refused: std::sync::Mutex<Option<Secret>>,
}

impl std::fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenClient").field("label", &self.label).field("grant", &self.grant).finish_non_exhaustive()
    }
}

/// The HTTP client for token requests: no redirects (a token request is
/// never redirected; following one could send the secret elsewhere), no
/// kept connections (a token is asked for once an hour, and the same client
/// serves the IMAP task's runtime and the SMTP sink's, so a pooled
/// connection could belong to a runtime that is not running).
pub fn http_client() -> Result<reqwest::Client, TokenError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("buzon/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| TokenError::Config(format!("HTTP client: {e}")))
}

/// The `oauth2` crate's client for a table (secret in the request body,
/// which Microsoft Entra and Google both take).
pub(crate) fn oauth_client(cfg: &OAuth2Config) -> Result<Oauth, TokenError> {
    let secret = cfg.client_secret().map_err(TokenError::Config)?;
    let url = TokenUrl::new(cfg.token_url.clone())
        .map_err(|e| TokenError::Config(format!("token_url `{}`: {e}", cfg.token_url)))?;
    let mut c =
        BasicClient::new(ClientId::new(cfg.client_id.clone())).set_token_uri(url).set_auth_type(AuthType::RequestBody);
    if let Some(s) = secret {
        c = c.set_client_secret(ClientSecret::new(s.expose().to_string()));
    }
    Ok(c)
}

/// A token endpoint failure as a [`TokenError`]. Response bodies are never
/// quoted: a malformed 200 answer may hold a token.
pub(crate) fn request_error<TE>(e: RequestTokenError<HttpClientError<reqwest::Error>, TE>, grant: Grant) -> TokenError
where
    TE: ::oauth2::ErrorResponse + 'static,
    TE: ErrorParts,
{
    match e {
        RequestTokenError::ServerResponse(r) => {
            let (code, desc) = r.parts();
            classify(&code, desc.as_deref(), grant)
        }
        RequestTokenError::Request(e) => TokenError::Transport(chain(&e)),
        RequestTokenError::Parse(_, body) => {
            let looks = if body.trim_ascii_start().starts_with(b"<") { "an HTML page" } else { "not an OAuth2 answer" };
            TokenError::Unavailable(format!("unreadable answer ({} bytes, {looks})", body.len()))
        }
        RequestTokenError::Other(s) => TokenError::Unavailable(s),
    }
}

/// The `error` and `error_description` of an error response.
pub trait ErrorParts {
    fn parts(&self) -> (String, Option<String>);
}

impl ErrorParts for BasicErrorResponse {
    fn parts(&self) -> (String, Option<String>) {
        (self.error().as_ref().to_string(), self.error_description().cloned())
    }
}

impl ErrorParts for ::oauth2::DeviceCodeErrorResponse {
    fn parts(&self) -> (String, Option<String>) {
        (self.error().as_ref().to_string(), self.error_description().cloned())
    }
}

/// An error and its causes on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        cur = s.source();
    }
    out
}

impl TokenClient {
    /// A client for `cfg`; `label` names it in logs ("mailbox", "outbox").
    /// Reads the client secret now (a missing one fails start-up), and the
    /// refresh token: the saved one, else `refresh_token_file`.
    pub fn new(label: &str, cfg: &OAuth2Config, store: Arc<dyn RefreshTokenStore>) -> Result<TokenClient, TokenError> {
        let problems = cfg.problems();
        if !problems.is_empty() {
            return Err(TokenError::Config(problems.join("; ")));
        }
        let oauth = oauth_client(cfg)?;
        let (refresh, file_token) = match cfg.grant {
            Grant::ClientCredentials => (None, None),
            Grant::RefreshToken => {
                let saved = store
                    .load_refresh_token()
                    .map_err(|e| TokenError::Persist(format!("cannot read the saved refresh token: {e:#}")))?;
                // The file matters only while nothing is saved (it may be
                // gone once the first token was used: that is fine).
                let file = match (cfg.first_refresh_token(), &saved) {
                    (Ok(f), _) => f,
                    (Err(e), None) => return Err(TokenError::Config(e)),
                    (Err(_), Some(_)) => None,
                };
                (saved.or_else(|| file.clone()), file)
            }
        };
        Ok(TokenClient {
            label: label.to_string(),
            grant: cfg.grant,
            scopes: cfg.scopes().map(str::to_string).collect(),
            oauth,
            http: http_client()?,
            store,
            file_token,
            state: tokio::sync::Mutex::new(State { refresh, ..State::default() }),
            refused: std::sync::Mutex::new(None),
        })
    }

    async fn token(&self) -> Result<Secret, TokenError> {
        let mut st = self.state.lock().await;
        if st.unsaved {
            self.save(&mut st)?;
        }
        let refused = self.refused.lock().ok().and_then(|mut r| r.take());
        if let Some(c) = &st.cached
            && refused.as_ref() != Some(&c.token)
            && !refresh_due(c.life, c.obtained.elapsed())
        {
            return Ok(c.token.clone());
        }
        st.cached = None;
        let sent = Instant::now();
        let answer = match self.grant {
            Grant::ClientCredentials => self.client_credentials().await?,
            Grant::RefreshToken => self.refresh(&mut st).await?,
        };
        let token = Secret::new(answer.access_token().secret().as_str());
        let life = answer.expires_in().unwrap_or(DEFAULT_LIFETIME);
        // Rotated: saved before the access token that came with it is
        // used. Kept either way: if saving fails, the next call saves again
        // and then hands out this token (no new grant while one is unsaved).
        if let Some(new) = answer.refresh_token()
            && st.refresh.as_ref().map(Secret::expose) != Some(new.secret().as_str())
        {
            st.refresh = Some(Secret::new(new.secret().as_str()));
            st.unsaved = true;
        }
        st.cached = Some(Cached { token: token.clone(), obtained: sent, life });
        info!("OAuth2 ({}): new access token by {}, valid {} s", self.label, self.grant.name(), life.as_secs());
        if st.unsaved {
            self.save(&mut st)?;
        }
        Ok(token)
    }

    fn save(&self, st: &mut State) -> Result<(), TokenError> {
        let Some(t) = &st.refresh else { return Ok(()) };
        match self.store.save_refresh_token(t.expose()) {
            Ok(()) => {
                st.unsaved = false;
                Ok(())
            }
            Err(e) => {
                warn!(
                    "OAuth2 ({}): cannot save the new refresh token: {e:#}; retrying before the next use",
                    self.label
                );
                Err(TokenError::Persist(format!("{e:#}")))
            }
        }
    }

    async fn client_credentials(&self) -> Result<BasicTokenResponse, TokenError> {
        let req = self.oauth.exchange_client_credentials().add_scopes(self.scopes.iter().cloned().map(Scope::new));
        req.request_async(&self.http).await.map_err(|e| request_error(e, self.grant))
    }

    async fn refresh(&self, st: &mut State) -> Result<BasicTokenResponse, TokenError> {
        let Some(current) = st.refresh.clone() else {
            return Err(TokenError::Config("no refresh token: run `buzon login`".into()));
        };
        let first = self.refresh_with(&current).await;
        match first {
            Err(e) if e.code() == Some("invalid_grant") => {
                // The saved token is dead; a new refresh_token_file (a new
                // `buzon login`) gets one chance.
                match &self.file_token {
                    Some(file) if *file != current => {
                        warn!(
                            "OAuth2 ({}): the saved refresh token was refused; trying refresh_token_file",
                            self.label
                        );
                        let r = self.refresh_with(file).await?;
                        // Saved in place of the dead one (rotated or not).
                        st.refresh = Some(file.clone());
                        st.unsaved = true;
                        Ok(r)
                    }
                    _ => Err(e),
                }
            }
            other => other,
        }
    }

    async fn refresh_with(&self, token: &Secret) -> Result<BasicTokenResponse, TokenError> {
        let rt = RefreshToken::new(token.expose().to_string());
        let req = self.oauth.exchange_refresh_token(&rt).add_scopes(self.scopes.iter().cloned().map(Scope::new));
        req.request_async(&self.http).await.map_err(|e| request_error(e, self.grant))
    }
}

impl TokenSource for TokenClient {
    fn access_token(&self) -> TokenFuture<'_> {
        Box::pin(self.token())
    }

    fn rejected(&self, token: &Secret) {
        if let Ok(mut r) = self.refused.lock() {
            *r = Some(token.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_ahead_of_expiry_not_on_every_use() {
        let s = Duration::from_secs;
        let table = [
            // (lifetime, age, due)
            (s(3600), s(0), false),
            (s(3600), s(3299), false),
            (s(3600), s(3300), true), // 5 min left
            (s(3600), s(4000), true),
            (s(600), s(539), false),
            (s(600), s(540), true), // a tenth left
            (s(5), s(4), false),
            (s(5), Duration::from_millis(4500), true),
            (s(0), s(0), true),
        ];
        for (life, age, due) in table {
            assert_eq!(refresh_due(life, age), due, "life {life:?} age {age:?}");
        }
    }

    #[test]
    fn transport_errors_keep_their_cause_and_bodies_are_never_quoted() {
        let parse: RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse> = RequestTokenError::Parse(
            serde_path_to_error::deserialize::<_, BasicErrorResponse>(&mut serde_json::Deserializer::from_str("{}"))
                .err()
                .unwrap_or_else(|| panic!("an empty object is no error response")),
            br#"{"access_token":"eyJ-secret","weird":1}"#.to_vec(),
        );
        let e = request_error(parse, Grant::ClientCredentials);
        assert_eq!(e.kind(), super::super::Kind::Retryable);
        assert!(!e.to_string().contains("eyJ"), "{e}");
        let html: RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse> = RequestTokenError::Parse(
            serde_path_to_error::deserialize::<_, BasicErrorResponse>(&mut serde_json::Deserializer::from_str("<"))
                .err()
                .unwrap_or_else(|| panic!("html is no json")),
            b"<html>503</html>".to_vec(),
        );
        assert!(request_error(html, Grant::RefreshToken).to_string().contains("HTML page"));
    }
}
