//! `buzon check` and `buzon login` against the real loopback stack
//! (scripts/mailstack: Dovecot, Postfix, and in the oauth2 mode the
//! identity provider of scripts/oauth-idp). Green on a good config, with
//! passwords and with OAuth2; each broken setting named by the step that
//! fails, with its fix; `--send-to` delivers; the device-code login keeps
//! the first refresh token in the store, the daemon logs in with it, and
//! neither `check` nor `login` spends the daemon's one-use token.
//!
//! Without the servers the stack tests print SKIP (BUZON_REQUIRE_MAILSTACK=1
//! makes that a failure); the Maildir/files test needs nothing.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::stack::{Daemon, PASSWORD, Stack, connected, daemon_log, header, wait_until};
use support::{Instance, root};

/// The repository's config with `[mailbox]` and `[outbox]` (and their
/// sub-tables) replaced by `mailbox` and `outbox`.
fn configure(inst: &Instance, mailbox: &str, outbox: &str) {
    let base = std::fs::read_to_string(root().join("config.toml")).unwrap_or_else(|e| panic!("config.toml: {e}"));
    let mut out = String::new();
    let mut skip = false;
    for line in base.lines() {
        if line.starts_with('[') {
            let name = line.trim_matches(|c| c == '[' || c == ']');
            skip = name.starts_with("mailbox") || name.starts_with("outbox");
            if name == "mailbox" {
                out.push_str(mailbox);
                out.push('\n');
            }
            if name == "outbox" {
                out.push_str(outbox);
                out.push('\n');
            }
        }
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
    }
    inst.write("config.toml", &out);
}

/// `buzon <args>` in the instance: (exit code, stdout, stderr).
fn buzon(inst: &Instance, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_buzon"))
        .current_dir(inst.path())
        .args(args)
        .env("BUZON_TEST_IMAP_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run buzon: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The line of a step: `mark` ✓/✗/–, e.g. `("✗", "mailbox", "TLS")`.
fn step<'a>(out: &'a str, mark: &str, part: &str, label: &str) -> Option<&'a str> {
    let head = format!("{mark} {part:<8} {label} ");
    out.lines().find(|l| l.starts_with(&head))
}

/// Assert a step's line and that it says `wants`.
fn expect(out: &str, mark: &str, part: &str, label: &str, wants: &[&str]) {
    let Some(line) = step(out, mark, part, label) else {
        panic!("no `{mark} {part} {label}` line in:\n{out}");
    };
    for w in wants {
        assert!(line.contains(w), "`{w}` not in `{line}`\n{out}");
    }
}

fn mailbox_imap(port: u16, lines: &str) -> String {
    format!(
        "[mailbox]\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"ops@cli.test\"\nprocessed_folder = \"Procesados\"\n{lines}\n"
    )
}

fn outbox_smtp(port: u16, lines: &str) -> String {
    format!("[outbox]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntimeout_seconds = 10\n{lines}\n")
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(1)
}

const PW: &str = "password_env = \"BUZON_TEST_IMAP_PASSWORD\"";

#[test]
fn check_is_green_on_the_password_stack_and_names_each_broken_step() {
    let Some(stack) = Stack::start("check password") else { return };
    let inst = Instance::new();
    let ca = format!("ca_file = \"{}\"", stack.dir.join("tls/ca.pem").display());

    // STARTTLS on both, the private CA given, AUTH on submission.
    let good_mailbox = mailbox_imap(stack.imap, &format!("tls = \"starttls\"\n{ca}\n{PW}\nsent_folder = \"Enviados\""));
    let good_outbox =
        outbox_smtp(stack.submission, &format!("tls = \"starttls\"\n{ca}\nuser = \"ops@cli.test\"\n{PW}"));
    configure(&inst, &good_mailbox, &good_outbox);
    let (code, out, err) = buzon(&inst, &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    for label in
        ["address", "TCP", "greeting", "STARTTLS", "TLS", "certificate", "login", "folder", "quarantine", "sent"]
    {
        expect(&out, "✓", "mailbox", label, &[]);
    }
    expect(&out, "✓", "mailbox", "certificate", &["valid for 127.0.0.1", "ca.pem"]);
    expect(&out, "✓", "mailbox", "login", &["logged in as ops@cli.test (LOGIN)"]);
    expect(&out, "✓", "mailbox", "folder", &["INBOX exists (0 messages)"]);
    expect(&out, "✓", "mailbox", "processed", &["Procesados did not exist: created"]);
    for label in ["address", "TCP", "greeting", "EHLO", "STARTTLS", "certificate", "AUTH"] {
        expect(&out, "✓", "outbox", label, &[]);
    }
    expect(&out, "✓", "outbox", "greeting", &["220 mail.desk.test ESMTP"]);
    expect(&out, "✓", "outbox", "EHLO", &["STARTTLS", "AUTH PLAIN"]);
    expect(&out, "✓", "outbox", "AUTH", &["authenticated as ops@cli.test (PLAIN)"]);
    assert!(out.contains("All ") && out.contains(" steps passed."), "{out}");
    assert!(!out.contains('✗'), "{out}");
    // The folders the source needs were created, as it would.
    assert!(stack.maildir("ops@cli.test").join(".Procesados").is_dir());
    let (code, out, _) = buzon(&inst, &["check", "--json"]);
    assert_eq!(code, 0, "{out}");
    let steps: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(steps.len() >= 17, "{out}");
    assert!(steps.iter().all(|s| s["status"] == "pass" && s["fix"].is_null()), "{out}");
    assert!(
        steps.iter().any(|s| s["part"] == "mailbox"
            && s["step"] == "processed_folder"
            && s["detail"].as_str().is_some_and(|d| d.contains("Procesados exists"))),
        "{out}"
    );

    // Implicit TLS on both; SMTPS takes mail without AUTH from loopback.
    let implicit_mailbox = mailbox_imap(stack.imaps, &format!("tls = \"implicit\"\n{ca}\n{PW}"));
    let implicit_outbox = outbox_smtp(stack.smtps, &format!("tls = \"implicit\"\n{ca}"));
    configure(&inst, &implicit_mailbox, &implicit_outbox);
    let (code, out, err) = buzon(&inst, &["check", "--send-to", "andes@andestextil.test"]);
    assert_eq!(code, 0, "{out}{err}");
    expect(&out, "✓", "mailbox", "TLS", &["TLS 1."]);
    expect(&out, "✓", "outbox", "TLS", &["TLS 1."]);
    expect(&out, "–", "outbox", "AUTH", &["no `user`"]);
    expect(
        &out,
        "✓",
        "outbox",
        "test mail",
        &["to andes@andestextil.test from ops@cli.test", "250 2.0.0 Ok: queued as"],
    );
    // The test mail arrives (Postfix → LMTP → the recipient's Maildir).
    assert!(
        wait_until(Duration::from_secs(15), || !stack.inbox("andes@andestextil.test").is_empty()),
        "the test mail did not arrive"
    );
    let mail = stack.inbox("andes@andestextil.test").remove(0);
    assert!(header(&mail, "From").is_some_and(|f| f.contains("ops@cli.test")), "{mail}");
    assert_eq!(header(&mail, "Auto-Submitted").as_deref(), Some("auto-generated"), "{mail}");
    let parsed = buzon::mail::parse(mail.as_bytes(), &buzon::mail::ParseOptions::default());
    assert!(parsed.subject.starts_with("Prueba de conexión de buzon"), "{}", parsed.subject);
    assert!(parsed.new_text.contains("correo de prueba enviado con `buzon check`"), "{}", parsed.new_text);
    assert!(parsed.new_text.contains("No hace falta responderlo."), "{}", parsed.new_text);

    // Each broken setting, named by its step with the fix; what came
    // before it passed, nothing of that part after it was tried.
    let closed = closed_port();
    let (imap, imaps) = (stack.imap, stack.imaps);
    let plain_mailbox = mailbox_imap(imap, &format!("tls = \"none\"\n{PW}"));
    let plain_outbox = outbox_smtp(stack.smtp, "tls = \"none\"");
    type Case = (&'static str, String, String, (&'static str, &'static str), Vec<String>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            "an unresolvable host",
            plain_mailbox.replace("host = \"127.0.0.1\"", "host = \"imap.buzon-no-existe.invalid\""),
            plain_outbox.clone(),
            ("mailbox", "address"),
            vec!["cannot resolve `imap.buzon-no-existe.invalid`".into()],
            "check `host` in [mailbox]",
            "",
        ),
        (
            "a closed IMAP port",
            mailbox_imap(closed, &format!("tls = \"none\"\n{PW}")),
            plain_outbox.clone(),
            ("mailbox", "TCP"),
            vec!["connection refused".into(), format!("nothing listens on port {closed}")],
            "check `port` in [mailbox]",
            "address",
        ),
        (
            "implicit TLS on the plain IMAP port",
            mailbox_imap(imap, &format!("tls = \"implicit\"\n{ca}\n{PW}")),
            plain_outbox.clone(),
            ("mailbox", "TLS"),
            vec![format!("port {imap} speaks plain text")],
            "set tls = \"starttls\" in [mailbox]",
            "TCP",
        ),
        (
            "plain text on the IMAPS port",
            mailbox_imap(imaps, &format!("tls = \"none\"\n{PW}")),
            plain_outbox.clone(),
            ("mailbox", "TLS"),
            vec![format!("port {imaps} speaks implicit TLS")],
            "set tls = \"implicit\" in [mailbox]",
            "TCP",
        ),
        (
            "no ca_file for the private CA",
            mailbox_imap(imaps, &format!("tls = \"implicit\"\n{PW}")),
            plain_outbox.clone(),
            ("mailbox", "certificate"),
            vec!["signed by a CA this machine does not know".into()],
            "set ca_file in [mailbox]",
            "TLS",
        ),
        (
            "a wrong password",
            mailbox_imap(imap, "tls = \"none\"\npassword = \"clave-equivocada\""),
            plain_outbox.clone(),
            ("mailbox", "login"),
            vec!["the server refused the login of ops@cli.test".into()],
            "check `user` and the password",
            "greeting",
        ),
        (
            "a folder that does not exist",
            format!("{plain_mailbox}folder = \"Entrada\"\n"),
            plain_outbox.clone(),
            ("mailbox", "folder"),
            vec!["the folder `Entrada` cannot be opened".into()],
            "check `folder` in [mailbox] (the server has: ",
            "login",
        ),
        (
            "an SMTP port that refuses",
            plain_mailbox.clone(),
            outbox_smtp(closed, "tls = \"none\""),
            ("outbox", "TCP"),
            vec!["connection refused".into()],
            "check `port` in [outbox]",
            "address",
        ),
        (
            "a wrong SMTP password",
            plain_mailbox.clone(),
            outbox_smtp(stack.submission, "tls = \"none\"\nuser = \"ops@cli.test\"\npassword = \"clave-equivocada\""),
            ("outbox", "AUTH"),
            vec!["the server refused AUTH PLAIN as ops@cli.test".into(), "535".into()],
            "check `user` and the password",
            "EHLO",
        ),
        (
            "STARTTLS on SMTP without the private CA",
            plain_mailbox.clone(),
            outbox_smtp(stack.submission, &format!("tls = \"starttls\"\nuser = \"ops@cli.test\"\n{PW}")),
            ("outbox", "certificate"),
            vec!["does not know".into()],
            "set ca_file in [outbox]",
            "STARTTLS",
        ),
    ];
    for (case, mailbox, outbox, (part, label), details, fix, before) in cases {
        configure(&inst, &mailbox, &outbox);
        let (code, out, err) = buzon(&inst, &["check"]);
        assert_eq!(code, 1, "{case}: exit code\n{out}{err}");
        let mut wants: Vec<&str> = details.iter().map(String::as_str).collect();
        wants.push(fix);
        expect(&out, "✗", part, label, &wants);
        assert_eq!(out.matches('✗').count(), 1, "{case}: one failure\n{out}");
        if !before.is_empty() {
            expect(&out, "✓", part, before, &[]);
        }
        // Nothing of that part after the failure.
        let lines: Vec<&str> = out.lines().filter(|l| l.get(4..).is_some_and(|r| r.starts_with(part))).collect();
        assert!(lines.last().is_some_and(|l| l.starts_with('✗')) || label == "folder", "{case}: {out}");
        assert!(out.contains("1 of ") && out.contains(" steps failed"), "{case}: {out}");
        // The other part still ran, and passed.
        let other = if part == "mailbox" { "outbox" } else { "mailbox" };
        expect(&out, "✓", other, "TCP", &[]);
    }
}

#[test]
fn check_is_green_with_oauth2_client_credentials_and_names_a_refused_client() {
    let Some(stack) = Stack::start_oauth("check oauth2") else { return };
    let inst = stack.oauth_instance("");
    let (code, out, err) = buzon(&inst, &["check"]);
    assert_eq!(code, 0, "{out}{err}\n{}", stack.idp_log());
    expect(
        &out,
        "✓",
        "mailbox",
        "OAuth2 token",
        &["an access token from http://127.0.0.1:", "grant client_credentials"],
    );
    expect(&out, "✓", "mailbox", "login", &["logged in as ops@cli.test (OAUTHBEARER)"]);
    expect(&out, "✓", "outbox", "OAuth2 token", &["the mailbox's token"]);
    expect(&out, "✓", "outbox", "AUTH", &["authenticated as ops@cli.test (XOAUTH2)"]);
    let stats = stack.idp_stats();
    assert_eq!(stats["token"]["client_credentials"], 1, "one token for both: {stats}");
    assert!(!out.contains("eyJ"), "no token printed: {out}");

    // Client credentials are not one-use: checked while the daemon runs too.
    {
        let _d = Daemon::start(&inst);
        assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
        let (code, out, err) = buzon(&inst, &["check"]);
        assert_eq!(code, 0, "{out}{err}");
        expect(&out, "✓", "mailbox", "OAuth2 token", &[]);
        // Nobody logs in for client credentials.
        let (code, _, err) = buzon(&inst, &["login"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("grant = \"client_credentials\"") && err.contains("nobody needs to sign in"), "{err}");
    }

    // A refused client: the provider's words and the fix, on both parts.
    inst.write("secret.txt", "secreto-vencido\n");
    let (code, out, err) = buzon(&inst, &["check"]);
    assert_eq!(code, 1, "{out}{err}");
    for part in ["mailbox", "outbox"] {
        expect(
            &out,
            "✗",
            part,
            "OAuth2 token",
            &["the provider refused: invalid_client (AADSTS7000215", "fix: check client_id and the client secret"],
        );
    }
    expect(&out, "✓", "mailbox", "greeting", &[]);
    assert!(step(&out, "✓", "mailbox", "login").is_none(), "{out}");
}

/// Run `buzon login` in the background; the user code it shows. The child
/// is returned to be waited for by [`finish_login`].
#[allow(clippy::zombie_processes)]
fn start_login(inst: &Instance) -> (std::process::Child, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_buzon"))
        .current_dir(inst.path())
        .arg("login")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run buzon login: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut reader = BufReader::new(stdout);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.wait();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("buzon login showed no code:\n{seen}{err}");
        }
        seen.push_str(&line);
        if let Some(code) = line.trim().strip_prefix("2. Enter the code ") {
            assert!(seen.contains("1. Open http://127.0.0.1:"), "{seen}");
            return (child, code.trim().to_string(), reader);
        }
    }
}

/// Wait for a `buzon login` to end: (exit code, the rest of stdout, stderr).
fn finish_login(
    mut child: std::process::Child,
    mut reader: BufReader<std::process::ChildStdout>,
) -> (i32, String, String) {
    let mut out = String::new();
    let _ = std::io::Read::read_to_string(&mut reader, &mut out);
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    let code = child.wait().map(|s| s.code().unwrap_or(-1)).unwrap_or(-1);
    (code, out, err)
}

fn saved_refresh_tokens(inst: &Instance) -> Vec<String> {
    let store = buzon::store::Store::open(&inst.path().join("var/store")).unwrap_or_else(|e| panic!("store: {e}"));
    buzon::store::tokens::saved_refresh_tokens(&store)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|t| t.expose().to_string())
        .collect()
}

#[test]
fn login_keeps_the_first_refresh_token_in_the_store_and_nothing_spends_the_daemons() {
    let Some(stack) = Stack::start_oauth("check login") else { return };
    let inst = stack.oauth_instance("grant = \"refresh_token\"\n");
    let stat = |k: &str| stack.idp_stats()["token"][k].as_u64().unwrap_or(0);
    let reused = || stack.idp_stats()["refresh_reused"].as_u64().unwrap_or(0);

    // Before any login the check says what to do.
    let (code, out, _) = buzon(&inst, &["check"]);
    assert_eq!(code, 1, "{out}");
    expect(&out, "✗", "mailbox", "OAuth2 token", &["no refresh token", "fix: run `buzon login`"]);

    // The person signs in on "another device" (the IdP's test control).
    let (child, user_code, reader) = start_login(&inst);
    stack.idp_admin("/admin/approve", serde_json::json!({"user_code": user_code}));
    let (code, out, err) = finish_login(child, reader);
    assert_eq!(code, 0, "{out}{err}\n{}", stack.idp_log());
    assert!(out.contains("Done: the refresh token is saved in the store"), "{out}");
    assert!(out.contains("The outbox uses the same OAuth2 client"), "{out}");
    assert_eq!(stat("device_code"), 1);
    let first = saved_refresh_tokens(&inst);
    assert_eq!(first.len(), 1, "{first:?}");

    // `check` with the daemon stopped uses the saved token and saves the
    // rotated one, as the daemon does.
    let (code, out, err) = buzon(&inst, &["check"]);
    assert_eq!(code, 0, "{out}{err}\n{}", stack.idp_log());
    expect(&out, "✓", "mailbox", "OAuth2 token", &["grant refresh_token"]);
    expect(&out, "✓", "outbox", "AUTH", &["XOAUTH2"]);
    let rotated = saved_refresh_tokens(&inst);
    assert_eq!(rotated.len(), 1);
    assert_ne!(rotated, first, "the rotated refresh token was saved");
    assert_eq!(stat("refresh_token"), 1, "one refresh for both parts");

    // The daemon logs in with it.
    let mut d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}\n{}", daemon_log(&inst), stack.idp_log());
    let refreshes = stat("refresh_token");
    // While it runs: `check` leaves its token alone, `login` refuses.
    let (code, out, err) = buzon(&inst, &["check"]);
    assert_eq!(code, 0, "skipped steps do not fail: {out}{err}");
    expect(&out, "–", "mailbox", "OAuth2 token", &["skipped: the daemon is running", "`buzon status`"]);
    expect(&out, "–", "outbox", "OAuth2 token", &["skipped"]);
    expect(&out, "✓", "mailbox", "greeting", &[]);
    assert!(out.contains("skipped."), "{out}");
    assert_eq!(stat("refresh_token"), refreshes, "check asked for no token");
    let (code, _, err) = buzon(&inst, &["login"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the daemon is running") && err.contains("stop it, run `buzon login`"), "{err}");
    d.signal("-TERM");
    assert!(d.wait_exit(Duration::from_secs(15)).is_some(), "buzon stopped");

    // After the daemon, the saved token still works: nobody spent one twice.
    let (code, out, _) = buzon(&inst, &["check"]);
    assert_eq!(code, 0, "{out}\n{}", stack.idp_log());
    assert_eq!(reused(), 0, "no refresh token was used twice: {}", stack.idp_stats());

    // A declined sign-in (Microsoft's word for it) and a code that ran out.
    let (child, user_code, reader) = start_login(&inst);
    stack.idp_admin("/admin/deny", serde_json::json!({"user_code": user_code, "error": "authorization_declined"}));
    let (code, _, err) = finish_login(child, reader);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the sign-in was declined") && err.contains("authorization_declined"), "{err}");
    let (child, user_code, reader) = start_login(&inst);
    stack.idp_admin("/admin/expire", serde_json::json!({"user_code": user_code}));
    let (code, _, err) = finish_login(child, reader);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the code expired") && err.contains("expired_token"), "{err}");
    // A refused login leaves the saved token as it was.
    assert_eq!(saved_refresh_tokens(&inst).len(), 1);
    let (code, out, _) = buzon(&inst, &["check"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_maildir_and_a_files_outbox_are_checked_too() {
    let inst = Instance::new();
    let (code, out, err) = buzon(&inst, &["check", "--send-to", "lquispe@andestextil.com.pe"]);
    assert_eq!(code, 0, "{out}{err}");
    expect(&out, "✓", "mailbox", "Maildir", &["var/maildir exists and can be written"]);
    expect(&out, "✓", "outbox", "folder", &["var/outbox"]);
    expect(&out, "–", "outbox", "test mail", &["nothing is sent"]);
    assert!(support::files(&inst.path().join("var")).is_empty(), "the probe files are gone");

    let maildir = |lines: &str| format!("[mailbox]\nkind = \"maildir\"\n{lines}\n");
    let files = "[outbox]\nkind = \"files\"\npath = \"var/outbox\"\n";
    inst.write("var/un-archivo", "x");
    let cases = [
        ("path = \"var/no-existe\"", "✗", &["var/no-existe does not exist", "set create = true"][..]),
        ("path = \"var/no-existe\"\ncreate = true", "✓", &["does not exist yet: created at start (create = true)"][..]),
        ("path = \"var/un-archivo\"", "✗", &["is not a folder"][..]),
    ];
    for (lines, mark, wants) in cases {
        configure(&inst, &maildir(lines), files);
        let (code, out, err) = buzon(&inst, &["check"]);
        assert_eq!(code, if mark == "✓" { 0 } else { 1 }, "{lines}: {out}{err}");
        expect(&out, mark, "mailbox", "Maildir", wants);
    }
    assert!(!inst.path().join("var/no-existe").exists(), "check creates nothing");
    let (code, _, err) = buzon(&inst, &["check", "--send-to", "no es un correo"]);
    assert_eq!(code, 2);
    assert!(err.contains("--send-to `no es un correo` is not a mail address"), "{err}");
}
