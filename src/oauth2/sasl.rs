//! The SASL initial responses that carry a bearer token: XOAUTH2 (Google's
//! and Microsoft's, the one Exchange Online knows) and OAUTHBEARER (RFC 7628,
//! the standard one). Pure functions; the IMAP authenticator and lettre's
//! `Mechanism::Xoauth2` send them (base64 is added by the protocol layer).

/// `user=<user>\x01auth=Bearer <token>\x01\x01`
pub fn xoauth2(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// RFC 7628 §3.1: `n,a=<user>,\x01host=<host>\x01port=<port>\x01auth=Bearer <token>\x01\x01`.
/// The GS2 authzid escapes `,` as `=2C` and `=` as `=3D` (RFC 5801 §4).
pub fn oauthbearer(user: &str, host: &str, port: u16, token: &str) -> String {
    let authzid = user.replace('=', "=3D").replace(',', "=2C");
    format!("n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
}

/// What a client sends after the server's error challenge (a JSON status
/// object) to end a failed exchange: XOAUTH2 expects an empty response,
/// OAUTHBEARER a lone `\x01` (RFC 7628 §3.2.3).
pub fn error_ack(mechanism: Mechanism) -> &'static str {
    match mechanism {
        Mechanism::XOAuth2 => "",
        Mechanism::OAuthBearer => "\x01",
    }
}

/// The two bearer-token mechanisms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    XOAuth2,
    OAuthBearer,
}

impl Mechanism {
    /// The name in `AUTHENTICATE <name>` and in `AUTH=<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// Pick by what the server announces: OAUTHBEARER (the standard) when
    /// offered, else XOAUTH2 (Exchange Online offers only that), else none.
    pub fn choose(offers: impl Fn(&str) -> bool) -> Option<Mechanism> {
        if offers("OAUTHBEARER") {
            Some(Mechanism::OAuthBearer)
        } else if offers("XOAUTH2") {
            Some(Mechanism::XOAuth2)
        } else {
            None
        }
    }

    /// The initial client response.
    pub fn initial_response(self, user: &str, host: &str, port: u16, token: &str) -> String {
        match self {
            Mechanism::XOAuth2 => xoauth2(user, token),
            Mechanism::OAuthBearer => oauthbearer(user, host, port, token),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoauth2_and_oauthbearer_strings() {
        // Google's documented example (developers.google.com/gmail/imap/xoauth2-protocol).
        assert_eq!(
            xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
            "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"
        );
        // RFC 7628 §4.1 (the example's token).
        assert_eq!(
            oauthbearer("user@example.com", "server.example.com", 143, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="),
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        let table = [
            ("ops@cli.test", "n,a=ops@cli.test,"),
            ("a,b@x.test", "n,a=a=2Cb@x.test,"),
            ("a=b@x.test", "n,a=a=3Db@x.test,"),
        ];
        for (user, head) in table {
            assert!(oauthbearer(user, "h", 993, "t").starts_with(head), "{user}");
        }
        assert_eq!(error_ack(Mechanism::XOAuth2), "");
        assert_eq!(error_ack(Mechanism::OAuthBearer), "\x01");
    }

    #[test]
    fn the_mechanism_follows_the_capabilities() {
        let table: [(&[&str], Option<Mechanism>); 4] = [
            (&["XOAUTH2", "OAUTHBEARER", "PLAIN"], Some(Mechanism::OAuthBearer)),
            (&["XOAUTH2", "PLAIN"], Some(Mechanism::XOAuth2)), // Exchange Online
            (&["OAUTHBEARER"], Some(Mechanism::OAuthBearer)),
            (&["PLAIN", "LOGIN"], None),
        ];
        for (caps, want) in table {
            assert_eq!(Mechanism::choose(|m| caps.contains(&m)), want, "{caps:?}");
        }
        assert_eq!(
            Mechanism::XOAuth2.initial_response("u@x.test", "h", 1, "tok"),
            "user=u@x.test\x01auth=Bearer tok\x01\x01"
        );
    }
}
