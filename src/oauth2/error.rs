//! What can go wrong getting a token, typed so that loops branch on
//! [`TokenError::kind`], never on message text: a provider that refuses the
//! client or its grant is **fatal** (retrying changes nothing: a person must
//! fix the registration, the secret or the consent), trouble on the way
//! (network, a 5xx, an HTML error page, a full disk for the rotated token)
//! is **retryable** with backoff.

use super::Grant;

/// Whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Stop, say why and how to fix it.
    Fatal,
    /// Try again later (backoff).
    Retryable,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The provider answered with an OAuth2 error that a person must fix.
    #[error("the token endpoint refused: {error}{}. Fix: {fix}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The provider's `error` code (`invalid_client`, `invalid_grant`, …).
        error: String,
        /// The provider's `error_description`, as it came.
        description: Option<String>,
        /// One line saying what to do.
        fix: String,
    },
    /// The provider answered with an error that may pass (`server_error`,
    /// `temporarily_unavailable`, an HTTP error page).
    #[error("the token endpoint failed: {0}")]
    Unavailable(String),
    /// The token endpoint could not be reached or did not answer in time.
    #[error("cannot reach the token endpoint: {0}")]
    Transport(String),
    /// The rotated refresh token could not be saved; it is kept in memory
    /// and saved again before any token is handed out.
    #[error("cannot save the new refresh token: {0}")]
    Persist(String),
    /// The configuration cannot work (missing secret, bad URL).
    #[error("OAuth2 configuration: {0}")]
    Config(String),
}

impl TokenError {
    pub fn kind(&self) -> Kind {
        match self {
            TokenError::Refused { .. } | TokenError::Config(_) => Kind::Fatal,
            TokenError::Unavailable(_) | TokenError::Transport(_) | TokenError::Persist(_) => Kind::Retryable,
        }
    }

    pub fn is_fatal(&self) -> bool {
        self.kind() == Kind::Fatal
    }

    /// The OAuth2 `error` code when the provider refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            TokenError::Refused { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Classify a provider's `error` / `error_description` (RFC 6749 §5.2, and
/// what Microsoft Entra and Google add) into fatal-with-a-fix or retryable.
pub fn classify(error: &str, description: Option<&str>, grant: Grant) -> TokenError {
    let desc = description.map(str::to_string);
    let d = description.unwrap_or("");
    // Microsoft: AADSTS65001 = no consent; Google: consent_required.
    let consent = d.contains("AADSTS65001")
        || d.contains("AADSTS650051")
        || matches!(error, "consent_required" | "interaction_required" | "access_denied");
    let fix = if consent {
        "an administrator must grant consent to the app for this scope (Microsoft Entra: API permissions → Grant admin consent; Google: the OAuth consent screen / domain-wide delegation)".to_string()
    } else {
        match error {
            "invalid_client" => "check client_id and the client secret (client_secret_env / client_secret_file); an expired secret must be renewed in the app registration".into(),
            "invalid_grant" if grant == Grant::RefreshToken => "the refresh token was revoked, expired or already used: run `buzon login` again and restart buzon".into(),
            "invalid_grant" => "the grant was refused: check the scope, the tenant in token_url and the app's permissions".into(),
            "unauthorized_client" => format!("the app registration may not use the {} grant: allow it for this client", grant.name()),
            "unsupported_grant_type" => format!("the provider does not offer the {} grant here: check token_url and grant", grant.name()),
            "invalid_scope" => "check scope (Microsoft: https://outlook.office365.com/.default; Google: https://mail.google.com/)".into(),
            "invalid_request" => "the request was refused as malformed: check token_url, client_id and scope".into(),
            "server_error" | "temporarily_unavailable" | "slow_down" => {
                return TokenError::Unavailable(match desc {
                    Some(d) => format!("{error} ({d})"),
                    None => error.to_string(),
                });
            }
            _ => "see the provider's error_description; the client or its grant needs a change".into(),
        }
    };
    TokenError::Refused { error: error.to_string(), description: desc, fix }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_errors_are_fatal_with_a_fix_or_retryable() {
        let table: [(&str, Option<&str>, Grant, Kind, &str); 10] = [
            (
                "invalid_client",
                Some("AADSTS7000215: Invalid client secret provided."),
                Grant::ClientCredentials,
                Kind::Fatal,
                "client secret",
            ),
            (
                "invalid_grant",
                Some("AADSTS70008: The refresh token has expired"),
                Grant::RefreshToken,
                Kind::Fatal,
                "buzon login",
            ),
            ("invalid_grant", None, Grant::ClientCredentials, Kind::Fatal, "scope"),
            ("unauthorized_client", None, Grant::ClientCredentials, Kind::Fatal, "client_credentials grant"),
            (
                "invalid_grant",
                Some("AADSTS65001: The user or administrator has not consented"),
                Grant::RefreshToken,
                Kind::Fatal,
                "consent",
            ),
            ("consent_required", None, Grant::RefreshToken, Kind::Fatal, "consent"),
            ("invalid_scope", None, Grant::ClientCredentials, Kind::Fatal, "outlook.office365.com"),
            ("temporarily_unavailable", None, Grant::ClientCredentials, Kind::Retryable, ""),
            (
                "server_error",
                Some("AADSTS90033: A transient error has occurred"),
                Grant::RefreshToken,
                Kind::Retryable,
                "",
            ),
            ("something_new", None, Grant::ClientCredentials, Kind::Fatal, "error_description"),
        ];
        for (error, desc, grant, kind, fix) in table {
            let e = classify(error, desc, grant);
            assert_eq!(e.kind(), kind, "{error}: {e}");
            let text = e.to_string();
            assert!(text.contains(error), "names the provider's error: {text}");
            if let Some(d) = desc {
                assert!(text.contains(d), "keeps the description: {text}");
            }
            assert!(text.contains(fix), "{error}: {text}");
        }
        assert_eq!(classify("invalid_client", None, Grant::ClientCredentials).code(), Some("invalid_client"));
        assert!(TokenError::Transport("connection refused".into()).kind() == Kind::Retryable);
        assert!(TokenError::Config("no secret".into()).is_fatal());
    }
}
