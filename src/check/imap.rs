//! The IMAP mailbox, step by step: address, TCP, TLS (implicit or
//! STARTTLS) and certificate, greeting, the OAuth2 token, the login (the
//! source's own `connect::login`), the watched folder and the processed,
//! quarantine and sent folders (created if missing, as the source does).

use futures_util::TryStreamExt;

use super::net::{self, Proto};
use super::tokens::{Got, Tokens, token_problem};
use super::{Flow, Part};
use crate::config::{Auth, ImapConfig};
use crate::mailbox::imap::connect::{self, Conn, ImapError, Session, within};
use crate::oauth2::TokenSource;
use crate::oauth2::sasl::Mechanism;
use crate::tls::Tls;

pub(super) async fn check(s: &ImapConfig, tokens: &mut Tokens<'_>, p: &mut Part<'_, '_>) -> Flow<()> {
    let addrs = net::address(p, &s.host, s.port).await?;
    let tcp = net::tcp(p, Proto::Imap, s.port, &addrs).await?;
    let ca = s.ca_file.as_deref();
    let mut client: async_imap::Client<Box<dyn Conn>> = match s.tls {
        Tls::Implicit => {
            net::expect_silence(p, Proto::Imap, s.port, &tcp).await?;
            let tls = net::handshake(p, Proto::Imap, &s.host, ca, tcp).await?;
            let mut client = async_imap::Client::new(Box::new(tls) as Box<dyn Conn>);
            match tokio::time::timeout(net::GREETING_WAIT, client.read_response()).await {
                Ok(Ok(Some(r))) => {
                    let line = net::printable_line(r.borrow_owner());
                    match net::judge_greeting(Proto::Imap, &line) {
                        net::Greeting::Ready => p.pass("greeting", format!("`{line}`")),
                        _ => {
                            return Err(p.fail(
                                "greeting",
                                format!("not an IMAP greeting: `{line}`"),
                                format!("check `port` in {}", p.table()),
                            ));
                        }
                    }
                }
                _ => {
                    return Err(p.fail(
                        "greeting",
                        format!("no IMAP greeting over TLS within {:?}", net::GREETING_WAIT),
                        format!("check `port` in {} (IMAP over TLS: 993)", p.table()),
                    ));
                }
            }
            client
        }
        Tls::None | Tls::StartTls => {
            let line = net::plain_greeting(p, Proto::Imap, &s.host, s.port, ca, &tcp).await?;
            let mut client = async_imap::Client::new(tcp);
            // Already seen by the peek: consume it.
            let _ = tokio::time::timeout(net::GREETING_WAIT, client.read_response()).await;
            if s.tls == Tls::None {
                async_imap::Client::new(Box::new(client.into_inner()) as Box<dyn Conn>)
            } else {
                starttls(p, s, client, &line).await?
            }
        }
    };

    // The token first (its own step: the provider's error, not the server's).
    let source: Option<std::sync::Arc<dyn TokenSource>> = match &s.auth {
        Auth::Password(_) => None,
        Auth::OAuth2(cfg) => match tokens.get("mailbox", cfg) {
            Got::Ready(source, _) => match source.access_token().await {
                Ok(_) => {
                    p.pass("token", format!("an access token from {} (grant {})", cfg.token_url, cfg.grant.name()));
                    Some(source)
                }
                Err(e) => {
                    let (detail, fix) = token_problem(&e, "mailbox");
                    return Err(p.fail("token", detail, fix));
                }
            },
            Got::Skip(why) => {
                p.skip("token", why);
                p.skip("login", "not tried without a token");
                p.skip("folder", "not checked without a login");
                return Ok(());
            }
            Got::Fail(detail, fix) => return Err(p.fail("token", detail, fix)),
        },
    };
    let mechanism = match &s.auth {
        Auth::Password(_) => "LOGIN".to_string(),
        Auth::OAuth2(_) => {
            let offered = connect::auth_mechanisms(&mut client).await.unwrap_or_default();
            Mechanism::choose(|m| offered.iter().any(|o| o == m)).map(|m| m.name().to_string()).unwrap_or_default()
        }
    };
    let mut session = match connect::login(client, s, source.as_deref()).await {
        Ok(session) => {
            p.pass("login", format!("logged in as {} ({mechanism})", s.user));
            session
        }
        Err(e) => {
            let fix = login_fix(&e, &s.auth);
            return Err(p.fail("login", tidy(&e.to_string()), fix));
        }
    };
    folders(p, s, &mut session).await;
    let _ = within("LOGOUT", session.logout()).await;
    Ok(())
}

/// Step `starttls` and the handshake after it.
async fn starttls(
    p: &mut Part<'_, '_>,
    s: &ImapConfig,
    mut client: async_imap::Client<tokio::net::TcpStream>,
    greeting: &str,
) -> Flow<async_imap::Client<Box<dyn Conn>>> {
    let no_starttls = |p: &mut Part<'_, '_>, why: String| {
        p.fail(
            "starttls",
            why,
            format!("use the server's implicit-TLS port: tls = \"implicit\", port = 993 in {}", p.table()),
        )
    };
    // The greeting usually lists the capabilities; a bare one is asked.
    let offered = greeting.to_ascii_uppercase().contains("STARTTLS") || {
        let (tx, rx) = async_channel::unbounded();
        let asked = within("CAPABILITY", client.run_command_and_check_ok("CAPABILITY", Some(tx))).await.is_ok();
        let mut found = false;
        while let Ok(r) = rx.try_recv() {
            if let async_imap::types::UnsolicitedResponse::Other(data) = r
                && let async_imap::imap_proto::Response::Capabilities(caps) = data.parsed()
            {
                found |= caps.iter().any(
                    |c| matches!(c, async_imap::imap_proto::Capability::Atom(a) if a.eq_ignore_ascii_case("STARTTLS")),
                );
            }
        }
        asked && found
    };
    if !offered {
        return Err(no_starttls(p, format!("port {} offers no STARTTLS", s.port)));
    }
    if let Err(e) = within("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await {
        return Err(no_starttls(p, format!("the server refused STARTTLS: {e}")));
    }
    p.pass("starttls", "the server took STARTTLS");
    let tls = net::handshake(p, Proto::Imap, &s.host, s.ca_file.as_deref(), client.into_inner()).await?;
    Ok(async_imap::Client::new(Box::new(tls) as Box<dyn Conn>))
}

/// async-imap shows a server's NO as `code: None, info: Some("…")`: keep
/// the server's words only.
fn tidy(text: &str) -> String {
    match text.split_once("code: None, info: Some(\"") {
        Some((head, rest)) => format!("{head}{}", rest.strip_suffix("\")").unwrap_or(rest)),
        None => text.to_string(),
    }
}

/// What to do about a refused or failed login.
fn login_fix(e: &ImapError, auth: &Auth) -> String {
    match (e, auth) {
        (ImapError::Auth(_), Auth::Password(_)) => {
            "check `user` and the password (password, password_env or password_file) in [mailbox]".into()
        }
        (ImapError::Auth(why), Auth::OAuth2(_)) if why.contains("neither AUTH=OAUTHBEARER") => {
            "this server does not take OAuth2: use auth = \"password\", or the provider's IMAP host (outlook.office365.com, imap.gmail.com)".into()
        }
        (ImapError::Auth(_), Auth::OAuth2(_)) => "the server refused the token for `user`: Microsoft 365: the app's service principal needs access to the mailbox (Add-MailboxPermission) and IMAP.AccessAsApp; Google: scope https://mail.google.com/ and `user` the account that logged in".into(),
        (ImapError::Token(_), _) => "check token_url in [mailbox.oauth2] and that this machine reaches the provider".into(),
        _ => "the server broke off the login: try again; if it lasts, check `host`, `port` and `tls` in [mailbox]".into(),
    }
}

/// The watched folder (examined: nothing changes), and the folders the
/// source moves to or appends to (created when missing, as it would).
/// Every folder is tried, whatever the others gave.
async fn folders(p: &mut Part<'_, '_>, s: &ImapConfig, session: &mut Session) {
    let names: Vec<String> = match within("LIST", session.list(Some(""), Some("*"))).await {
        Ok(stream) => within("LIST", stream.try_collect::<Vec<_>>())
            .await
            .map(|v| v.iter().map(|n| n.name().to_string()).collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let exists =
        |f: &str| names.iter().any(|n| n == f || (f.eq_ignore_ascii_case("INBOX") && n.eq_ignore_ascii_case(f)));
    match within("EXAMINE", session.examine(&s.folder)).await {
        Ok(m) => p.pass("folder", format!("{} exists ({} messages)", s.folder, m.exists)),
        Err(e) => {
            let mut have: Vec<&str> = names.iter().map(String::as_str).collect();
            have.truncate(12);
            let _ = p.fail(
                "folder",
                format!("the folder `{}` cannot be opened: {e}", s.folder),
                format!(
                    "check `folder` in [mailbox] (the server has: {})",
                    if have.is_empty() { "no folder listed".to_string() } else { have.join(", ") }
                ),
            );
        }
    }
    let mut wanted: Vec<(&'static str, &'static str, &str)> = Vec::new();
    if !s.keep_in_folder {
        wanted.push(("processed_folder", "processed_folder", &s.processed_folder));
    }
    wanted.push(("quarantine_folder", "quarantine_folder", &s.quarantine_folder));
    if let Some(sent) = &s.sent_folder {
        wanted.push(("sent_folder", "sent_folder", sent));
    }
    for (step, key, name) in wanted {
        if exists(name) {
            p.pass(step, format!("{name} exists"));
            continue;
        }
        match within("CREATE", session.create(name)).await {
            Ok(()) => p.pass(step, format!("{name} did not exist: created (the daemon creates it too)")),
            Err(e) if e.is_no() && !names.is_empty() => {
                let _ = p.fail(
                    step,
                    format!("{name} does not exist and cannot be created: {e}"),
                    format!("create it in a mail program, or set `{key}` in [mailbox] to a folder that exists"),
                );
            }
            // Not listed (LIST failed), and CREATE says NO: it exists.
            Err(e) if e.is_no() => p.pass(step, format!("{name} exists")),
            Err(e) => {
                let _ = p.fail(step, format!("{name}: {e}"), "try again; the server broke off");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn a_refused_login_shows_the_servers_words() {
        let table = [
            (
                "the server refused the login of ops@cli.test: code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")",
                "the server refused the login of ops@cli.test: [AUTHENTICATIONFAILED] Authentication failed.",
            ),
            ("IMAP login: connection lost", "IMAP login: connection lost"),
        ];
        for (raw, want) in table {
            assert_eq!(tidy(raw), want);
        }
    }
}
