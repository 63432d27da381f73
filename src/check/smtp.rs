//! The SMTP outbox, step by step: address, TCP, TLS and certificate, the
//! greeting, EHLO, STARTTLS, AUTH (password, or XOAUTH2 with a token) and,
//! with `--send-to`, a short test mail whose SMTP answer is shown. lettre
//! speaks the protocol over our connection, as in the sink.

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::{ClientId, Extension};

use super::net::{self, Proto};
use super::tokens::{Got, Tokens, token_problem};
use super::{Flow, Part};
use crate::config::{Auth, SmtpConfig};
use crate::desk::Settings;
use crate::outbox::smtp::{TlsConn, starttls_parameters};
use crate::tls::Tls;

pub(super) async fn check(
    o: &SmtpConfig,
    desk: &Settings,
    send_to: Option<&str>,
    tokens: &mut Tokens<'_>,
    p: &mut Part<'_, '_>,
) -> Flow<()> {
    let addrs = net::address(p, &o.host, o.port).await?;
    let tcp = net::tcp(p, Proto::Smtp, o.port, &addrs).await?;
    let ca = o.ca_file.as_deref();
    let hello = ClientId::default();
    let wait = o.timeout;
    let late = |what: &str| format!("{what}: no answer within {wait:?}");
    let mut conn = match o.tls {
        Tls::Implicit => {
            net::expect_silence(p, Proto::Smtp, o.port, &tcp).await?;
            let tls = net::handshake(p, Proto::Smtp, &o.host, ca, tcp).await?;
            let opened =
                tokio::time::timeout(wait, AsyncSmtpConnection::connect_with_transport(Box::new(TlsConn(tls)), &hello))
                    .await;
            match opened {
                Ok(Ok(c)) => {
                    p.pass("greeting", format!("{} greeted over TLS", c.server_info().name()));
                    c
                }
                Ok(Err(e)) => {
                    return Err(p.fail(
                        "greeting",
                        format!("the greeting or the answer to EHLO: {e}"),
                        format!("check `port` in {} (SMTP over TLS: 465)", p.table()),
                    ));
                }
                Err(_) => return Err(p.fail("greeting", late("greeting"), format!("check `port` in {}", p.table()))),
            }
        }
        Tls::None | Tls::StartTls => {
            net::plain_greeting(p, Proto::Smtp, &o.host, o.port, ca, &tcp).await?;
            match tokio::time::timeout(wait, AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    return Err(p.fail("ehlo", format!("EHLO: {e}"), "the server does not take EHLO: check `port`"));
                }
                Err(_) => return Err(p.fail("ehlo", late("EHLO"), "check `port`")),
            }
        }
    };
    p.pass("ehlo", format!("{} offers {}", conn.server_info().name(), offers(&conn)));

    if o.tls == Tls::StartTls {
        if !conn.can_starttls() {
            return Err(p.fail(
                "starttls",
                format!("port {} offers no STARTTLS", o.port),
                format!("use the server's implicit-TLS port: tls = \"implicit\", port = 465 in {}", p.table()),
            ));
        }
        let params = match starttls_parameters(o) {
            Ok(params) => params,
            Err(e) => {
                return Err(p.fail(
                    "starttls",
                    format!("TLS set-up: {e:#}"),
                    format!("check ca_file in {}", p.table()),
                ));
            }
        };
        match tokio::time::timeout(wait, conn.starttls(params, &hello)).await {
            Err(_) => return Err(p.fail("starttls", late("STARTTLS"), format!("check `port` in {}", p.table()))),
            Ok(Ok(())) => {
                p.pass("starttls", "the server took STARTTLS");
                p.pass("certificate", net::trusted_by(&o.host, ca));
            }
            Ok(Err(e)) => match net::rustls_error(&e) {
                Some(tokio_rustls::rustls::Error::InvalidCertificate(c)) => {
                    p.pass("starttls", "the server took STARTTLS and speaks TLS");
                    let (detail, fix) = net::certificate_problem(c, &o.host, &p.table(), ca);
                    return Err(p.fail("certificate", detail, fix));
                }
                _ => {
                    return Err(p.fail(
                        "starttls",
                        format!("STARTTLS failed: {e}"),
                        format!("check `tls` and `port` in {}", p.table()),
                    ));
                }
            },
        }
    }

    let authenticated = auth(o, tokens, &mut conn, p).await?;

    match send_to {
        Some(to) if authenticated => send(o, desk, to, &mut conn, p).await?,
        Some(_) => p.skip("send", "not tried without AUTH"),
        None => {}
    }
    let _ = tokio::time::timeout(wait, conn.quit()).await;
    Ok(())
}

/// What EHLO offered that buzon uses, in a fixed order.
fn offers(conn: &AsyncSmtpConnection) -> String {
    let info = conn.server_info();
    let known = [
        ("STARTTLS", Extension::StartTls),
        ("AUTH PLAIN", Extension::Authentication(Mechanism::Plain)),
        ("AUTH LOGIN", Extension::Authentication(Mechanism::Login)),
        ("AUTH XOAUTH2", Extension::Authentication(Mechanism::Xoauth2)),
        ("8BITMIME", Extension::EightBitMime),
        ("SMTPUTF8", Extension::SmtpUtfEight),
    ];
    let v: Vec<&str> = known.iter().filter(|(_, e)| info.supports_feature(*e)).map(|(n, _)| *n).collect();
    if v.is_empty() { "none of STARTTLS, AUTH, 8BITMIME".into() } else { v.join(", ") }
}

/// Steps `token` and `auth`; `false`: skipped for want of a token.
async fn auth(
    o: &SmtpConfig,
    tokens: &mut Tokens<'_>,
    conn: &mut AsyncSmtpConnection,
    p: &mut Part<'_, '_>,
) -> Flow<bool> {
    let Some(user) = &o.user else {
        p.skip("auth", "no `user` in [outbox]: no AUTH (the server must take mail from this machine as it is)");
        return Ok(true);
    };
    let (credentials, mechanisms, refused_fix): (Credentials, &[Mechanism], String) = match &o.auth {
        Auth::Password(secret) => {
            let password = match secret.read() {
                Ok(pw) => pw.unwrap_or_default(),
                Err(e) => {
                    return Err(p.fail(
                        "auth",
                        e,
                        "set the password of [outbox] (password, password_env or password_file)",
                    ));
                }
            };
            (
                Credentials::new(user.clone(), password),
                &[Mechanism::Plain, Mechanism::Login],
                "check `user` and the password (password, password_env or password_file) in [outbox]".into(),
            )
        }
        Auth::OAuth2(cfg) => {
            let source = match tokens.get("outbox", cfg) {
                Got::Ready(source, shared) => match source.access_token().await {
                    Ok(token) => {
                        p.pass(
                            "token",
                            if shared {
                                "the mailbox's token (the same [… .oauth2] table)".to_string()
                            } else {
                                format!("an access token from {} (grant {})", cfg.token_url, cfg.grant.name())
                            },
                        );
                        token
                    }
                    Err(e) => {
                        let (detail, fix) = token_problem(&e, "outbox");
                        return Err(p.fail("token", detail, fix));
                    }
                },
                Got::Skip(why) => {
                    p.skip("token", why);
                    p.skip("auth", "not tried without a token");
                    return Ok(false);
                }
                Got::Fail(detail, fix) => return Err(p.fail("token", detail, fix)),
            };
            (
                Credentials::new(user.clone(), source.expose().to_string()),
                &[Mechanism::Xoauth2],
                "the server refused the token for `user`: Microsoft 365: SMTP AUTH enabled for the mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false) and SMTP.SendAsApp; Google: scope https://mail.google.com/".into(),
            )
        }
    };
    let Some(mechanism) = conn.server_info().get_auth_mechanism(mechanisms) else {
        let wanted: Vec<String> = mechanisms.iter().map(|m| m.to_string()).collect();
        let fix = if conn.can_starttls() {
            format!("servers offer AUTH only after STARTTLS: set tls = \"starttls\" in {}", p.table())
        } else {
            format!("check `port` in {} (the submission port, 587, takes AUTH)", p.table())
        };
        return Err(p.fail("auth", format!("the server offers no AUTH {} here", wanted.join(" or ")), fix));
    };
    match tokio::time::timeout(o.timeout, conn.auth(&[mechanism], &credentials)).await {
        Ok(Ok(_)) => {
            p.pass("auth", format!("authenticated as {user} ({mechanism})"));
            Ok(true)
        }
        Ok(Err(e)) => Err(p.fail("auth", format!("the server refused AUTH {mechanism} as {user}: {e}"), refused_fix)),
        Err(_) => Err(p.fail("auth", format!("AUTH: no answer within {:?}", o.timeout), "try again")),
    }
}

/// Step `send`: a short test mail from the desk's address.
async fn send(
    o: &SmtpConfig,
    desk: &Settings,
    to: &str,
    conn: &mut AsyncSmtpConnection,
    p: &mut Part<'_, '_>,
) -> Flow<()> {
    let bytes = match test_mail(desk, to, o, chrono::Utc::now()) {
        Ok(b) => b,
        Err(e) => return Err(p.fail("send", e, "check [desk] address and --send-to")),
    };
    let envelope = match (desk.address.parse::<lettre::Address>(), to.parse::<lettre::Address>()) {
        (Ok(from), Ok(rcpt)) => Envelope::new(Some(from), vec![rcpt]),
        (Err(e), _) => return Err(p.fail("send", format!("the desk address: {e}"), "check [desk] address")),
        (_, Err(e)) => return Err(p.fail("send", format!("--send-to {to}: {e}"), "give a mail address")),
    };
    let envelope = match envelope {
        Ok(e) => e,
        Err(e) => return Err(p.fail("send", format!("envelope: {e}"), "check [desk] address and --send-to")),
    };
    match tokio::time::timeout(o.timeout, conn.send(&envelope, &bytes)).await {
        Ok(Ok(r)) => {
            let text: Vec<&str> = r.message().collect();
            p.pass(
                "send",
                format!("to {to} from {}: the server answered {} {}", desk.address, r.code(), text.join(" ")),
            );
            Ok(())
        }
        Ok(Err(e)) => {
            let fix = if e.is_transient() {
                "a temporary refusal: try again later".to_string()
            } else {
                format!(
                    "the server does not take mail from {} to {to}: the mailbox of `user` may send only as itself (Microsoft: Send As permission; Google: a verified alias), or the recipient is refused",
                    desk.address
                )
            };
            Err(p.fail("send", format!("the test mail to {to} was refused: {e}"), fix))
        }
        Err(_) => Err(p.fail("send", format!("no answer within {:?} to the test mail", o.timeout), "try again")),
    }
}

/// The test mail (Spanish: a person reads it).
pub(super) fn test_mail(
    desk: &Settings,
    to: &str,
    o: &SmtpConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, String> {
    let domain = desk.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
    let message_id = format!("buzon-check-{}-{:08x}@{domain}", now.timestamp_millis(), fastrand::u32(..));
    let lima = now.with_timezone(&desk.calendar.tz).format("%d/%m/%Y %H:%M");
    let body = crate::templates::Rendered {
        subject: format!("Prueba de conexión de buzon ({})", desk.name),
        text: format!(
            "Hola:\n\nEste es un correo de prueba enviado con `buzon check` el {lima}: la mesa {} ({}) puede enviar correo por {}:{}.\n\nNo hace falta responderlo.\n\n-- \nbuzon, {}\n",
            desk.name, desk.address, o.host, o.port, desk.name
        ),
        html: None,
    };
    let recipients = [to.to_string()];
    let env = crate::desk::compose::Envelope {
        from_name: &desk.name,
        from_address: &desk.address,
        to: &recipients,
        message_id: &message_id,
        in_reply_to: None,
        references: &[],
        date: now,
        auto_submitted: "auto-generated",
    };
    crate::desk::compose::compose(&env, &body)
}
