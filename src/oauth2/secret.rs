//! A secret string (access token, refresh token, client secret) that never
//! shows in logs: `Debug` and `Display` print a placeholder; only
//! [`Secret::expose`] gives the value, at the one place that sends it.

/// A credential. Compare with `==` only in tests and for "is this the token
/// the server just refused"; print it never.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself: for the wire (SASL, token requests) and the
    /// persistence callback, nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn a_secret_never_prints_its_value() {
        let s = Secret::new("eyJhbGciOi.refresh-0001");
        for shown in [format!("{s}"), format!("{s:?}"), format!("{:?}", Some(&s)), format!("{:#?}", vec![s.clone()])] {
            assert!(!shown.contains("eyJ") && !shown.contains("refresh"), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
        assert_eq!(s.expose(), "eyJhbGciOi.refresh-0001");
    }
}
