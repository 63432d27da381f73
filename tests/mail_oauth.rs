//! OAuth2 against the real stack (scripts/mailstack with MAILSTACK_AUTH=oauth2:
//! Dovecot's oauth2 passdb, Postfix SMTP AUTH through Dovecot, and the
//! identity provider of scripts/oauth-idp, oauth2-mock-server with hooks):
//! client credentials end to end, a token that expired or was revoked
//! under a session, one-use rotating refresh tokens across a restart of
//! buzon, a refused client, password logins refused; and the token client
//! alone against the identity provider (grants, errors, device code).
//!
//! The daemon builds one token source per distinct `[… .oauth2]` table and
//! keeps rotated refresh tokens in its store (flushed before use).

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use buzon::oauth2::{Grant, Kind, OAuth2Config, RefreshTokenStore, Secret, TokenClient, TokenSource};
use support::generate;
use support::stack::{
    Daemon, Idp, OAUTH_CLIENT, OAUTH_SECRET, PASSWORD, Stack, connected, daemon_log, http_post, imap_headers,
    processed, send_mail, smtp_auth, status, wait_until,
};

/// A client mail (documents from a supplier's customer) sent through Postfix.
fn client_mail(i: usize) -> Vec<u8> {
    generate::mail(i).1
}

/// The refresh tokens saved in the instance's store (the daemon stopped).
fn saved_refresh_tokens(dir: &std::path::Path) -> Vec<String> {
    let store = buzon::store::Store::open(&dir.join("var/store")).unwrap_or_else(|e| panic!("store: {e}"));
    buzon::store::tokens::saved_refresh_tokens(&store)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|t| t.expose().to_string())
        .collect()
}

fn stat(v: &serde_json::Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_u64().unwrap_or(0)
}

#[test]
fn client_credentials_imap_and_smtp_with_oauth2_end_to_end() {
    let Some(stack) = Stack::start_oauth("oauth2 end to end") else { return };
    let inst = stack.oauth_instance("");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}\n{}", daemon_log(&inst), stack.idp_log());
    stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", &client_mail(0));
    assert!(
        wait_until(Duration::from_secs(15), || stack.inbox("andes@andestextil.test").len() == 1),
        "no acknowledgement:\n{}",
        daemon_log(&inst)
    );
    stack.assert_moved_to_processed(1);
    // IMAP chose OAUTHBEARER (Dovecot offers both); the acknowledgement went
    // through the submission port with XOAUTH2.
    let dlog = std::fs::read_to_string(stack.dir.join("log/dovecot.log")).unwrap_or_default();
    assert!(dlog.contains("Login: user=<ops@cli.test>, method=OAUTHBEARER"), "{dlog}");
    let plog = std::fs::read_to_string(stack.dir.join("log/postfix.log")).unwrap_or_default();
    assert!(plog.contains("sasl_method=XOAUTH2, sasl_username=ops@cli.test"), "{plog}");
    // One token for both (same table), not one per connection or mail.
    let s = stack.idp_stats();
    assert_eq!(stat(&s, &["token", "client_credentials"]), 1, "{s}");
    // No token in the logs.
    let log = daemon_log(&inst);
    assert!(!log.contains("eyJ"), "a token was logged:\n{log}");
    assert!(log.contains("new access token by client_credentials"), "{log}");
}

#[test]
fn an_expired_token_under_a_dropped_session_is_replaced_on_reconnect() {
    let Some(stack) = Stack::start_oauth("oauth2 expiry") else { return };
    stack.idp_admin("/admin/lifetime", serde_json::json!({"id": OAUTH_CLIENT, "lifetime": 4}));
    let inst = stack.oauth_instance("");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    // Dovecot never re-checks a token inside a session: the session outlives
    // its token until the server drops it.
    std::thread::sleep(Duration::from_secs(5));
    stack.stop_dovecot();
    stack.start_dovecot();
    stack.lmtp_deliver("usuario0@andestextil.test", "ops@cli.test", &[client_mail(0)]);
    assert!(
        wait_until(Duration::from_secs(30), || processed(&inst) == 1),
        "{}\n{}",
        daemon_log(&inst),
        stack.idp_log()
    );
    let s = stack.idp_stats();
    assert!(stat(&s, &["token", "client_credentials"]) >= 2, "a new token was fetched: {s}");
    // The expired token was never offered: it was renewed ahead of use.
    assert_eq!(stat(&s, &["introspect_refused"]), 0, "{s}\n{}", stack.idp_log());
}

#[test]
fn a_token_the_server_refuses_is_replaced_at_once_without_stopping() {
    let Some(stack) = Stack::start_oauth("oauth2 revoked") else { return };
    let inst = stack.oauth_instance("");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    // Revoked at the provider (an admin reset the app, say) while the token
    // still looks valid to buzon; the server drops the session.
    stack.idp_admin("/admin/revoke", serde_json::json!({}));
    stack.stop_dovecot();
    stack.start_dovecot();
    stack.smtp_send("usuario2@andestextil.test", "ops@cli.test", &client_mail(2));
    assert!(
        wait_until(Duration::from_secs(30), || stack.inbox("andes@andestextil.test").len() == 1),
        "{}\n{}",
        daemon_log(&inst),
        stack.idp_log()
    );
    let log = daemon_log(&inst);
    assert!(log.contains("IMAP: the server refused the OAuth2 token of ops@cli.test"), "{log}");
    let s = stack.idp_stats();
    assert!(stat(&s, &["introspect_refused"]) >= 1, "the revoked token was offered once: {s}");
    assert!(stat(&s, &["token", "client_credentials"]) >= 2, "{s}");
    assert_eq!(status(&inst)["source"]["state"], "connected");

    // The same on SMTP: revoked again, and Postfix restarted so the kept
    // submission connection must authenticate anew.
    stack.idp_admin("/admin/revoke", serde_json::json!({}));
    stack.stop_postfix();
    stack.start_postfix();
    stack.lmtp_deliver("usuario4@andestextil.test", "ops@cli.test", &[client_mail(4)]);
    assert!(
        wait_until(Duration::from_secs(40), || stack.inbox("andes@andestextil.test").len() == 2),
        "{}\n{}",
        daemon_log(&inst),
        stack.idp_log()
    );
    let log = daemon_log(&inst);
    assert!(log.contains("SMTP: the server refused the OAuth2 token of ops@cli.test"), "{log}");
}

#[test]
fn a_server_offering_only_xoauth2_gets_xoauth2() {
    // Exchange Online announces AUTH=XOAUTH2 only.
    let Some(stack) = Stack::start_oauth_with("oauth2 xoauth2 only", "auth_mechanisms = xoauth2") else { return };
    let inst = stack.oauth_instance("");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    let dlog = std::fs::read_to_string(stack.dir.join("log/dovecot.log")).unwrap_or_default();
    assert!(dlog.contains("Login: user=<ops@cli.test>, method=XOAUTH2"), "{dlog}");
    assert!(!dlog.contains("method=OAUTHBEARER"), "{dlog}");
}

#[test]
fn an_unreachable_identity_provider_is_retried_until_it_answers() {
    let Some(stack) = Stack::start_oauth("oauth2 provider down") else { return };
    stack.stop_idp();
    let inst = stack.oauth_instance("");
    let _d = Daemon::start(&inst);
    assert!(
        wait_until(Duration::from_secs(15), || {
            status(&inst)["last_error"]["error"].as_str().is_some_and(|e| e.contains("cannot reach the token endpoint"))
        }),
        "{}\n{}",
        status(&inst),
        daemon_log(&inst)
    );
    assert_eq!(status(&inst)["source"]["state"], "disconnected, reconnecting", "retryable, not fatal");
    stack.start_idp();
    assert!(wait_until(Duration::from_secs(30), || connected(&inst)), "{}", daemon_log(&inst));
    stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", &client_mail(0));
    assert!(
        wait_until(Duration::from_secs(15), || stack.inbox("andes@andestextil.test").len() == 1),
        "{}",
        daemon_log(&inst)
    );

    // Down again while buzon holds a good token: now Dovecot cannot check
    // it ("[UNAVAILABLE]"), which is retried too, not taken as a refusal.
    stack.stop_idp();
    stack.stop_dovecot();
    stack.start_dovecot();
    assert!(
        wait_until(Duration::from_secs(15), || daemon_log(&inst).contains("temporary failure")),
        "{}",
        daemon_log(&inst)
    );
    assert_eq!(status(&inst)["source"]["state"], "disconnected, reconnecting", "{}", daemon_log(&inst));
    stack.start_idp(); // it forgot its tokens: the kept one is refused once, then a new one
    assert!(wait_until(Duration::from_secs(30), || connected(&inst)), "{}", daemon_log(&inst));
}

#[test]
fn rotating_refresh_tokens_are_saved_and_survive_a_restart_of_buzon() {
    let Some(stack) = Stack::start_oauth("oauth2 rotation") else { return };
    stack.idp_admin("/admin/lifetime", serde_json::json!({"id": OAUTH_CLIENT, "lifetime": 3}));
    let first = stack.idp_admin("/admin/refresh-token", serde_json::json!({"id": OAUTH_CLIENT}))["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!first.is_empty());
    let inst = stack.oauth_instance("grant = \"refresh_token\"\nrefresh_token_file = \"refresh.txt\"\n");
    inst.write("refresh.txt", &format!("{first}\n"));
    {
        let mut d = Daemon::start(&inst);
        assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}\n{}", daemon_log(&inst), stack.idp_log());
        stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", &client_mail(0));
        assert!(
            wait_until(Duration::from_secs(15), || stack.inbox("andes@andestextil.test").len() == 1),
            "{}",
            daemon_log(&inst)
        );
        // Let the token expire and the server drop the session: another rotation.
        std::thread::sleep(Duration::from_secs(4));
        stack.stop_dovecot();
        stack.start_dovecot();
        assert!(
            wait_until(Duration::from_secs(20), || stat(&stack.idp_stats(), &["token", "refresh_token"]) >= 2),
            "{}",
            stack.idp_log()
        );
        assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
        d.signal("-TERM");
        assert!(d.wait_exit(Duration::from_secs(15)).is_some(), "buzon stopped");
    }
    let saved = saved_refresh_tokens(inst.path());
    assert_eq!(saved.len(), 1, "one saved refresh token: {saved:?}");
    assert_ne!(saved[0], first, "the rotated token was saved");
    assert_eq!(std::fs::read_to_string(inst.path().join("refresh.txt")).unwrap_or_default().trim(), first);

    // The first token is dead now (one use): a restart works only with the saved one.
    let mut d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}\n{}", daemon_log(&inst), stack.idp_log());
    stack.smtp_send("usuario2@andestextil.test", "ops@cli.test", &client_mail(2));
    assert!(
        wait_until(Duration::from_secs(15), || stack.inbox("andes@andestextil.test").len() == 2),
        "{}",
        daemon_log(&inst)
    );
    let s = stack.idp_stats();
    assert_eq!(stat(&s, &["refresh_reused"]), 0, "no refresh token was used twice: {s}");
    assert_eq!(stat(&s, &["refused", "invalid_grant"]), 0, "{s}");
    d.signal("-TERM");
    assert!(d.wait_exit(Duration::from_secs(15)).is_some(), "buzon stopped");
    assert_ne!(saved_refresh_tokens(inst.path())[0], saved[0], "rotated again after the restart");
}

#[test]
fn a_refused_client_ends_run_once_with_a_nonzero_exit_naming_the_error() {
    let Some(stack) = Stack::start_oauth("oauth2 invalid client") else { return };
    let inst = stack.oauth_instance("");
    inst.write("secret.txt", "secreto-vencido\n");
    let out = inst.run(&["run", "--once"]);
    let err = support::stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    assert!(err.contains("AADSTS7000215"), "the provider's description: {err}");
    assert!(err.contains("Fix: check client_id and the client secret"), "{err}");
    // The daemon: the source stops (no retry storm) and says so in status.
    let _d = Daemon::start(&inst);
    assert!(
        wait_until(Duration::from_secs(15), || status(&inst)["source"]["state"] == "STOPPED (authentication refused)"),
        "{}\n{}",
        status(&inst),
        daemon_log(&inst)
    );
    assert!(status(&inst)["last_error"]["error"].as_str().is_some_and(|e| e.contains("invalid_client")));
    std::thread::sleep(Duration::from_secs(1));
    let refused = stat(&stack.idp_stats(), &["refused", "invalid_client"]);
    assert!(refused <= 3, "asked {refused} times");
}

#[test]
fn password_logins_are_refused_on_the_oauth2_stack() {
    let Some(stack) = Stack::start_oauth("oauth2 no passwords") else { return };
    let imap = imap_headers(stack.imap, "ops@cli.test", PASSWORD);
    assert!(imap.is_err_and(|e| e.contains("NO")), "IMAP LOGIN with a password");
    let plain = smtp_auth(stack.submission, "PLAIN", &format!("\0ops@cli.test\0{PASSWORD}")).unwrap_or_default();
    assert!(plain.contains("\n535 "), "{plain}");
    assert!(plain.contains("AUTH XOAUTH2 OAUTHBEARER"), "{plain}");
    // Submission takes nothing without AUTH.
    let anon = send_mail(stack.submission, false, "ops@cli.test", "andes@andestextil.test", &[client_mail(0)]);
    assert!(anon.is_err_and(|e| e.contains("554")), "unauthenticated submission");
    // And the same submission takes a real token (the refusals above were for the password).
    let form =
        format!("grant_type=client_credentials&client_id={OAUTH_CLIENT}&client_secret={OAUTH_SECRET}&scope=mail");
    let (code, tok) = http_post(stack.idp, "/token", "application/x-www-form-urlencoded", &form).unwrap_or_default();
    assert_eq!(code, 200, "{tok}");
    let token = tok["access_token"].as_str().unwrap_or_default();
    let ok = smtp_auth(stack.submission, "XOAUTH2", &buzon::oauth2::sasl::xoauth2("ops@cli.test", token));
    assert!(ok.unwrap_or_default().contains("\n235 "), "XOAUTH2 with a real token");
    // buzon configured with a password stops at once and says so.
    let inst = stack.instance("");
    let _d = Daemon::start(&inst);
    assert!(
        wait_until(Duration::from_secs(15), || status(&inst)["source"]["state"] == "STOPPED (authentication refused)"),
        "{}\n{}",
        status(&inst),
        daemon_log(&inst)
    );
}

#[test]
fn oauth2_config_mistakes_are_reported_with_their_place_and_fix() {
    let inst = support::Instance::new();
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    let table = "\n[mailbox.oauth2]\ntoken_url = \"http://login.example.com/token\"\nclient_id = \"app\"\nscope = \"https://outlook.office365.com/.default\"\ngrant = \"refresh_token\"\n";
    let cases: [(String, &[&str]); 3] = [
        (config.replacen("[mailbox]\n", "[mailbox]\nauth = \"oauth2\"\n", 1), &["needs a [mailbox.oauth2] table"]),
        (
            format!("{}{table}", config.replacen("[mailbox]\n", "[mailbox]\nauth = \"oauth2\"\n", 1)),
            &["token_url `http://login.example.com/token` must use https"],
        ),
        (config.replacen("[mailbox]\n", "[mailbox]\nauth = \"kerberos\"\n", 1), &["unknown auth `kerberos`"]),
    ];
    for (text, wants) in cases {
        assert!(text.contains("auth = "), "the sample config has a [mailbox] table");
        inst.write("config.toml", &text);
        let out = inst.run(&["run", "--once"]);
        let err = support::stderr(&out);
        assert!(!out.status.success(), "{err}");
        for want in wants {
            assert!(err.contains(want), "{want}: {err}");
        }
        assert!(err.contains("config.toml:"), "with its place: {err}");
    }
}

// ---- The token client alone against the identity provider ----

fn idp_config(idp: &Idp, grant: Grant, dir: &std::path::Path) -> OAuth2Config {
    let secret = dir.join("secret");
    std::fs::write(&secret, OAUTH_SECRET).unwrap_or_else(|e| panic!("{e}"));
    OAuth2Config {
        token_url: idp.token_url(),
        client_id: OAUTH_CLIENT.into(),
        client_secret_env: None,
        client_secret_file: Some(secret),
        scope: "https://outlook.office365.com/.default".into(),
        grant,
        refresh_token_file: None,
        device_authorization_url: None,
    }
}

/// Saves in memory, or fails while `fail` is set.
#[derive(Default)]
struct Recorder {
    saved: Mutex<Vec<String>>,
    fail: std::sync::atomic::AtomicBool,
}

impl RefreshTokenStore for Recorder {
    fn load_refresh_token(&self) -> anyhow::Result<Option<Secret>> {
        Ok(self.saved.lock().ok().and_then(|v| v.last().cloned()).map(Secret::new))
    }
    fn save_refresh_token(&self, token: &str) -> anyhow::Result<()> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            anyhow::bail!("disk full");
        }
        if let Ok(mut v) = self.saved.lock() {
            v.push(token.to_string());
        }
        Ok(())
    }
}

fn grants(idp: &Idp, grant: &str) -> u64 {
    stat(&idp.admin("/admin/stats", serde_json::json!({})), &["token", grant])
}

#[tokio::test]
async fn the_token_client_caches_refreshes_on_demand_and_types_its_errors() {
    let Some(idp) = Idp::start("token client", 3600) else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cfg = idp_config(&idp, Grant::ClientCredentials, dir.path());
    let client =
        TokenClient::new("mailbox", &cfg, Arc::new(buzon::oauth2::NoRefreshTokens)).unwrap_or_else(|e| panic!("{e}"));
    let a = client.access_token().await.unwrap_or_else(|e| panic!("{e}"));
    let b = client.access_token().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a, b, "kept while valid");
    assert_eq!(grants(&idp, "client_credentials"), 1);
    client.rejected(&a);
    let c = client.access_token().await.unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(a, c, "a refused token is replaced");
    assert_eq!(grants(&idp, "client_credentials"), 2);
    assert!(!format!("{client:?}").contains(c.expose()));

    // Transport trouble is retryable: an overloaded endpoint, then none at all.
    idp.admin("/admin/fail", serde_json::json!({"count": 1, "status": 503}));
    client.rejected(&c);
    let e = client.access_token().await.err().unwrap_or_else(|| panic!("the 503 page is an error"));
    assert_eq!(e.kind(), Kind::Retryable, "{e}");
    assert!(e.to_string().contains("HTML page"), "{e}");
    let mut down = cfg.clone();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(1);
    down.token_url = format!("http://127.0.0.1:{closed}/token");
    let gone =
        TokenClient::new("mailbox", &down, Arc::new(buzon::oauth2::NoRefreshTokens)).unwrap_or_else(|e| panic!("{e}"));
    let e = gone.access_token().await.err().unwrap_or_else(|| panic!("nobody listens"));
    assert_eq!(e.kind(), Kind::Retryable, "{e}");
    assert!(matches!(e, buzon::oauth2::TokenError::Transport(_)), "{e:?}");

    // A wrong secret is fatal, with the provider's words and the fix.
    std::fs::write(dir.path().join("secret"), "otro").unwrap_or_else(|e| panic!("{e}"));
    let bad =
        TokenClient::new("outbox", &cfg, Arc::new(buzon::oauth2::NoRefreshTokens)).unwrap_or_else(|e| panic!("{e}"));
    let e = bad.access_token().await.err().unwrap_or_else(|| panic!("a wrong secret is refused"));
    assert_eq!(e.kind(), Kind::Fatal);
    assert_eq!(e.code(), Some("invalid_client"));
    assert!(e.to_string().contains("AADSTS7000215") && e.to_string().contains("client secret"), "{e}");
}

#[tokio::test]
async fn rotated_refresh_tokens_are_saved_before_the_access_token_is_used() {
    let Some(idp) = Idp::start("refresh rotation", 3600) else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let first = idp.admin("/admin/refresh-token", serde_json::json!({"id": OAUTH_CLIENT}))["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    std::fs::write(dir.path().join("refresh"), format!("{first}\n")).unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = idp_config(&idp, Grant::RefreshToken, dir.path());
    cfg.refresh_token_file = Some(dir.path().join("refresh"));
    let store = Arc::new(Recorder::default());
    let client = TokenClient::new("mailbox", &cfg, store.clone()).unwrap_or_else(|e| panic!("{e}"));
    let t1 = client.access_token().await.unwrap_or_else(|e| panic!("{e}"));
    let saved = store.saved.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(saved.len(), 1, "saved once, before the token came back");
    assert_ne!(saved[0], first);

    // The disk fails at the next rotation: no access token is handed out
    // until the new refresh token is safe.
    store.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    client.rejected(&t1);
    let e = client.access_token().await.err().unwrap_or_else(|| panic!("an unsaved token is not used"));
    assert!(matches!(e, buzon::oauth2::TokenError::Persist(_)) && e.kind() == Kind::Retryable, "{e:?}");
    store.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    let t2 = client.access_token().await.unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(t1, t2);
    assert_eq!(grants(&idp, "refresh_token"), 2, "saving again needed no new grant");
    assert_eq!(store.saved.lock().map(|v| v.len()).unwrap_or(0), 2);

    // A second process starts from the saved token, not the dead first one.
    let again = TokenClient::new("mailbox", &cfg, store.clone()).unwrap_or_else(|e| panic!("{e}"));
    again.access_token().await.unwrap_or_else(|e| panic!("{e}"));
    // Without the saved token, the first one is refused: one use only.
    let fresh = TokenClient::new("mailbox", &cfg, Arc::new(Recorder::default())).unwrap_or_else(|e| panic!("{e}"));
    let e = fresh.access_token().await.err().unwrap_or_else(|| panic!("a used refresh token is refused"));
    assert_eq!(e.code(), Some("invalid_grant"));
    assert!(e.to_string().contains("buzon login"), "{e}");

    // An operator ran `buzon login` again: a new refresh_token_file beats a
    // saved token that is dead, and the token it rotates to is saved.
    let newer = idp.admin("/admin/refresh-token", serde_json::json!({"id": OAUTH_CLIENT}))["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    std::fs::write(dir.path().join("refresh"), format!("{newer}\n")).unwrap_or_else(|e| panic!("{e}"));
    let stale = Arc::new(Recorder::default());
    stale.save_refresh_token(&first).unwrap_or_else(|e| panic!("{e}"));
    let relogged = TokenClient::new("mailbox", &cfg, stale.clone()).unwrap_or_else(|e| panic!("{e}"));
    relogged.access_token().await.unwrap_or_else(|e| panic!("{e}"));
    let last = stale.saved.lock().ok().and_then(|v| v.last().cloned()).unwrap_or_default();
    assert!(last != first && last != newer, "the rotated token was saved");
}

#[tokio::test]
async fn the_device_code_flow_gets_the_first_refresh_token() {
    // oauth2-mock-server has no device flow: scripts/oauth-idp answers it.
    let Some(idp) = Idp::start("device code", 3600) else { return };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cfg = idp_config(&idp, Grant::RefreshToken, dir.path());
    let login = buzon::oauth2::device::start(&cfg).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(login.verification_uri.starts_with("http://127.0.0.1:"), "{}", login.verification_uri);
    assert!(login.user_code.len() >= 8);
    let port = idp.port;
    let code = login.user_code.clone();
    // The person approves on another device a moment later.
    let approve = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        http_post(port, "/admin/approve", "application/json", &serde_json::json!({"user_code": code}).to_string())
    });
    let tokens = buzon::oauth2::device::finish(&cfg, &login, Some(Duration::from_secs(20)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(approve.await.is_ok_and(|r| r.is_ok_and(|(c, _)| c == 200)));
    assert!(!tokens.access_token.is_empty());
    let refresh = tokens.refresh_token.unwrap_or_else(|| panic!("a refresh token"));
    // That refresh token works with the refresh-token grant.
    std::fs::write(dir.path().join("refresh"), refresh.expose()).unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = cfg;
    cfg.refresh_token_file = Some(dir.path().join("refresh"));
    let client = TokenClient::new("mailbox", &cfg, Arc::new(Recorder::default())).unwrap_or_else(|e| panic!("{e}"));
    client.access_token().await.unwrap_or_else(|e| panic!("{e}"));
}

// ---- Measurement (not a check; run by hand) ----

fn latencies(stack: &Stack, inst: &support::Instance, n: usize) -> Vec<Duration> {
    let new = stack.maildir("andes@andestextil.test").join("new");
    let count = || std::fs::read_dir(&new).map(|r| r.count()).unwrap_or(0);
    let mut lat = Vec::new();
    for k in 0..n {
        let i = k * 10; // documents from andestextil, a new sender each time
        let before = count();
        stack.smtp_send(&format!("usuario{i}@andestextil.test"), "ops@cli.test", &client_mail(i));
        let t0 = std::time::Instant::now();
        while count() == before {
            assert!(t0.elapsed() < Duration::from_secs(30), "no acknowledgement for mail {i}:\n{}", daemon_log(inst));
            std::thread::sleep(Duration::from_millis(1));
        }
        lat.push(t0.elapsed());
    }
    lat.sort();
    lat
}

fn summary(lat: &[Duration]) -> String {
    let ms = |p: f64| lat[(((lat.len() - 1) as f64) * p).round() as usize].as_secs_f64() * 1000.0;
    format!("p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms", ms(0.5), ms(0.9), ms(0.99), ms(1.0))
}

/// SMTP 250 → acknowledgement in the client's Maildir, one mail at a time,
/// with passwords (IMAP LOGIN, SMTP AUTH PLAIN on submission) and with
/// OAuth2 (OAUTHBEARER, XOAUTH2; 20-second tokens, so they expire and are
/// renewed during the run).
///
/// `cargo test --test mail_oauth -- --ignored --nocapture latency` (BUZON_BENCH_LATENCY_MAILS, default 100)
#[test]
#[ignore]
fn latency_with_oauth2_and_with_passwords() {
    let n = std::env::var("BUZON_BENCH_LATENCY_MAILS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    {
        let Some(stack) = Stack::start("latency password") else { return };
        let outbox = format!(
            "port = {}\ntls = \"none\"\nuser = \"ops@cli.test\"\npassword_env = \"BUZON_TEST_IMAP_PASSWORD\"",
            stack.submission
        );
        let inst = stack.instance_with("", &outbox);
        let _d = Daemon::start(&inst);
        assert!(wait_until(Duration::from_secs(20), || connected(&inst)));
        let lat = latencies(&stack, &inst, n);
        let plog = std::fs::read_to_string(stack.dir.join("log/postfix.log")).unwrap_or_default();
        assert!(plog.contains("sasl_method=PLAIN"), "the password run authenticated on submission");
        println!("password: {n} mails: {}", summary(&lat));
    }
    let Some(stack) = Stack::start_oauth("latency oauth2") else { return };
    stack.idp_admin("/admin/lifetime", serde_json::json!({"id": OAUTH_CLIENT, "lifetime": 20}));
    let inst = stack.oauth_instance("");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)));
    let t = std::time::Instant::now();
    let lat = latencies(&stack, &inst, n);
    let grants = stat(&stack.idp_stats(), &["token", "client_credentials"]);
    println!(
        "oauth2:   {n} mails: {} ({grants} token grants in {:.0} s with 20 s tokens)",
        summary(&lat),
        t.elapsed().as_secs_f64()
    );
    // What a reconnect adds: a token from the provider, against one kept.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("secret"), OAUTH_SECRET).unwrap_or_else(|e| panic!("{e}"));
    let cfg = OAuth2Config {
        token_url: stack.token_url(),
        client_id: OAUTH_CLIENT.into(),
        client_secret_env: None,
        client_secret_file: Some(dir.path().join("secret")),
        scope: "https://outlook.office365.com/.default".into(),
        grant: Grant::ClientCredentials,
        refresh_token_file: None,
        device_authorization_url: None,
    };
    let client =
        TokenClient::new("bench", &cfg, Arc::new(buzon::oauth2::NoRefreshTokens)).unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    let (mut fresh, mut kept) = (Vec::new(), Vec::new());
    rt.block_on(async {
        for _ in 0..50 {
            let t0 = std::time::Instant::now();
            let tok = client.access_token().await.unwrap_or_else(|e| panic!("{e}"));
            fresh.push(t0.elapsed());
            let t1 = std::time::Instant::now();
            let _ = client.access_token().await.unwrap_or_else(|e| panic!("{e}"));
            kept.push(t1.elapsed());
            client.rejected(&tok);
        }
    });
    fresh.sort();
    kept.sort();
    println!(
        "token from the provider: median {:.1} ms; kept token: median {:.1} µs (50 each)",
        fresh[25].as_secs_f64() * 1000.0,
        kept[25].as_secs_f64() * 1e6
    );
}
