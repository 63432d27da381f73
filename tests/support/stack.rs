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
    dovecot_extra: String,
}

fn have(cmd: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("no free port: {e}"),
    }
}

impl Stack {
    /// Start a stack, or `None` (skip) when the servers are not installed here.
    pub fn start(test: &str) -> Option<Stack> {
        Stack::start_with(test, "")
    }

    /// A stack whose Dovecot gets `dovecot_extra` appended to its config.
    pub fn start_with(test: &str, dovecot_extra: &str) -> Option<Stack> {
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
            .env("MAILSTACK_USERS", USERS.iter().map(|u| format!("{u}:{PASSWORD}")).collect::<Vec<_>>().join(" "))
            .env("MAILSTACK_CATCHALL", CATCHALL.join(" "))
            .env("MAILSTACK_DOVECOT_EXTRA", &self.dovecot_extra)
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "mailstack {cmd} failed: {}{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr),
                std::fs::read_to_string(self.dir.join("log/dovecot.log")).unwrap_or_default()
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
