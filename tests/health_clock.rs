//! The source's health timestamps (since, last error, refused reload) come
//! from buzon's one clock: a daemon started with `--now` shows them at that
//! instant in `buzon status --json`, not at the machine's time.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::Instance;
use support::stack::{PASSWORD, Stack, daemon_log, status, wait_until};

/// The fixed clock, as `status` prints it (the desk's zone is America/Lima).
const NOW: &str = "2026-12-01T10:00:00-05:00";

/// `buzon --now NOW run`, logging to daemon.log; killed on drop.
struct FixedDaemon(Child);

impl FixedDaemon {
    fn start(inst: &Instance) -> FixedDaemon {
        let child = Command::new(env!("CARGO_BIN_EXE_buzon"))
            .current_dir(inst.path())
            .args(["--now", NOW, "run"])
            .env("BUZON_TEST_IMAP_PASSWORD", PASSWORD)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(inst.path().join("daemon.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start buzon: {e}"));
        FixedDaemon(child)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.0.id().to_string()]).status().is_ok_and(|s| s.success());
        assert!(ok, "kill {sig}");
    }
}

impl Drop for FixedDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The instance's config with its `[mailbox]` table replaced by `mailbox`.
fn with_mailbox(inst: &Instance, mailbox: &str) {
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    let mut out = String::new();
    let mut skip = false;
    for line in config.lines() {
        if line.starts_with('[') {
            skip = line == "[mailbox]";
            if skip {
                out.push_str(mailbox);
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

#[test]
fn a_watched_maildir_and_a_refused_reload_are_stamped_by_the_fixed_clock() {
    let inst = Instance::new();
    let _d = FixedDaemon::start(&inst);
    assert!(
        wait_until(Duration::from_secs(30), || status(&inst)["source"]["state"] == "watching"),
        "{}\n{}",
        status(&inst),
        daemon_log(&inst)
    );
    let s = status(&inst);
    assert_eq!(s["source"]["since"], NOW, "{s}");
    assert!(s["last_error"].is_null(), "{s}");

    // A broken rule file: the reload is refused and shows as the last error, at the clock's time.
    inst.write("rules/99-broken.toml", "[[rule]]\nid = \"x\"\nlabels = [\"nope\"]\nwhen = { subject = \"(\" }\n");
    _d.signal("-HUP");
    assert!(
        wait_until(Duration::from_secs(15), || {
            status(&inst)["last_error"]["error"].as_str().is_some_and(|e| e.starts_with("reload refused"))
        }),
        "{}\n{}",
        status(&inst),
        daemon_log(&inst)
    );
    let s = status(&inst);
    assert_eq!(s["last_error"]["at"], NOW, "{s}");
}

#[test]
fn an_imap_server_that_is_not_there_is_a_last_error_at_the_fixed_clock() {
    let inst = Instance::new();
    // A port nobody listens on: connection refused, retried with backoff.
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("bind: {e}"));
    with_mailbox(
        &inst,
        &format!(
            "[mailbox]\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nuser = \"ops@cli.test\"\npassword_env = \"BUZON_TEST_IMAP_PASSWORD\"\nfolder = \"INBOX\"\nprocessed_folder = \"Procesados\"\n"
        ),
    );
    let _d = FixedDaemon::start(&inst);
    assert!(
        wait_until(Duration::from_secs(30), || status(&inst)["last_error"]["error"].as_str().is_some()),
        "{}\n{}",
        status(&inst),
        daemon_log(&inst)
    );
    let s = status(&inst);
    assert_eq!(s["source"]["state"], "disconnected, reconnecting", "{s}");
    assert!(s["last_error"]["error"].as_str().is_some_and(|e| e.starts_with("source: IMAP")), "{s}");
    assert_eq!(s["last_error"]["at"], NOW, "{s}");
}

#[test]
fn a_refused_login_on_the_real_stack_is_stamped_by_the_fixed_clock() {
    let Some(stack) = Stack::start("health clock") else { return };
    let inst = stack.instance("password = \"equivocada\"");
    let _d = FixedDaemon::start(&inst);
    assert!(
        wait_until(Duration::from_secs(20), || status(&inst)["source"]["state"] == "STOPPED (authentication refused)"),
        "{}\n{}",
        status(&inst),
        daemon_log(&inst)
    );
    let s = status(&inst);
    assert!(s["last_error"]["error"].as_str().is_some_and(|e| e.contains("refused the login")), "{s}");
    assert_eq!(s["last_error"]["at"], NOW, "{s}");
    assert_eq!(s["source"]["since"], NOW, "{s}");
}
