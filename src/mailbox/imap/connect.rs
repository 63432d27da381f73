//! Opening an IMAP session (TCP, TLS or STARTTLS, greeting, login) and the
//! typed errors of the source: each says whether retrying can help.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::{Auth, ImapConfig};
use crate::oauth2::TokenSource;
use crate::tls::Tls;

/// No command may take longer than this.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether a failure is worth a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The network, the server, a timeout: reconnect with backoff.
    Retryable,
    /// Refused credentials: retrying will not help; stop and say so.
    Fatal,
    /// The server answers, but not as configured (TLS on a plain port, a
    /// certificate from an unknown CA): retried for a while, in case it is
    /// the server's fault, then stopped like a fatal error.
    Misconfigured,
}

/// What went wrong talking to the IMAP server.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The server answered the command with an error (NO, BAD, lost connection…).
    #[error("IMAP {what}: {source}")]
    Protocol {
        what: &'static str,
        #[source]
        source: async_imap::error::Error,
    },
    /// The command got no answer in time.
    #[error("IMAP {what}: no answer within {after:?}")]
    Timeout { what: &'static str, after: Duration },
    /// The connection or TLS could not be set up.
    #[error("IMAP {what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// TLS configuration (a CA file that cannot be read, a bad host name).
    #[error("IMAP TLS: {0}")]
    Tls(String),
    /// The password could not be read, or the server refused the login.
    #[error("{0}")]
    Auth(String),
    /// The store failed (the cursor could not be kept).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The server closed the connection during IDLE.
    #[error("the server closed the connection during IDLE")]
    Closed,
    /// The identity provider could not be reached (retried).
    #[error("{0}")]
    Token(String),
}

impl ImapError {
    pub fn kind(&self) -> Kind {
        match self {
            ImapError::Auth(_) => Kind::Fatal,
            ImapError::Tls(_) => Kind::Misconfigured,
            ImapError::Io { what: "TLS handshake", source } if source.kind() == std::io::ErrorKind::InvalidData => {
                Kind::Misconfigured
            }
            _ => Kind::Retryable,
        }
    }

    /// What the operator should do about it (Spanish: it goes to the supervisors).
    pub fn fix(&self) -> String {
        match self {
            ImapError::Auth(why) if why.contains("OAuth2") => {
                "Revise la configuración OAuth2 de [mailbox] en config.toml (cliente, secreto, permisos o consentimiento del proveedor) y reinicie buzon; `buzon check` muestra el paso que falla.".into()
            }
            ImapError::Auth(_) => {
                "Revise `user` y la contraseña de [mailbox] en config.toml y reinicie buzon; `buzon check` muestra el paso que falla.".into()
            }
            e if e.to_string().to_ascii_lowercase().contains("certificate") => {
                "El certificado del servidor no es de una autoridad conocida: indique su CA con `ca_file` en [mailbox], o corrija `host`; `buzon check` lo detalla.".into()
            }
            _ => "Revise `host`, `port` y `tls` de [mailbox] (993 usa tls = \"implicit\"; 143, \"starttls\"); `buzon check` muestra el paso que falla.".into(),
        }
    }

    /// The server said NO (e.g. CREATE of a folder that exists).
    pub fn is_no(&self) -> bool {
        matches!(self, ImapError::Protocol { source: async_imap::error::Error::No(_), .. })
    }
}

/// The stream under the IMAP client: TCP, or TLS over TCP.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Conn for T {}
pub type Session = async_imap::Session<Box<dyn Conn>>;

/// Run one IMAP command under the timeout.
pub async fn within<T>(
    what: &'static str,
    f: impl std::future::Future<Output = Result<T, async_imap::error::Error>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
        Ok(r) => r.map_err(|source| ImapError::Protocol { what, source }),
        Err(_) => Err(ImapError::Timeout { what, after: COMMAND_TIMEOUT }),
    }
}

/// Run one network step (connect, handshake) under the timeout.
async fn within_io<T>(
    what: &'static str,
    f: impl std::future::Future<Output = Result<T, std::io::Error>>,
) -> Result<T, ImapError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
        Ok(r) => r.map_err(|source| ImapError::Io { what, source }),
        Err(_) => Err(ImapError::Timeout { what, after: COMMAND_TIMEOUT }),
    }
}

/// Connect, secure and log in (`tokens`: the OAuth2 token source, when
/// `auth = "oauth2"`).
pub async fn connect(s: &ImapConfig, tokens: Option<&dyn TokenSource>) -> Result<Session, ImapError> {
    let tcp = within_io("connect", tokio::net::TcpStream::connect((s.host.as_str(), s.port))).await?;
    let _ = tcp.set_nodelay(true);
    let server_name = || {
        rustls_pki_types::ServerName::try_from(s.host.clone())
            .map_err(|e| ImapError::Tls(format!("bad host name: {e}")))
    };
    let connector = || crate::tls::connector(s.ca_file.as_deref()).map_err(|e| ImapError::Tls(format!("{e:#}")));
    let stream: Box<dyn Conn> = match s.tls {
        Tls::None => Box::new(tcp),
        Tls::Implicit => Box::new(within_io("TLS handshake", connector()?.connect(server_name()?, tcp)).await?),
        Tls::StartTls => {
            let mut client = async_imap::Client::new(tcp);
            within_io("greeting", client.read_response()).await?;
            within("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
            let tcp = client.into_inner();
            let tls = within_io("TLS handshake", connector()?.connect(server_name()?, tcp)).await?;
            let client = async_imap::Client::new(Box::new(tls) as Box<dyn Conn>);
            return login(client, s, tokens).await;
        }
    };
    let mut client = async_imap::Client::new(stream);
    within_io("greeting", client.read_response()).await?;
    login(client, s, tokens).await
}

/// Log in on a greeted (and secured) connection: LOGIN with the password,
/// or OAuth2 with `tokens`. Shared with `buzon check`.
pub(crate) async fn login(
    client: async_imap::Client<Box<dyn Conn>>,
    s: &ImapConfig,
    tokens: Option<&dyn TokenSource>,
) -> Result<Session, ImapError> {
    let secret = match (&s.auth, tokens) {
        (Auth::OAuth2(_), Some(tokens)) => return oauth2_login(client, s, tokens).await,
        (Auth::OAuth2(_), None) => {
            return Err(ImapError::Auth("[mailbox] auth = \"oauth2\" has no token source".into()));
        }
        (Auth::Password(secret), _) => secret,
    };
    let password = secret.read().map_err(|e| ImapError::Auth(format!("[mailbox] {e}")))?.unwrap_or_default();
    match tokio::time::timeout(COMMAND_TIMEOUT, client.login(&s.user, &password)).await {
        Err(_) => Err(ImapError::Timeout { what: "login", after: COMMAND_TIMEOUT }),
        Ok(Ok(session)) => Ok(session),
        Ok(Err((async_imap::error::Error::No(why), _))) => {
            Err(ImapError::Auth(format!("the server refused the login of {}: {why}", s.user)))
        }
        Ok(Err((source, _))) => Err(ImapError::Protocol { what: "login", source }),
    }
}

/// The SASL exchange of a bearer token: the initial response, then, if the
/// server answers with its JSON error challenge, the acknowledgement that
/// ends the exchange (the server then answers NO).
struct Bearer {
    initial: String,
    ack: &'static str,
    sent: bool,
}

impl async_imap::Authenticator for &mut Bearer {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        if std::mem::replace(&mut self.sent, true) { self.ack.to_string() } else { self.initial.clone() }
    }
}

/// The server's SASL mechanisms before login (`CAPABILITY`; its untagged
/// answer comes back through the unsolicited channel).
pub(crate) async fn auth_mechanisms(client: &mut async_imap::Client<Box<dyn Conn>>) -> Result<Vec<String>, ImapError> {
    let (tx, rx) = async_channel::unbounded();
    within("CAPABILITY", client.run_command_and_check_ok("CAPABILITY", Some(tx))).await?;
    let mut mechanisms = Vec::new();
    while let Ok(r) = rx.try_recv() {
        if let async_imap::types::UnsolicitedResponse::Other(data) = r
            && let async_imap::imap_proto::Response::Capabilities(caps) = data.parsed()
        {
            for c in caps {
                if let async_imap::imap_proto::Capability::Auth(m) = c {
                    mechanisms.push(m.to_ascii_uppercase());
                }
            }
        }
    }
    Ok(mechanisms)
}

/// Log in with a bearer token: OAUTHBEARER when the server offers it, else
/// XOAUTH2. A refused token is reported to the source and one fresh token
/// is tried; refused again, or a client the provider refuses, is fatal
/// (the source stops, loudly); trouble reaching the provider is retried.
async fn oauth2_login(
    mut client: async_imap::Client<Box<dyn Conn>>,
    s: &ImapConfig,
    tokens: &dyn TokenSource,
) -> Result<Session, ImapError> {
    use crate::oauth2::sasl::{Mechanism, error_ack};
    let offered = auth_mechanisms(&mut client).await?;
    let Some(mechanism) = Mechanism::choose(|m| offered.iter().any(|o| o == m)) else {
        return Err(ImapError::Auth(format!(
            "the server offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2 (it offers {}): it does not take OAuth2",
            if offered.is_empty() { "no SASL mechanism".to_string() } else { offered.join(", ") }
        )));
    };
    let name = mechanism.name();
    for attempt in 0..2 {
        let token = tokens.access_token().await.map_err(|e| match e.kind() {
            crate::oauth2::Kind::Fatal => ImapError::Auth(format!("OAuth2 for {}: {e}", s.user)),
            crate::oauth2::Kind::Retryable => ImapError::Token(format!("OAuth2 for {}: {e}", s.user)),
        })?;
        let mut bearer = Bearer {
            initial: mechanism.initial_response(&s.user, &s.host, s.port, token.expose()),
            ack: error_ack(mechanism),
            sent: false,
        };
        match tokio::time::timeout(COMMAND_TIMEOUT, client.authenticate(name, &mut bearer)).await {
            Err(_) => return Err(ImapError::Timeout { what: "AUTHENTICATE", after: COMMAND_TIMEOUT }),
            Ok(Ok(session)) => return Ok(session),
            // Dovecot's "[UNAVAILABLE]": its identity provider could not be asked.
            Ok(Err((source @ async_imap::error::Error::No(_), _))) if is_unavailable(&source) => {
                return Err(ImapError::Protocol { what: "AUTHENTICATE (temporary failure)", source });
            }
            Ok(Err((async_imap::error::Error::No(why), c))) => {
                tokens.rejected(&token);
                if attempt == 0 {
                    tracing::warn!(
                        "IMAP: the server refused the OAuth2 token of {} ({name}: {why}); trying a new token",
                        s.user
                    );
                    client = c;
                    continue;
                }
                return Err(ImapError::Auth(format!(
                    "the server refused the OAuth2 login ({name}) of {}, also with a new token: {why}",
                    s.user
                )));
            }
            Ok(Err((source, _))) => return Err(ImapError::Protocol { what: "AUTHENTICATE", source }),
        }
    }
    Err(ImapError::Auth(format!("the server refused the OAuth2 login ({name}) of {}", s.user)))
}

/// RFC 5530's `[UNAVAILABLE]` response code (the server's own protocol
/// text, `NO [UNAVAILABLE] …`): a temporary failure.
fn is_unavailable(e: &async_imap::error::Error) -> bool {
    matches!(e, async_imap::error::Error::No(why) if why.to_ascii_uppercase().contains("[UNAVAILABLE]"))
}
