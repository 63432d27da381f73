//! A private real mail stack (Postfix + Dovecot, `scripts/mailstack`) per
//! test, on free loopback ports, and a buzon instance wired to it over IMAP
//! and SMTP. Tests skip with a message when the servers are not installed,
//! except where `BUZON_REQUIRE_MAILSTACK=1` (CI), where they fail.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Instance, root};

/// Staff of the default config (cli.test) and one catch-all mailbox per
/// client domain (the generated mails come from many senders).
pub const USERS: &[&str] = &[
    "ops@cli.test",
    "supervision@cli.test",
    "gerencia@cli.test",
    "asistente1@cli.test",
    "asistente2@cli.test",
    "cvega@cli.test",
    "jrojas@cli.test",
    "administracion@cli.test",
    "andes@andestextil.test",
    "pacific@pacificfoods.test",
];
pub const CATCHALL: &[&str] = &["andes@andestextil.test", "pacific@pacificfoods.test"];
pub const PASSWORD: &str = "clave-de-prueba";

pub struct Stack {
    tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub imap: u16,
    pub imaps: u16,
    pub smtp: u16,
    pub lmtp: u16,
    pub smtps: u16,
    /// SMTP that takes mail only after AUTH (SASL through Dovecot).
    pub submission: u16,
    /// The OAuth2 identity provider (oauth2 stacks only).
    pub idp: u16,
    /// "password" or "oauth2" (MAILSTACK_AUTH).
    pub auth: &'static str,
    dovecot_extra: String,
}

fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A free port for a test server on 127.0.0.1, from 20000–31999: below
/// Linux's ephemeral range (32768–60999), so that no client socket (of
/// buzon, of another test) ever takes it between the check and the server's
/// start; handed out once per test process (tests of one binary run at once,
/// binaries one after another), starting at a place of its own per process.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = (std::process::id() % 120) * 100;
    for _ in 0..12_000 {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = 20_000 + ((start + n) % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 20000–31999")
}

impl Stack {
    /// Start a stack, or `None` (skip) when the servers are not installed here.
    pub fn start(test: &str) -> Option<Stack> {
        Stack::start_with(test, "")
    }

    /// A stack whose Dovecot gets `dovecot_extra` appended to its config.
    pub fn start_with(test: &str, dovecot_extra: &str) -> Option<Stack> {
        Stack::start_mode(test, dovecot_extra, "password")
    }

    /// A stack in the OAuth2 mode: Dovecot takes only XOAUTH2/OAUTHBEARER
    /// tokens of the identity provider (scripts/oauth-idp), which knows the
    /// client [`OAUTH_CLIENT`]; Postfix's submission port takes XOAUTH2.
    pub fn start_oauth(test: &str) -> Option<Stack> {
        Stack::start_oauth_with(test, "")
    }

    /// An oauth2 stack whose Dovecot gets `dovecot_extra` appended to its config.
    pub fn start_oauth_with(test: &str, dovecot_extra: &str) -> Option<Stack> {
        if !idp_installed() {
            let required = std::env::var("BUZON_REQUIRE_MAILSTACK").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{test}: BUZON_REQUIRE_MAILSTACK=1 but the OAuth2 identity provider is not installed (scripts/install-mailstack)"
            );
            eprintln!(
                "SKIP {test}: the OAuth2 identity provider is not installed (scripts/install-mailstack: Node.js + scripts/oauth-idp)"
            );
            return None;
        }
        Stack::start_mode(test, dovecot_extra, "oauth2")
    }

    fn start_mode(test: &str, dovecot_extra: &str, auth: &'static str) -> Option<Stack> {
        let required = std::env::var("BUZON_REQUIRE_MAILSTACK").is_ok_and(|v| v == "1");
        if !(have("dovecot") && have("postfix") && is_root()) {
            assert!(
                !required,
                "{test}: BUZON_REQUIRE_MAILSTACK=1 but Dovecot/Postfix are missing or not root (run scripts/install-mailstack)"
            );
            eprintln!("SKIP {test}: Dovecot and Postfix are not installed (scripts/install-mailstack), or not root");
            return None;
        }
        // Short and traversable by the vmail and postfix users.
        let tmp = match tempfile::Builder::new().prefix("bz").tempdir_in("/tmp") {
            Ok(t) => t,
            Err(e) => panic!("tempdir: {e}"),
        };
        let dir = tmp.path().join("s");
        let stack = Stack {
            dir,
            tmp,
            imap: free_port(),
            imaps: free_port(),
            smtp: free_port(),
            lmtp: free_port(),
            smtps: free_port(),
            submission: free_port(),
            idp: free_port(),
            auth,
            dovecot_extra: dovecot_extra.to_string(),
        };
        stack.script("start");
        Some(stack)
    }

    fn script(&self, cmd: &str) {
        let out = Command::new(root().join("scripts/mailstack"))
            .args([cmd, &self.dir.to_string_lossy()])
            .env("MAILSTACK_IMAP_PORT", self.imap.to_string())
            .env("MAILSTACK_IMAPS_PORT", self.imaps.to_string())
            .env("MAILSTACK_SMTP_PORT", self.smtp.to_string())
            .env("MAILSTACK_LMTP_PORT", self.lmtp.to_string())
            .env("MAILSTACK_SMTPS_PORT", self.smtps.to_string())
            .env("MAILSTACK_SUBMISSION_PORT", self.submission.to_string())
            .env("MAILSTACK_AUTH", self.auth)
            .env("MAILSTACK_IDP_PORT", self.idp.to_string())
            .env("MAILSTACK_OAUTH_CLIENTS", format!("{}:{}:ops@cli.test:3600", OAUTH_CLIENT, OAUTH_SECRET))
            .env("MAILSTACK_USERS", USERS.iter().map(|u| format!("{u}:{PASSWORD}")).collect::<Vec<_>>().join(" "))
            .env("MAILSTACK_CATCHALL", CATCHALL.join(" "))
            .env("MAILSTACK_DOVECOT_EXTRA", &self.dovecot_extra)
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "mailstack {cmd} failed: {}{}\n{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr),
                std::fs::read_to_string(self.dir.join("log/dovecot.log")).unwrap_or_default(),
                std::fs::read_to_string(self.dir.join("log/idp.log")).unwrap_or_default()
            ),
            Err(e) => panic!("mailstack {cmd}: {e}"),
        }
    }

    pub fn stop_dovecot(&self) {
        self.script("stop-dovecot");
    }
    pub fn start_dovecot(&self) {
        self.script("start-dovecot");
    }
    pub fn stop_postfix(&self) {
        self.script("stop-postfix");
    }
    pub fn start_postfix(&self) {
        self.script("start-postfix");
    }
    pub fn stop_idp(&self) {
        self.script("stop-idp");
    }
    pub fn start_idp(&self) {
        self.script("start-idp");
    }

    /// Ask Postfix to retry its deferred mail now.
    pub fn flush_queue(&self) {
        let _ = Command::new("postqueue").args(["-c", &self.dir.join("postfix").to_string_lossy(), "-f"]).output();
    }

    /// The Maildir of a user's INBOX.
    pub fn maildir(&self, addr: &str) -> PathBuf {
        let (local, domain) = addr.split_once('@').unwrap_or((addr, ""));
        self.dir.join("mail").join(domain).join(local).join("Maildir")
    }

    /// Messages in a user's INBOX (new/ and cur/), as text.
    pub fn inbox(&self, addr: &str) -> Vec<String> {
        messages_in(&self.maildir(addr))
    }

    /// Messages in one of a user's folders (Maildir++ `.Name`).
    pub fn folder(&self, addr: &str, name: &str) -> Vec<String> {
        messages_in(&self.maildir(addr).join(format!(".{name}")))
    }

    /// Wait until the shared mailbox's INBOX is empty and `n` messages are
    /// in its processed folder (panics with both counts otherwise).
    pub fn assert_moved_to_processed(&self, n: usize) {
        let moved = || self.folder("ops@cli.test", "Procesados").len() == n && self.inbox("ops@cli.test").is_empty();
        assert!(
            wait_until(Duration::from_secs(10), moved),
            "INBOX {} / Procesados {}",
            self.inbox("ops@cli.test").len(),
            self.folder("ops@cli.test", "Procesados").len()
        );
    }

    /// Send through Postfix (SMTP); returns when Postfix answered 250.
    pub fn smtp_send(&self, from: &str, to: &str, raw: &[u8]) {
        if let Err(e) = send_mail(self.smtp, false, from, to, &[raw.to_vec()]) {
            panic!("SMTP send to {to}: {e}");
        }
    }

    /// Deliver straight into Dovecot over LMTP (Postfix not involved).
    pub fn lmtp_deliver(&self, from: &str, to: &str, raws: &[Vec<u8>]) {
        if let Err(e) = send_mail(self.lmtp, true, from, to, raws) {
            panic!("LMTP delivery to {to}: {e}");
        }
    }

    /// A buzon instance reading ops@cli.test over IMAP and sending over SMTP.
    /// `extra_mailbox` lines are added to `[mailbox]`.
    pub fn instance(&self, extra_mailbox: &str) -> Instance {
        self.instance_with(extra_mailbox, "")
    }

    /// IMAP in, `.eml` files out (the trial or "shadow" mode).
    pub fn shadow_instance(&self, extra_mailbox: &str) -> Instance {
        self.instance_with(extra_mailbox, "files")
    }

    /// `outbox` = "files" keeps the files sink; else SMTP with `outbox` lines added.
    pub fn instance_with(&self, extra_mailbox: &str, outbox: &str) -> Instance {
        let files = outbox == "files";
        let extra_outbox = if files { "" } else { outbox };
        let inst = Instance::new();
        let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
        let mailbox = format!(
            "[mailbox]\nkind = \"imap\"\nhost = \"127.0.0.1\"\n{}{}user = \"ops@cli.test\"\n{}folder = \"INBOX\"\n{}recheck_seconds = 60\n{extra_mailbox}\n",
            if extra_mailbox.contains("port =") { String::new() } else { format!("port = {}\n", self.imap) },
            if extra_mailbox.contains("tls =") { "" } else { "tls = \"none\"\n" },
            if extra_mailbox.contains("password") { "" } else { "password_env = \"BUZON_TEST_IMAP_PASSWORD\"\n" },
            if extra_mailbox.contains("processed_folder") { "" } else { "processed_folder = \"Procesados\"\n" },
        );
        let outbox = format!(
            "[outbox]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\n{}timeout_seconds = 10\n{}\n",
            if extra_outbox.contains("port =") { String::new() } else { format!("port = {}\n", self.smtp) },
            if extra_outbox.is_empty() { "tls = \"none\"" } else { extra_outbox }
        );
        let mut out = String::new();
        let mut skip = false;
        for line in config.lines() {
            if line.starts_with('[') {
                skip = line == "[mailbox]" || (line == "[outbox]" && !files);
                if line == "[mailbox]" {
                    out.push_str(&mailbox);
                }
                if line == "[outbox]" && !files {
                    out.push_str(&outbox);
                }
            }
            if !skip {
                out.push_str(line);
                out.push('\n');
            }
        }
        inst.write("config.toml", &out);
        inst
    }
}

/// The identity provider's client of the oauth2 stacks (acts for ops@cli.test).
pub const OAUTH_CLIENT: &str = "buzon-mesa";
pub const OAUTH_SECRET: &str = "secreto-de-prueba";

impl Stack {
    /// A call to the identity provider's test control (`/admin/...`).
    pub fn idp_admin(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        match http_post(self.idp, path, "application/json", &body.to_string()) {
            Ok((_, v)) => v,
            Err(e) => panic!("identity provider {path}: {e}"),
        }
    }

    /// The identity provider's counters (grants, refusals, introspections).
    pub fn idp_stats(&self) -> serde_json::Value {
        self.idp_admin("/admin/stats", serde_json::json!({}))
    }

    /// What the identity provider logged.
    pub fn idp_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log/idp.log")).unwrap_or_default()
    }

    /// The provider's token endpoint.
    pub fn token_url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.idp)
    }

    /// A buzon instance on an oauth2 stack: IMAP (XOAUTH2/OAUTHBEARER) in,
    /// SMTP submission (XOAUTH2) out, both with the `[… .oauth2]` table
    /// `table` (TOML lines; `token_url` and the client are added unless
    /// given). The client secret is in `secret.txt` of the instance.
    pub fn oauth_instance(&self, table: &str) -> Instance {
        let inst = Instance::new();
        inst.write("secret.txt", &format!("{OAUTH_SECRET}\n"));
        let mut t = String::new();
        if !table.contains("token_url") {
            t.push_str(&format!("token_url = \"{}\"\n", self.token_url()));
        }
        if !table.contains("client_id") {
            t.push_str(&format!("client_id = \"{OAUTH_CLIENT}\"\n"));
        }
        if !table.contains("client_secret") {
            t.push_str("client_secret_file = \"secret.txt\"\n");
        }
        if !table.contains("scope") {
            t.push_str("scope = \"https://outlook.office365.com/.default\"\n");
        }
        t.push_str(table);
        let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
        let mailbox = format!(
            "[mailbox]\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nuser = \"ops@cli.test\"\nauth = \"oauth2\"\nfolder = \"INBOX\"\nprocessed_folder = \"Procesados\"\nrecheck_seconds = 60\n\n[mailbox.oauth2]\n{t}\n",
            self.imap
        );
        let outbox = format!(
            "[outbox]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nuser = \"ops@cli.test\"\nauth = \"oauth2\"\ntimeout_seconds = 10\n\n[outbox.oauth2]\n{t}\n",
            self.submission
        );
        let mut out = String::new();
        let mut skip = false;
        for line in config.lines() {
            if line.starts_with('[') {
                skip = line == "[mailbox]" || line == "[outbox]";
                if line == "[mailbox]" {
                    out.push_str(&mailbox);
                }
                if line == "[outbox]" {
                    out.push_str(&outbox);
                }
            }
            if !skip {
                out.push_str(line);
                out.push('\n');
            }
        }
        inst.write("config.toml", &out);
        inst
    }
}

/// Node.js and scripts/oauth-idp's packages are there.
pub fn idp_installed() -> bool {
    have("node") && root().join("scripts/oauth-idp/node_modules/oauth2-mock-server").is_dir()
}

/// The identity provider alone (no mail servers), on a free loopback port,
/// knowing [`OAUTH_CLIENT`] (lifetime `lifetime` s); stopped when dropped.
pub struct Idp {
    _tmp: tempfile::TempDir,
    child: Child,
    pub port: u16,
}

impl Idp {
    pub fn start(test: &str, lifetime: u64) -> Option<Idp> {
        if !idp_installed() {
            let required = std::env::var("BUZON_REQUIRE_MAILSTACK").is_ok_and(|v| v == "1");
            assert!(!required, "{test}: BUZON_REQUIRE_MAILSTACK=1 but the OAuth2 identity provider is not installed");
            eprintln!("SKIP {test}: the OAuth2 identity provider is not installed (scripts/install-mailstack)");
            return None;
        }
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let clients = tmp.path().join("clients.json");
        let text = serde_json::json!({"clients": {OAUTH_CLIENT: {"secret": OAUTH_SECRET, "user": "ops@cli.test", "lifetime": lifetime}}});
        std::fs::write(&clients, text.to_string()).unwrap_or_else(|e| panic!("{e}"));
        let port = free_port();
        let log = std::fs::File::create(tmp.path().join("idp.log")).map(Stdio::from).unwrap_or_else(|_| Stdio::null());
        let child = Command::new("node")
            .arg(root().join("scripts/oauth-idp/idp.mjs"))
            .arg(port.to_string())
            .arg(&clients)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the identity provider: {e}"));
        let idp = Idp { _tmp: tmp, child, port };
        let up = wait_until(Duration::from_secs(10), || TcpStream::connect(("127.0.0.1", port)).is_ok());
        assert!(up, "the identity provider did not start:\n{}", idp.log());
        Some(idp)
    }

    pub fn token_url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    pub fn admin(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        match http_post(self.port, path, "application/json", &body.to_string()) {
            Ok((_, v)) => v,
            Err(e) => panic!("identity provider {path}: {e}"),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._tmp.path().join("idp.log")).unwrap_or_default()
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-shot HTTP/1.1 POST on loopback: (status, JSON body).
pub fn http_post(port: u16, path: &str, content_type: &str, body: &str) -> Result<(u16, serde_json::Value), String> {
    use std::io::Read;
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let status = raw.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null)))
}

/// One SMTP session on `port`: EHLO, then `AUTH <mechanism> <initial>`
/// (base64 of `initial`); the server's answer to the AUTH line.
pub fn smtp_auth(port: u16, mechanism: &str, initial: &str) -> Result<String, String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::new(stream);
    let mut read = || -> Result<String, String> {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err(format!("connection closed: {all}"));
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(all);
            }
        }
    };
    read()?;
    w.write_all(b"EHLO tests.local\r\n").map_err(|e| e.to_string())?;
    let ehlo = read()?;
    let b64 = base64_encode(initial.as_bytes());
    w.write_all(format!("AUTH {mechanism} {b64}\r\n").as_bytes()).map_err(|e| e.to_string())?;
    let answer = read()?;
    let _ = w.write_all(b"QUIT\r\n");
    Ok(format!("{ehlo}{answer}"))
}

/// Standard base64 (for SASL lines in tests).
pub fn base64_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/mailstack"))
            .args(["stop", &self.dir.to_string_lossy()])
            .stdin(Stdio::null())
            .output();
        let _ = &self.tmp;
    }
}

/// A running `buzon run` daemon (killed when dropped).
pub struct Daemon {
    pub child: Child,
}

impl Daemon {
    pub fn start(inst: &Instance) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_buzon"))
            .current_dir(inst.path())
            .arg("run")
            .env("BUZON_TEST_IMAP_PASSWORD", PASSWORD)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(inst.path().join("daemon.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn();
        match child {
            Ok(child) => Daemon { child },
            Err(e) => panic!("cannot start buzon: {e}"),
        }
    }

    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill").args([sig, &self.child.id().to_string()]).status();
    }

    /// Wait for the process to end, up to `within`; how long it took.
    pub fn wait_exit(&mut self, within: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `buzon status --json` of an instance (through the daemon's socket while it runs).
pub fn status(inst: &Instance) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_buzon"))
        .current_dir(inst.path())
        .args(["status", "--json"])
        .env("BUZON_TEST_IMAP_PASSWORD", PASSWORD)
        .output();
    match out {
        Ok(o) => serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}

/// Wait until `f` holds, polling every 20 ms, up to `within`.
pub fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// The value of a header in a raw mail (first occurrence, unfolded).
pub fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw).split("\n\n").next().unwrap_or(raw);
    let mut value: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with(' ') || line.starts_with('\t') {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            return value;
        }
        if let Some((n, v)) = line.split_once(':')
            && n.eq_ignore_ascii_case(name)
        {
            value = Some(v.trim().to_string());
        }
    }
    value
}

/// A minimal SMTP/LMTP client: one session, one recipient, many messages.
pub fn send_mail(port: u16, lmtp: bool, from: &str, to: &str, raws: &[Vec<u8>]) -> Result<(), String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::new(stream);
    let read = |r: &mut BufReader<TcpStream>| -> Result<String, String> {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            r.read_line(&mut line).map_err(|e| e.to_string())?;
            if line.is_empty() {
                return Err("connection closed".into());
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(all);
            }
        }
    };
    let expect = |r: &mut BufReader<TcpStream>, code: &str| -> Result<(), String> {
        let a = read(r)?;
        if a.starts_with(code) { Ok(()) } else { Err(format!("expected {code}, got {a}")) }
    };
    expect(&mut r, "220")?;
    let hello = if lmtp { "LHLO tests.local\r\n" } else { "EHLO tests.local\r\n" };
    w.write_all(hello.as_bytes()).map_err(|e| e.to_string())?;
    expect(&mut r, "250")?;
    for raw in raws {
        w.write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes()).map_err(|e| e.to_string())?;
        expect(&mut r, "250")?;
        w.write_all(format!("RCPT TO:<{to}>\r\n").as_bytes()).map_err(|e| e.to_string())?;
        expect(&mut r, "250")?;
        w.write_all(b"DATA\r\n").map_err(|e| e.to_string())?;
        expect(&mut r, "354")?;
        let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
        let mut data = String::new();
        for line in text.split('\n') {
            if line.starts_with('.') {
                data.push('.');
            }
            data.push_str(line);
            data.push_str("\r\n");
        }
        data.push_str(".\r\n");
        w.write_all(data.as_bytes()).map_err(|e| e.to_string())?;
        expect(&mut r, "250")?;
    }
    let _ = w.write_all(b"QUIT\r\n");
    Ok(())
}

/// Read a user's INBOX over IMAP (plain LOGIN on loopback): the raw answer
/// to `UID FETCH 1:* (BODY.PEEK[HEADER])`, i.e. every message's header.
pub fn imap_headers(port: u16, user: &str, password: &str) -> Result<String, String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut w = stream.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::new(stream);
    let mut until = |tag: &str| -> Result<String, String> {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err(format!("connection closed: {all}"));
            }
            all.push_str(&line);
            if tag.is_empty() || line.starts_with(&format!("{tag} ")) {
                if !line.contains(" OK") && !tag.is_empty() {
                    return Err(all);
                }
                return Ok(all);
            }
        }
    };
    until("")?; // greeting
    w.write_all(format!("a LOGIN \"{user}\" \"{password}\"\r\n").as_bytes()).map_err(|e| e.to_string())?;
    until("a")?;
    w.write_all(b"b SELECT INBOX\r\n").map_err(|e| e.to_string())?;
    until("b")?;
    w.write_all(b"c UID FETCH 1:* (BODY.PEEK[HEADER])\r\n").map_err(|e| e.to_string())?;
    let headers = until("c")?;
    let _ = w.write_all(b"d LOGOUT\r\n");
    Ok(headers)
}

/// The messages of a Maildir folder (new/ and cur/), as text.
fn messages_in(md: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for sub in ["new", "cur"] {
        for e in std::fs::read_dir(md.join(sub)).into_iter().flatten().flatten() {
            if let Ok(b) = std::fs::read(e.path()) {
                v.push(String::from_utf8_lossy(&b).into_owned());
            }
        }
    }
    v
}

/// What the daemon of an instance logged so far.
pub fn daemon_log(inst: &Instance) -> String {
    std::fs::read_to_string(inst.path().join("daemon.log")).unwrap_or_default()
}

/// Is the instance's IMAP source connected (per `buzon status`)?
pub fn connected(inst: &Instance) -> bool {
    status(inst)["source"]["state"] == "connected"
}

/// Messages processed so far (per `buzon status`).
pub fn processed(inst: &Instance) -> u64 {
    status(inst)["processed"].as_u64().unwrap_or(0)
}
