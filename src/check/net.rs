//! The steps every server shares: the host resolves, the port answers,
//! what the port speaks (a plain-text greeting, or silence until a TLS
//! handshake), and the TLS handshake with its certificate.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;

use super::{Flow, Part};

/// Resolving the host and opening the connection, each at most.
const CONNECT_WAIT: Duration = Duration::from_secs(10);
/// A plain-text server greets at once: silence this long means TLS (or nothing).
pub(super) const GREETING_WAIT: Duration = Duration::from_secs(5);
/// Before a TLS handshake: a greeting arriving this soon means plain text.
const PLAIN_PEEK: Duration = Duration::from_millis(700);
const HANDSHAKE_WAIT: Duration = Duration::from_secs(10);

/// The protocol of a part, for what its greeting looks like and its ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Proto {
    Imap,
    Smtp,
}

impl Proto {
    fn ports(self) -> &'static str {
        match self {
            Proto::Imap => "IMAP: 993 with tls = \"implicit\", 143 with tls = \"starttls\"",
            Proto::Smtp => "SMTP: 465 with tls = \"implicit\", 587 with tls = \"starttls\"",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Proto::Imap => "IMAP",
            Proto::Smtp => "SMTP",
        }
    }
}

/// Step `address`: the host's addresses.
pub(super) async fn address(p: &mut Part<'_, '_>, host: &str, port: u16) -> Flow<Vec<SocketAddr>> {
    let fix = format!("check `host` in {} (a name that resolves from this machine, or an IP address)", p.table());
    match tokio::time::timeout(CONNECT_WAIT, tokio::net::lookup_host((host, port))).await {
        Err(_) => Err(p.fail("address", format!("resolving `{host}` took more than {CONNECT_WAIT:?}"), fix)),
        Ok(Err(e)) => Err(p.fail("address", format!("cannot resolve `{host}`: {e}"), fix)),
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                return Err(p.fail("address", format!("`{host}` has no address"), fix));
            }
            let mut ips: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            ips.dedup();
            p.pass("address", format!("{host} is {}", ips.join(", ")));
            Ok(addrs)
        }
    }
}

/// Step `tcp`: a connection to the first address that answers.
pub(super) async fn tcp(p: &mut Part<'_, '_>, proto: Proto, port: u16, addrs: &[SocketAddr]) -> Flow<TcpStream> {
    let mut last = String::new();
    let mut refused = false;
    for addr in addrs {
        let started = Instant::now();
        match tokio::time::timeout(CONNECT_WAIT, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                p.pass("tcp", format!("{addr} answers ({} ms)", started.elapsed().as_millis()));
                return Ok(tcp);
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                refused = true;
                last = format!("{addr}: connection refused (nothing listens on port {port})");
            }
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => last = format!("{addr}: no answer within {CONNECT_WAIT:?} (timed out)"),
        }
    }
    let fix = if refused {
        format!("check `port` in {} ({}) and that the server runs", p.table(), proto.ports())
    } else {
        format!("check `host` and `port` in {}, and that a firewall lets this machine through", p.table())
    };
    Err(p.fail("tcp", last, fix))
}

/// What a server sent before we said anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum First {
    /// Nothing (a TLS server waits for our handshake).
    Silent,
    /// It closed the connection.
    Closed,
    /// A TLS record (an alert, or a handshake answer).
    Tls,
    /// A line of text (its first line, made printable).
    Text(String),
}

/// Classify the first bytes a server sent (`None`: nothing came).
pub(super) fn classify_first(bytes: Option<&[u8]>) -> First {
    match bytes {
        None => First::Silent,
        Some([]) => First::Closed,
        Some([0x14..=0x17, 0x03, ..]) => First::Tls,
        Some(b) => First::Text(printable_line(b)),
    }
}

/// The first line of what a server said, printable and short (it goes to
/// the operator's terminal).
pub(super) fn printable_line(b: &[u8]) -> String {
    let line = b.split(|c| *c == b'\n').next().unwrap_or(b);
    let mut s: String = line
        .iter()
        .filter(|c| **c != b'\r')
        .take(160)
        .map(|c| if c.is_ascii_graphic() || *c == b' ' { *c as char } else { '?' })
        .collect();
    if line.len() > 160 {
        s.push('…');
    }
    s.trim_end().to_string()
}

/// Is a greeting line what this protocol says when it is ready?
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Greeting {
    Ready,
    /// The server answers but refuses us (`* BYE`, `554`, `421`).
    Refused,
    /// Not this protocol: the detail names what it looks like.
    Foreign(&'static str),
}

pub(super) fn judge_greeting(proto: Proto, line: &str) -> Greeting {
    let upper = line.to_ascii_uppercase();
    let smtp_like = line.len() >= 3 && line.as_bytes()[..3].iter().all(u8::is_ascii_digit);
    match proto {
        Proto::Imap if upper.starts_with("* OK") || upper.starts_with("* PREAUTH") => Greeting::Ready,
        Proto::Imap if upper.starts_with("* BYE") => Greeting::Refused,
        Proto::Imap if smtp_like => Greeting::Foreign("it answers like an SMTP server"),
        Proto::Imap => Greeting::Foreign("not an IMAP greeting"),
        Proto::Smtp if line.starts_with("220") => Greeting::Ready,
        Proto::Smtp if smtp_like => Greeting::Refused,
        Proto::Smtp if upper.starts_with("* OK") => Greeting::Foreign("it answers like an IMAP server"),
        Proto::Smtp => Greeting::Foreign("not an SMTP greeting"),
    }
}

/// What the server sends unasked within `wait`, without consuming it.
async fn peek(tcp: &TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 512];
    let n = match tokio::time::timeout(wait, tcp.peek(&mut buf)).await {
        Ok(Ok(n)) => n,
        Ok(Err(_)) => 0,
        Err(_) => return None,
    };
    // The rest of a greeting line may follow a moment later.
    let deadline = Instant::now() + Duration::from_millis(300);
    let mut n = n;
    while n > 0 && !buf[..n].contains(&b'\n') && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        n = tcp.peek(&mut buf).await.unwrap_or(n);
    }
    buf.truncate(n);
    Some(buf)
}

/// For `tls = "implicit"`: a server that greets in plain text at once is
/// named (step `tls` fails); silence is what a TLS server does.
pub(super) async fn expect_silence(p: &mut Part<'_, '_>, proto: Proto, port: u16, tcp: &TcpStream) -> Flow<()> {
    match classify_first(peek(tcp, PLAIN_PEEK).await.as_deref()) {
        First::Silent | First::Tls => Ok(()),
        First::Closed => Err(p.fail(
            "tls",
            format!("the server on port {port} closed the connection at once"),
            format!("check `port` in {} ({})", p.table(), proto.ports()),
        )),
        First::Text(line) => {
            let tls = if proto == Proto::Imap && !line.to_ascii_uppercase().contains("STARTTLS") {
                "none"
            } else {
                "starttls"
            };
            Err(p.fail(
                "tls",
                format!("port {port} speaks plain text (it greeted `{line}` before any TLS handshake)"),
                format!("set tls = \"{tls}\" in {} (or use the implicit-TLS port; {})", p.table(), proto.ports()),
            ))
        }
    }
}

/// For `tls = "none"` / `"starttls"`: the greeting line (step `greeting`),
/// not consumed. Silence is probed with a TLS handshake on a second
/// connection, so that an implicit-TLS port is named (step `tls` fails).
pub(super) async fn plain_greeting(
    p: &mut Part<'_, '_>,
    proto: Proto,
    host: &str,
    port: u16,
    ca_file: Option<&Path>,
    tcp: &TcpStream,
) -> Flow<String> {
    let first = classify_first(peek(tcp, GREETING_WAIT).await.as_deref());
    let implicit = |p: &mut Part<'_, '_>, how: &str| {
        p.fail(
            "tls",
            format!("port {port} speaks implicit TLS ({how})"),
            format!("set tls = \"implicit\" in {} (or use the plain port; {})", p.table(), proto.ports()),
        )
    };
    let line = match first {
        First::Tls => return Err(implicit(p, "it sent a TLS record where a greeting was expected")),
        First::Silent => {
            let Ok(addr) = tcp.peer_addr() else {
                return Err(p.fail("greeting", "the connection is gone", "try again"));
            };
            if speaks_tls(addr, host, ca_file).await {
                return Err(implicit(
                    p,
                    &format!("no plain-text greeting within {GREETING_WAIT:?}; a TLS handshake answers"),
                ));
            }
            return Err(p.fail(
                "greeting",
                format!("the server sent no {} greeting within {GREETING_WAIT:?}", proto.name()),
                format!("check `host` and `port` in {} ({})", p.table(), proto.ports()),
            ));
        }
        First::Closed => {
            return Err(p.fail(
                "greeting",
                format!("the server on port {port} closed the connection without a greeting"),
                format!(
                    "check `port` in {} ({}); the server may refuse this machine's address",
                    p.table(),
                    proto.ports()
                ),
            ));
        }
        First::Text(line) => line,
    };
    match judge_greeting(proto, &line) {
        Greeting::Ready => {
            p.pass("greeting", format!("`{line}`"));
            Ok(line)
        }
        Greeting::Refused => Err(p.fail(
            "greeting",
            format!("the server refuses this connection: `{line}`"),
            "the server does not take connections from this machine: ask its administrator (or check `host`)",
        )),
        Greeting::Foreign(what) => Err(p.fail(
            "greeting",
            format!("port {port} is not {}: {what} (`{line}`)", proto.name()),
            format!("check `port` in {} ({})", p.table(), proto.ports()),
        )),
    }
}

/// A TLS handshake on a new connection to `addr` gets a TLS answer (a
/// certificate, trusted or not, or a TLS alert).
async fn speaks_tls(addr: SocketAddr, host: &str, ca_file: Option<&Path>) -> bool {
    let Ok(Ok(tcp)) = tokio::time::timeout(CONNECT_WAIT, TcpStream::connect(addr)).await else { return false };
    let Ok(connector) = crate::tls::connector(ca_file).or_else(|_| crate::tls::connector(None)) else { return false };
    let Ok(name) = rustls_pki_types::ServerName::try_from(host.to_string()) else { return false };
    match tokio::time::timeout(GREETING_WAIT, connector.connect(name, tcp)).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            matches!(rustls_error(&e), Some(rustls::Error::InvalidCertificate(_) | rustls::Error::AlertReceived(_)))
        }
        Err(_) => false,
    }
}

/// The rustls error inside an error chain (an `io::Error` hides its inner
/// error from `source()`, so each one is opened too).
pub(super) fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(r) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(r);
        }
        cur = err.source();
    }
    None
}

/// Why a certificate is not accepted, and what to do: (detail, fix).
pub(super) fn certificate_problem(
    e: &rustls::CertificateError,
    host: &str,
    table: &str,
    ca_file: Option<&Path>,
) -> (String, String) {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => (
            "the server's certificate is signed by a CA this machine does not know".into(),
            match ca_file {
                None => format!("set ca_file in {table} to the PEM file of the CA that signed it (a private CA)"),
                Some(f) => format!(
                    "ca_file {} is not the CA that signed the server's certificate: check ca_file (or host) in {table}",
                    f.display()
                ),
            },
        ),
        C::NotValidForName => (
            format!("the certificate is not for `{host}`"),
            format!("check host in {table}: use a name on the certificate"),
        ),
        C::NotValidForNameContext { presented, .. } => (
            format!("the certificate is not for `{host}` (it is for {})", presented.join(", ")),
            format!("check host in {table}: use a name on the certificate"),
        ),
        C::Expired | C::ExpiredContext { .. } => {
            ("the server's certificate has expired".into(), "the server's administrator must renew it".into())
        }
        C::NotValidYet | C::NotValidYetContext { .. } => (
            "the server's certificate is not valid yet".into(),
            "check this machine's clock (and the certificate's dates)".into(),
        ),
        other => (
            format!("the server's certificate is refused: {}", rustls::Error::InvalidCertificate(other.clone())),
            "the server's certificate cannot be used: ask its administrator".into(),
        ),
    }
}

/// Steps `tls` and `certificate`: the handshake over `tcp`.
pub(super) async fn handshake(
    p: &mut Part<'_, '_>,
    proto: Proto,
    host: &str,
    ca_file: Option<&Path>,
    tcp: TcpStream,
) -> Flow<TlsStream<TcpStream>> {
    let connector = match crate::tls::connector(ca_file) {
        Ok(c) => c,
        Err(e) => return Err(p.fail("tls", format!("TLS set-up: {e:#}"), format!("check ca_file in {}", p.table()))),
    };
    let name = match rustls_pki_types::ServerName::try_from(host.to_string()) {
        Ok(n) => n,
        Err(e) => {
            return Err(p.fail(
                "tls",
                format!("`{host}` is not a usable TLS name: {e}"),
                format!("check host in {}", p.table()),
            ));
        }
    };
    let port = tcp.peer_addr().map(|a| a.port()).unwrap_or(0);
    let not_tls = format!("check `port` and `tls` in {} ({})", p.table(), proto.ports());
    match tokio::time::timeout(HANDSHAKE_WAIT, connector.connect(name, tcp)).await {
        Err(_) => Err(p.fail("tls", format!("no TLS answer within {HANDSHAKE_WAIT:?} on port {port}"), not_tls)),
        Ok(Ok(stream)) => {
            let conn = &stream.get_ref().1;
            let version = conn.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default();
            let suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default();
            p.pass("tls", format!("{} {suite}", version.replace("TLSv1_", "TLS 1.")));
            p.pass("certificate", trusted_by(host, ca_file));
            Ok(stream)
        }
        Ok(Err(e)) => match rustls_error(&e) {
            Some(rustls::Error::InvalidCertificate(c)) => {
                p.pass("tls", format!("port {port} speaks TLS"));
                let (detail, fix) = certificate_problem(c, host, &p.table(), ca_file);
                Err(p.fail("certificate", detail, fix))
            }
            Some(r) => Err(p.fail("tls", format!("the TLS handshake on port {port} failed: {r}"), not_tls)),
            None => Err(p.fail(
                "tls",
                format!("the connection broke during the TLS handshake on port {port}: {e}"),
                not_tls,
            )),
        },
    }
}

/// What a trusted certificate was checked against.
pub(super) fn trusted_by(host: &str, ca_file: Option<&Path>) -> String {
    match ca_file {
        Some(f) => format!("valid for {host}, signed by the CA of {}", f.display()),
        None => format!("valid for {host}, signed by a public CA"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_bytes_say_what_a_port_speaks() {
        let table: [(Option<&[u8]>, First); 7] = [
            (None, First::Silent),
            (Some(b""), First::Closed),
            (Some(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]), First::Tls), // an alert
            (Some(&[0x16, 0x03, 0x01, 0x00]), First::Tls),
            (
                Some(b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.\r\n"),
                First::Text("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.".into()),
            ),
            (Some(b"220 mail.desk.test ESMTP\r\n"), First::Text("220 mail.desk.test ESMTP".into())),
            (Some(b"220 \x1b[31mred\x07\r\nmore"), First::Text("220 ?[31mred?".into())),
        ];
        for (bytes, want) in table {
            assert_eq!(classify_first(bytes), want, "{bytes:?}");
        }
        let long = vec![b'x'; 500];
        assert_eq!(printable_line(&long).chars().count(), 161);
    }

    #[test]
    fn greetings_are_judged_per_protocol() {
        use Greeting::*;
        let table = [
            (Proto::Imap, "* OK [CAPABILITY IMAP4rev1] Dovecot ready.", Ready),
            (
                Proto::Imap,
                "* OK The Microsoft Exchange IMAP4 service is ready. [TQBOADIAUABSADEAMwBDAEEAMAAwADEAMgAuAG4AYQBtAHAAcgBkADEAMwAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]",
                Ready,
            ),
            (Proto::Imap, "* ok Gimap ready for requests from 190.232.1.1 a1mb", Ready),
            (Proto::Imap, "* PREAUTH IMAP4rev1 server logged in as ops", Ready),
            (Proto::Imap, "* BYE Too many connections from your address", Refused),
            (Proto::Imap, "220 mail.desk.test ESMTP", Foreign("it answers like an SMTP server")),
            (Proto::Imap, "SSH-2.0-OpenSSH_9.2p1", Foreign("not an IMAP greeting")),
            (Proto::Smtp, "220 smtp.office365.com Microsoft ESMTP MAIL Service ready", Ready),
            (Proto::Smtp, "220-mx.google.com ESMTP", Ready),
            (Proto::Smtp, "554 5.7.1 mail.desk.test: access denied", Refused),
            (Proto::Smtp, "421 4.3.2 Service shutting down", Refused),
            (Proto::Smtp, "* OK Dovecot ready.", Foreign("it answers like an IMAP server")),
            (Proto::Smtp, "HTTP/1.1 400 Bad Request", Foreign("not an SMTP greeting")),
        ];
        for (proto, line, want) in table {
            assert_eq!(judge_greeting(proto, line), want, "{proto:?} {line}");
        }
    }

    #[test]
    fn certificate_problems_name_the_fix() {
        use rustls::CertificateError as C;
        let ca = Path::new("/etc/buzon/ca.pem");
        let table: [(C, Option<&Path>, &str, &str); 6] = [
            (C::UnknownIssuer, None, "CA this machine does not know", "set ca_file in [mailbox]"),
            (C::UnknownIssuer, Some(ca), "does not know", "ca_file /etc/buzon/ca.pem is not the CA"),
            (C::NotValidForName, None, "not for `imap.cli.test`", "check host in [mailbox]"),
            (
                C::NotValidForNameContext {
                    expected: rustls_pki_types::ServerName::try_from("imap.cli.test").unwrap_or_else(|e| panic!("{e}")),
                    presented: vec!["DNS name \"outlook.office365.com\"".into()],
                },
                None,
                "(it is for DNS name \"outlook.office365.com\")",
                "check host",
            ),
            (C::Expired, None, "has expired", "renew"),
            (C::NotValidYet, None, "not valid yet", "clock"),
        ];
        for (e, ca_file, detail, fix) in table {
            let (d, f) = certificate_problem(&e, "imap.cli.test", "[mailbox]", ca_file);
            assert!(d.contains(detail), "{e:?}: {d}");
            assert!(f.contains(fix), "{e:?}: {f}");
        }
    }

    #[test]
    fn the_rustls_error_is_found_inside_io_and_smtp_errors() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert!(matches!(rustls_error(&io), Some(rustls::Error::InvalidCertificate(_))));
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("Connection error")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        assert!(rustls_error(&Outer(io)).is_some());
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(rustls_error(&plain).is_none());
    }
}
