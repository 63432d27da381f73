//! The device-code flow (RFC 8628) for a future `buzon login`: the desk's
//! administrator opens the verification page on any device, types the user
//! code, consents; buzon polls the token endpoint and receives the first
//! refresh token, which `buzon login` writes to `refresh_token_file`.
//!
//! ```text
//! let login = start(&cfg).await?;            // show login.verification_uri + login.user_code
//! let tokens = finish(&cfg, &login, None).await?;   // polls until approved
//! ```

use std::time::Duration;

use ::oauth2::{DeviceAuthorizationUrl, Scope, StandardDeviceAuthorizationResponse, TokenResponse};

use super::client::{http_client, oauth_client, request_error};
use super::{OAuth2Config, Secret, TokenError};

/// A started device login: what to show the person, and what to poll with.
pub struct DeviceLogin {
    /// The code the person types on the verification page.
    pub user_code: String,
    /// Where to type it.
    pub verification_uri: String,
    /// How long the code stays valid.
    pub expires_in: Duration,
    details: StandardDeviceAuthorizationResponse,
}

/// What the approved login gives.
pub struct DeviceTokens {
    pub access_token: Secret,
    /// The first refresh token (for `refresh_token_file`); `None` if the
    /// provider gave none (an offline-access scope may be missing).
    pub refresh_token: Option<Secret>,
}

/// Ask the provider for a device code.
pub async fn start(cfg: &OAuth2Config) -> Result<DeviceLogin, TokenError> {
    let url = cfg.device_url();
    let client = oauth_client(cfg)?.set_device_authorization_url(
        DeviceAuthorizationUrl::new(url.clone())
            .map_err(|e| TokenError::Config(format!("device_authorization_url `{url}`: {e}")))?,
    );
    let http = http_client()?;
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(cfg.scopes().map(|s| Scope::new(s.to_string())))
        .request_async(&http)
        .await
        .map_err(|e| request_error(e, cfg.grant))?;
    Ok(DeviceLogin {
        user_code: details.user_code().secret().to_string(),
        verification_uri: details.verification_uri().to_string(),
        expires_in: details.expires_in(),
        details,
    })
}

/// Poll the token endpoint (at the interval the provider asked for) until
/// the person approved, refused, or the code expired; `timeout` caps the wait.
pub async fn finish(
    cfg: &OAuth2Config,
    login: &DeviceLogin,
    timeout: Option<Duration>,
) -> Result<DeviceTokens, TokenError> {
    let client = oauth_client(cfg)?;
    let http = http_client()?;
    let answer = client
        .exchange_device_access_token(&login.details)
        .request_async(&http, tokio::time::sleep, timeout)
        .await
        .map_err(|e| request_error(e, cfg.grant))?;
    Ok(DeviceTokens {
        access_token: Secret::new(answer.access_token().secret().as_str()),
        refresh_token: answer.refresh_token().map(|r| Secret::new(r.secret().as_str())),
    })
}
