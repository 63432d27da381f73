//! Operating buzon: logs for pipes, files and journald (no escape codes,
//! JSON Lines with stable fields, priorities), `/metrics` and `/healthz`
//! from a running daemon (also against the real IMAP/SMTP stack), backups
//! taken while a thousand mails are processed, restores, verification, and
//! the refusal of a store written by a newer buzon.

mod support;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::generate;
use support::stack::{Daemon, Stack, daemon_log, free_port, wait_until};
use support::*;

const NOW: &str = "2026-12-01T10:00:00-05:00";

/// A documents mail as an Outlook user writes it: HTML only, a signature
/// and the company's disclaimer, a PDF invoice attached.
fn outlook_documents(i: usize) -> Vec<u8> {
    let pdf = generate::pdf(&["COMMERCIAL INVOICE", &format!("Invoice No. INV-2026-{i:05}"), "Incoterm FOB Ningbo"]);
    let b64 = generate::b64(&pdf);
    format!(
        "From: Patricia Huaman <phuaman@andestextil.test>\r\nTo: Operaciones CLI <ops@cli.test>\r\n\
Subject: RV: Documentos embarque {i} - factura comercial\r\nDate: Tue, 01 Dec 2026 09:12:00 -0500\r\n\
Message-ID: <AM0PR03MB{i:05}@andestextil.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"_004_\"\r\n\r\n--_004_\r\nContent-Type: text/html; charset=\"utf-8\"\r\n\r\n\
<html><body><p>Buenos d&iacute;as,</p><p>Adjunto la factura comercial del embarque {i}, el BL lo env&iacute;o ma&ntilde;ana.</p>\
<p>Saludos cordiales,<br>Patricia Huam&aacute;n<br>Jefa de Importaciones | Andes Textil S.A.C.</p>\
<p style=\"font-size:8pt;color:gray\">Este mensaje es confidencial y para uso exclusivo de su destinatario.</p></body></html>\r\n\
--_004_\r\nContent-Type: application/pdf; name=\"Factura {i}.pdf\"\r\nContent-Disposition: attachment; filename=\"Factura {i}.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--_004_--\r\n"
    )
    .into_bytes()
}

/// A reclamo as a client writes it in anger, with a typo, plain text.
fn reclamo_mail(i: usize) -> Vec<u8> {
    format!(
        "From: Luis Castro <lcastro@pacificfoods.test>\r\nTo: ops@cli.test\r\nSubject: URGENTE sobrestadia contenedor {i}\r\n\
Date: Tue, 01 Dec 2026 09:30:00 -0500\r\nMessage-ID: <reclamo{i}@pacificfoods.test>\r\n\r\n\
Sres.,\r\n\r\nEs inaceptable, nos estan cobrando sobreestadia por la demora en la numeracion de la DAM.\r\n\
Exijo una explicacion hoy mismo.\r\n\r\nLuis Castro\r\nPacific Foods S.A.C.\r\nEnviado desde mi iPhone\r\n"
    )
    .into_bytes()
}

fn append_config(inst: &Instance, extra: &str) {
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    inst.write("config.toml", &format!("{config}\n{extra}\n"));
}

fn run_once(inst: &Instance, env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_buzon"));
    c.current_dir(inst.path())
        .args(["--now", NOW, "run", "--once"])
        .env_remove("BUZON_LOG")
        .env_remove("BUZON_LOG_FORMAT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap_or_else(|e| panic!("run: {e}"))
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l:?}")))
        .collect()
}

#[test]
fn logs_written_to_a_pipe_carry_no_escape_codes() {
    let inst = Instance::new();
    inst.deliver("1.eml", &outlook_documents(1));
    inst.deliver("2.eml", &reclamo_mail(2));
    for level in ["info", "debug"] {
        let out = run_once(&inst, &[("BUZON_LOG", level)]);
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(!err.contains('\u{1b}'), "an escape code in piped logs (BUZON_LOG={level}):\n{err:?}");
        assert!(err.contains(" INFO "), "the level is still written: {err}");
    }
    // The first run processed the mails; a pipe never gets colours either way.
    let first = std::fs::read_dir(inst.path().join("var/outbox")).map(|r| r.count()).unwrap_or(0);
    assert!(first >= 2, "both mails were answered ({first} files)");
}

#[test]
fn json_logs_are_json_lines_with_stable_fields_and_the_summary_goes_to_stdout() {
    let inst = Instance::new();
    append_config(&inst, "[log]\nformat = \"json\"");
    inst.deliver("1.eml", &outlook_documents(7));
    inst.deliver("2.eml", &reclamo_mail(8));
    let out = run_once(&inst, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = json_lines(&stderr(&out));
    for l in &lines {
        for field in ["timestamp", "level", "target", "message"] {
            assert!(l.get(field).is_some_and(|v| v.is_string()), "{field} missing in {l}");
        }
    }
    let started = lines
        .iter()
        .find(|l| l["message"].as_str().is_some_and(|m| m.contains("started")))
        .unwrap_or_else(|| panic!("no start-up line"));
    assert_eq!(started["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(started["layout"], buzon::store::LAYOUT_VERSION);
    assert!(started["rules"].as_u64().is_some_and(|n| n > 10), "{started}");
    assert_eq!(started["clients"], 3);
    assert!(started["mailbox"].as_str().is_some_and(|m| m.starts_with("maildir ")), "{started}");
    assert!(started["outbox"].as_str().is_some_and(|m| m.starts_with("files ")), "{started}");
    assert!(started["config"].as_str().is_some_and(|c| c.ends_with("config.toml")), "{started}");

    let processed: Vec<&Value> =
        lines.iter().filter(|l| l.get("action").is_some() && l.get("message_id").is_some()).collect();
    assert_eq!(processed.len(), 2, "one line per mail: {lines:?}");
    let docs = processed
        .iter()
        .find(|l| l["message_id"] == "AM0PR03MB00007@andestextil.test")
        .unwrap_or_else(|| panic!("{processed:?}"));
    assert_eq!(docs["from"], "phuaman@andestextil.test");
    assert_eq!(docs["subject"], "RV: Documentos embarque 7 - factura comercial");
    assert!(docs["labels"].as_str().is_some_and(|l| l.contains("documentos")), "{docs}");
    assert!(docs["action"].as_str().is_some_and(|a| a.contains("opened OC-2026-")), "{docs}");
    let rec =
        processed.iter().find(|l| l["from"] == "lcastro@pacificfoods.test").unwrap_or_else(|| panic!("{processed:?}"));
    assert!(rec["labels"].as_str().is_some_and(|l| l.contains("reclamo")), "{rec}");

    let sent: Vec<&Value> = lines.iter().filter(|l| l.get("reply").is_some()).collect();
    assert!(!sent.is_empty(), "a line per mail sent");
    for s in &sent {
        assert!(s["to"].as_str().is_some_and(|t| t.contains('@')), "{s}");
        assert!(s["reply"].as_str().is_some_and(|r| r.starts_with("written ")), "{s}");
        assert!(s["message_id"].as_str().is_some_and(|m| m.starts_with("buzon.")), "{s}");
    }
    // The closing summary is the run's output, on stdout, as JSON.
    let summary = json_lines(&stdout(&out));
    assert_eq!(summary.len(), 1, "{}", stdout(&out));
    assert_eq!(summary[0]["processed"], 2);
    assert!(summary[0]["sent"].as_u64().is_some_and(|n| n >= 2), "{}", summary[0]);

    // A run that fails still writes only JSON to stderr; the last line says why.
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    inst.write("config.toml", &config.replace("path = \"var/maildir\"", "path = \"var/buzon-no-existe\""));
    let bad = run_once(&inst, &[]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let lines = json_lines(&stderr(&bad));
    let last = lines.last().unwrap_or_else(|| panic!("no error line"));
    assert_eq!(last["level"], "ERROR");
    assert!(last["message"].as_str().is_some_and(|m| m.contains("buzon-no-existe")), "{last}");
}

#[test]
fn under_journald_each_line_carries_its_priority_and_no_timestamp() {
    let inst = Instance::new();
    // A mail larger than max_message_bytes is put aside with a warning.
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    inst.write("config.toml", &config.replace("[store]\n", "[store]\nmax_message_bytes = 1500\n"));
    inst.deliver("1.eml", &reclamo_mail(3));
    inst.deliver("2.eml", &outlook_documents(4));
    let log = inst.path().join("journal.log");
    let file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{e}"));
    let st = rustix::fs::fstat(&file).unwrap_or_else(|e| panic!("{e}"));
    let status = Command::new(env!("CARGO_BIN_EXE_buzon"))
        .current_dir(inst.path())
        .args(["--now", NOW, "run", "--once"])
        .env("JOURNAL_STREAM", format!("{}:{}", st.st_dev, st.st_ino))
        .env_remove("BUZON_LOG")
        .stderr(Stdio::from(file))
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let prio =
        |l: &str| l.strip_prefix('<').and_then(|r| r.get(..2)).filter(|p| p.ends_with('>')).map(|p| p[..1].to_string());
    for l in text.lines() {
        let p = prio(l).unwrap_or_else(|| panic!("no <N> priority prefix: {l:?}"));
        assert!(!l[3..].starts_with("20"), "journald stamps the time itself: {l:?}");
        if l.contains(" INFO ") {
            assert_eq!(p, "6", "{l}");
        }
    }
    assert!(text.lines().any(|l| l.starts_with("<6> INFO") && l.contains("Processed 1.eml")), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("<4> WARN") && l.contains("Cannot process 2.eml")),
        "the oversize mail's warning is priority 4 (journalctl -p warning finds it):\n{text}"
    );
}

#[test]
fn buzon_log_debug_means_buzons_debug_lines_not_sleds() {
    let inst = Instance::new();
    inst.deliver("1.eml", &reclamo_mail(5));
    let out = run_once(&inst, &[("BUZON_LOG", "debug")]);
    let err = stderr(&out);
    assert!(err.contains("DEBUG buzon::daemon::pipeline: Batch committed"), "buzon's own debug lines: {err}");
    assert!(!err.lines().any(|l| l.contains(" sled")), "sled's lines stay out:\n{err}");
    // They are there to be had when asked for by name.
    let out = run_once(&inst, &[("BUZON_LOG", "sled=debug")]);
    assert!(stderr(&out).lines().any(|l| l.contains("DEBUG sled")), "{}", stderr(&out));
}

/// GET `path` on 127.0.0.1:`port`: status code and body.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((code, body))
}

/// The value of one sample (`name` or `name{labels}`) in a Prometheus text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

fn spawn_daemon(inst: &Instance) -> Child {
    Command::new(env!("CARGO_BIN_EXE_buzon"))
        .current_dir(inst.path())
        .args(["run"])
        .env("BUZON_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(inst.path().join("daemon.log")).map(Stdio::from).unwrap_or(Stdio::null()))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"))
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

fn log_of(inst: &Instance) -> String {
    std::fs::read_to_string(inst.path().join("daemon.log")).unwrap_or_default()
}

#[test]
fn metrics_move_when_mail_is_processed_and_healthz_says_ok() {
    let inst = Instance::new();
    let port = free_port();
    append_config(&inst, &format!("[http]\nlisten = \"127.0.0.1:{port}\""));
    let _d = Running(spawn_daemon(&inst));
    assert!(
        wait_until(Duration::from_secs(20), || get(port, "/healthz").is_some_and(|(c, _)| c == 200)),
        "{}",
        log_of(&inst)
    );
    let (code, before) = get(port, "/metrics").unwrap_or_default();
    assert_eq!(code, 200);
    assert_eq!(sample(&before, "buzon_source_up"), Some(1.0), "{before}");
    assert_eq!(sample(&before, "buzon_outbox_failed_total"), Some(0.0), "{before}");
    assert_eq!(sample(&before, "buzon_reclamos_open"), Some(0.0), "{before}");
    assert_eq!(sample(&before, r#"buzon_mails_processed_total{label="documentos"}"#), None);

    inst.deliver("1.eml", &outlook_documents(11));
    inst.deliver("2.eml", &reclamo_mail(12));
    inst.deliver("3.eml", &outlook_documents(13));
    let mut text = String::new();
    let done = wait_until(Duration::from_secs(30), || {
        text = get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
        sample(&text, "buzon_mail_processing_seconds_count") == Some(3.0)
            && sample(&text, "buzon_outbox_pending") == Some(0.0)
    });
    assert!(done, "{text}\n{}", log_of(&inst));
    assert_eq!(sample(&text, r#"buzon_mails_processed_total{label="documentos"}"#), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"buzon_mails_processed_total{label="reclamo"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, "buzon_reclamos_open"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "buzon_reclamos_overdue"), Some(0.0), "{text}");
    assert!(sample(&text, "buzon_outbox_sent_total").is_some_and(|n| n >= 3.0), "{text}");
    let last = sample(&text, "buzon_last_mail_timestamp_seconds").unwrap_or(0.0);
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    assert!((now - last).abs() < 120.0, "last mail {last}, now {now}");
    assert!(text.contains("# TYPE buzon_mail_processing_seconds histogram"), "{text}");
    assert!(sample(&text, r#"buzon_mail_processing_seconds_bucket{le="+Inf"}"#) == Some(3.0), "{text}");
    assert_eq!(get(port, "/healthz"), Some((200, "ok\n".to_string())));
    assert_eq!(get(port, "/nothing-here").map(|(c, _)| c), Some(404));
}

#[test]
fn a_taken_metrics_port_stops_start_up_with_the_address() {
    let inst = Instance::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = taken.local_addr().map(|a| a.port()).unwrap_or_default();
    append_config(&inst, &format!("[http]\nlisten = \"127.0.0.1:{port}\""));
    let mut child = spawn_daemon(&inst);
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "the daemon must not start without its metrics port");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(2));
    assert!(log_of(&inst).contains(&format!("127.0.0.1:{port}")), "{}", log_of(&inst));
    // A wrong value is refused at load, with its place.
    inst.write(
        "config.toml",
        &std::fs::read_to_string(inst.path().join("config.toml"))
            .unwrap_or_default()
            .replace(&format!("127.0.0.1:{port}"), "localhost"),
    );
    let out = inst.run(&["rules", "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("config.toml:") && stderr(&out).contains("[http] listen"), "{}", stderr(&out));
}

#[test]
fn healthz_turns_503_and_source_up_0_when_the_imap_login_is_refused() {
    let Some(stack) = Stack::start("healthz refused login") else { return };
    let inst = stack.instance("password = \"equivocada\"");
    let port = free_port();
    append_config(&inst, &format!("[http]\nlisten = \"127.0.0.1:{port}\""));
    let _d = Daemon::start(&inst);
    let mut last = None;
    let stopped = wait_until(Duration::from_secs(20), || {
        last = get(port, "/healthz");
        last.as_ref().is_some_and(|(c, _)| *c == 503)
    });
    assert!(stopped, "{last:?}\n{}", daemon_log(&inst));
    let (_, body) = last.unwrap_or_default();
    assert!(body.contains("the source is stopped"), "{body}");
    let metrics = get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
    assert_eq!(sample(&metrics, "buzon_source_up"), Some(0.0), "{metrics}");
    assert_eq!(sample(&metrics, "buzon_healthy"), Some(0.0), "{metrics}");
}

#[test]
fn each_mail_sent_over_smtp_is_logged_with_the_servers_reply_and_queue_id() {
    let Some(stack) = Stack::start("sent lines") else { return };
    let inst = stack.instance("");
    let port = free_port();
    append_config(&inst, &format!("[log]\nformat = \"json\"\n[http]\nlisten = \"127.0.0.1:{port}\""));
    let _d = Daemon::start(&inst);
    // Connected to the IMAP server: the source is up.
    let mut metrics = String::new();
    let up = wait_until(Duration::from_secs(20), || {
        metrics = get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
        sample(&metrics, "buzon_source_up") == Some(1.0)
    });
    assert!(up, "{metrics}\n{}", daemon_log(&inst));
    assert_eq!(get(port, "/healthz").map(|(c, _)| c), Some(200));
    let (_, raw) = generate::mail(0);
    stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", &raw);
    assert!(
        wait_until(Duration::from_secs(20), || daemon_log(&inst).contains("\"reply\":\"250")),
        "{}",
        daemon_log(&inst)
    );
    let log = daemon_log(&inst);
    let sent: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l.get("reply").is_some())
        .collect();
    let s = &sent[0];
    assert!(s["reply"].as_str().is_some_and(|r| r.contains("queued as")), "Postfix's 250 text: {s}");
    let queue_id = s["queue_id"].as_str().unwrap_or_default();
    assert!(queue_id.len() >= 6 && queue_id.chars().all(|c| c.is_ascii_alphanumeric()), "{s}");
    assert!(s["to"].as_str().is_some_and(|t| t.ends_with("@andestextil.test")), "{s}");
    // The queue id is the one Postfix logged for that mail.
    let plog = std::fs::read_to_string(stack.dir.join("log/postfix.log")).unwrap_or_default();
    assert!(plog.contains(queue_id), "queue id {queue_id} not in the Postfix log");
}

/// `status --json` when it answers (a daemon still starting up has no socket yet).
fn status_now(inst: &Instance) -> Option<Value> {
    let out = inst.run(&["status", "--json"]);
    serde_json::from_slice(&out.stdout).ok()
}

fn processed_now(inst: &Instance) -> u64 {
    status_now(inst).and_then(|s| s["processed"].as_u64()).unwrap_or(0)
}

/// The desk's records as JSON, with the run-dependent fields left out.
fn records(inst: &Instance) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let strip = |mut v: Vec<Value>| {
        v.sort_by_key(|r| r["id"].as_str().unwrap_or_default().to_string());
        v
    };
    (
        strip(inst.json(&["orders", "list", "--json"])),
        strip(inst.json(&["reclamos", "list", "--json"])),
        strip(inst.json(&["tasks", "list", "--json"])),
    )
}

#[test]
fn a_backup_taken_during_a_run_of_a_thousand_mails_restores_to_the_same_records() {
    let inst = Instance::new();
    let total = 1000;
    let mails: Vec<(String, Vec<u8>)> = (0..total).map(generate::mail).collect();
    let maildir = inst.maildir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_buzon"))
        .current_dir(inst.path())
        .args(["--now", NOW, "run"])
        .env("BUZON_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(inst.path().join("daemon.log")).map(Stdio::from).unwrap_or(Stdio::null()))
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut backed_up = None;
    // Mail keeps arriving while the backup is taken: half is there, the
    // daemon is at work on it, the backup is taken, the rest arrives.
    for (n, (name, bytes)) in mails.iter().enumerate() {
        maildir.deliver(name, bytes).unwrap_or_else(|e| panic!("{e}"));
        if n == total / 2 {
            assert!(wait_until(Duration::from_secs(60), || processed_now(&inst) >= 50), "{}", log_of(&inst));
            let started = Instant::now();
            let out = inst.run(&["backup", "noche.tar.gz", "--json"]);
            assert!(out.status.success(), "backup: {}\n{}", stderr(&out), log_of(&inst));
            backed_up = Some((json_lines(&stdout(&out)).remove(0), started.elapsed()));
        }
    }
    let (outcome, took) = backed_up.unwrap_or_else(|| panic!("no backup"));
    let in_backup = outcome["processed"].as_u64().unwrap_or(0);
    assert!(in_backup > 0 && in_backup < total as u64, "the backup was taken mid-run: {outcome}");
    assert!(log_of(&inst).contains("Store dumped for a backup"), "the committer dumped the store");
    eprintln!("backup of {in_backup} processed mails in {} ms: {outcome}", took.as_millis());
    let done = wait_until(Duration::from_secs(240), || {
        status_now(&inst).is_some_and(|s| s["processed"].as_u64() == Some(total as u64) && s["outbox"]["pending"] == 0)
    });
    assert!(done, "{}\n{}", inst.status_json(), log_of(&inst));
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();

    let verify = inst.run(&["backup", "--verify", "noche.tar.gz"]);
    assert!(verify.status.success(), "{}", stderr(&verify));

    // The restored instance gets the same mailbox again: what the backup
    // holds is recognised, the rest is processed, and the desk's records end
    // the same as the original's.
    let restored = Instance { dir: tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")) };
    let to = restored.path().display().to_string();
    let out = inst.run(&["restore", "noche.tar.gz", "--to", &to]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = restored.json(&["orders", "list", "--json"]).len();
    assert!(before > 0, "the restored store holds the orders of the backup");
    let rmaildir = restored.maildir();
    for (name, bytes) in &mails {
        rmaildir.deliver(name, bytes).unwrap_or_else(|e| panic!("{e}"));
    }
    let out = restored.run(&["--now", NOW, "run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("Done: {} processed, {in_backup} already done", total as u64 - in_backup)), "{err}");
    let (o1, r1, t1) = records(&inst);
    let (o2, r2, t2) = records(&restored);
    assert_eq!(o1.len(), o2.len());
    assert_eq!(o1, o2, "orders");
    assert_eq!(r1, r2, "reclamos");
    assert_eq!(t1, t2, "tasks");
    assert!(!r1.is_empty() && !t1.is_empty(), "the run made reclamos and tasks");
    // The documents' files came back too.
    let docs = o2.iter().flat_map(|o| o["documents"].as_array().cloned().unwrap_or_default()).count();
    assert!(docs > 0);
    let files = support::files(&restored.path().join("var/attachments")).len();
    assert!(files > 0, "attachments restored");
}

#[test]
fn restore_never_writes_over_a_store_and_verify_finds_a_damaged_archive() {
    let inst = Instance::new();
    inst.deliver("1.eml", &outlook_documents(21));
    inst.deliver("2.eml", &reclamo_mail(22));
    assert!(run_once(&inst, &[]).status.success());
    let out = inst.run(&["backup", "b.tar.gz"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 processed mails, 1 orders, 1 reclamos"), "{}", stdout(&out));
    // The same name again: a backup never replaces a file.
    let again = inst.run(&["backup", "b.tar.gz"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("never replaces a file"), "{}", stderr(&again));
    // Not over the live instance.
    let onto = inst.run(&["restore", "b.tar.gz", "--to", "."]);
    assert_eq!(onto.status.code(), Some(2));
    assert!(stderr(&onto).contains("already holds a store"), "{}", stderr(&onto));
    assert_eq!(inst.json(&["orders", "list", "--json"]).len(), 1, "the live store is untouched");
    // Damage in the middle of the archive is found. (Three bytes, not one: a
    // single flipped bit can land in deflate's unused padding bits and
    // change nothing at all, which is not damage.)
    let mut bytes = std::fs::read(inst.path().join("b.tar.gz")).unwrap_or_default();
    for at in [bytes.len() / 3, bytes.len() / 2, 2 * bytes.len() / 3] {
        bytes[at] ^= 0x20;
    }
    std::fs::write(inst.path().join("roto.tar.gz"), &bytes).unwrap_or_else(|e| panic!("{e}"));
    let v = inst.run(&["backup", "--verify", "roto.tar.gz"]);
    assert_eq!(v.status.code(), Some(2), "{}", stdout(&v));
    let ok = inst.run(&["backup", "--verify", "b.tar.gz", "--json"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let o = json_lines(&stdout(&ok)).remove(0);
    assert_eq!(
        (o["orders"].as_u64(), o["reclamos"].as_u64(), o["attachments"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{o}"
    );
    // And a restored folder is an instance of its own: status reads it.
    let r = inst.run(&["restore", "b.tar.gz", "--to", "copia"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let s = inst.run(&["--config", "copia/config.toml", "orders", "list", "--json"]);
    assert!(stdout(&s).contains("andestextil"), "{}", stderr(&s));
}

#[test]
fn a_store_from_a_newer_buzon_is_refused_naming_the_backup_to_restore() {
    let inst = Instance::new();
    assert!(run_once(&inst, &[]).status.success());
    std::fs::create_dir_all(inst.path().join("var/backups")).unwrap_or_else(|e| panic!("{e}"));
    let b = inst.run(&["backup", "var/backups/pre-upgrade-0.1.0.tar.gz"]);
    assert!(b.status.success(), "{}", stderr(&b));
    {
        let db = sled::open(inst.path().join("var/store")).unwrap_or_else(|e| panic!("{e}"));
        let meta = db.open_tree("meta").unwrap_or_else(|e| panic!("{e}"));
        meta.insert("layout_version", &99u64.to_be_bytes()).unwrap_or_else(|e| panic!("{e}"));
        db.flush().unwrap_or_else(|e| panic!("{e}"));
    }
    let out = run_once(&inst, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("layout version 99"), "{err}");
    assert!(err.contains("var/backups/pre-upgrade-0.1.0.tar.gz"), "names the backup: {err}");
    let v = inst.run(&["--version"]);
    assert_eq!(
        stdout(&v).trim(),
        format!("buzon {} (store layout {})", env!("CARGO_PKG_VERSION"), buzon::store::LAYOUT_VERSION)
    );
}
