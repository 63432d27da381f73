//! Opening an IMAP session (TCP, TLS or STARTTLS, greeting, login) and the
//! typed errors of the source: each says whether retrying can help.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::ImapConfig;
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
}

impl ImapError {
    pub fn kind(&self) -> Kind {
        match self {
            ImapError::Auth(_) => Kind::Fatal,
            _ => Kind::Retryable,
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

/// Connect, secure and log in.
pub async fn connect(s: &ImapConfig) -> Result<Session, ImapError> {
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
            return login(client, s).await;
        }
    };
    let mut client = async_imap::Client::new(stream);
    within_io("greeting", client.read_response()).await?;
    login(client, s).await
}

async fn login(client: async_imap::Client<Box<dyn Conn>>, s: &ImapConfig) -> Result<Session, ImapError> {
    let password = s.password.read().map_err(|e| ImapError::Auth(format!("[mailbox] {e}")))?.unwrap_or_default();
    match tokio::time::timeout(COMMAND_TIMEOUT, client.login(&s.user, &password)).await {
        Err(_) => Err(ImapError::Timeout { what: "login", after: COMMAND_TIMEOUT }),
        Ok(Ok(session)) => Ok(session),
        Ok(Err((async_imap::error::Error::No(why), _))) => {
            Err(ImapError::Auth(format!("the server refused the login of {}: {why}", s.user)))
        }
        Ok(Err((source, _))) => Err(ImapError::Protocol { what: "login", source }),
    }
}
