//! The daemon as an assistant meets it: read commands while it runs, SIGHUP
//! reload that refuses a bad file, SIGTERM stop within 10 seconds with
//! nothing lost.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::generate;
use support::*;

fn spawn(inst: &Instance) -> Child {
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

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().is_ok_and(|s| s.success());
    assert!(ok, "kill {sig}");
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn read_commands_work_while_the_daemon_runs_and_sighup_keeps_good_rules() {
    if skip_without_shared("read_commands_work_while_the_daemon_runs_and_sighup_keeps_good_rules") {
        return;
    }
    let inst = Instance::new();
    let mut child = spawn(&inst);
    inst.deliver(
        "1.eml",
        &std::fs::read(shared().join("corpus/scenarios/01-docs-invoice-packing.eml")).unwrap_or_default(),
    );
    wait_for("the acknowledgement", || !inst.outbox_files().is_empty());
    // The store is locked by the daemon: these go through its socket.
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["client"], "andestextil");
    let status = inst.json(&["status", "--json"]);
    assert_eq!(status[0]["daemon"], "running");
    let show = inst.run(&["orders", "show", "OC-2026-000001"]);
    assert!(stdout(&show).contains("Factura comercial"), "{}", stdout(&show));
    let missing = inst.run(&["orders", "show", "OC-2026-999999"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("no order OC-2026-999999"), "{}", stderr(&missing));

    // A broken rule file is refused on SIGHUP; the previous rules stay in force.
    inst.write("rules/99-broken.toml", "[[rule]]\nid = \"x\"\nlabels = [\"nope\"]\nwhen = { subject = \"(\" }\n");
    signal(&child, "-HUP");
    std::thread::sleep(Duration::from_millis(300));
    inst.deliver("2.eml", b"From: Patricia <phuaman@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Reclamo\r\nMessage-ID: <hup1@andestextil.test>\r\n\r\nEs inaceptable la demora.\r\n");
    wait_for("the reclamo", || inst.json(&["reclamos", "list", "--json"]).len() == 1);
    let log = std::fs::read_to_string(inst.path().join("daemon.log")).unwrap_or_default();
    assert!(log.contains("Reload refused") && log.contains("99-broken.toml:3:11: unknown label `nope`"), "{log}");
    assert!(child.try_wait().ok().flatten().is_none(), "the daemon must survive a bad reload");
    signal(&child, "-TERM");
    let _ = child.wait();
}

#[test]
fn sigterm_while_busy_stops_within_ten_seconds_and_loses_nothing() {
    let inst = Instance::new();
    let maildir = inst.maildir();
    let total = 400;
    for i in 0..total {
        let (name, bytes) = generate::mail(i);
        if let Err(e) = maildir.deliver(&name, &bytes) {
            panic!("{e}");
        }
    }
    let mut child = spawn(&inst);
    wait_for("some work", || files(&inst.path().join("var/maildir/cur")).len() > 20);
    let asked = Instant::now();
    signal(&child, "-TERM");
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break s;
        }
        assert!(asked.elapsed() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = asked.elapsed();
    assert!(status.success(), "exit status {status:?}");
    let done = files(&inst.path().join("var/maildir/cur")).len();
    assert!(done < total, "SIGTERM came too late to test anything ({done} done)");
    let out = inst.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(files(&inst.path().join("var/maildir/cur")).len(), total, "nothing lost");
    assert_eq!(inst.status_json()["processed"], total, "nothing twice");
    eprintln!("stopped {took:?} after SIGTERM with {done}/{total} done");
}

/// The running daemon sleeps until the next due instant and wakes for it on
/// its own (no mail arrives): a digest slot set to the next minute is sent
/// within seconds of it, once per assistant.
#[test]
fn the_running_daemon_wakes_on_its_own_for_the_next_due_instant() {
    use chrono::{Timelike, Utc};
    let cal = buzon::calendar::BusinessCalendar { work_days: vec![1, 2, 3, 4, 5, 6, 7], ..Default::default() };
    let mut slot = Utc::now() + chrono::Duration::seconds(60);
    if slot.second() > 50 {
        slot += chrono::Duration::seconds(15); // leave the daemon time to start
    }
    let slot = slot.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(slot);
    let local = slot.with_timezone(&cal.tz);
    if !cal.is_business_day(cal.local_date(slot)) {
        eprintln!("SKIP: {} is a holiday in Peru: no digest slot today", cal.local_date(slot));
        return;
    }
    let inst = Instance::new();
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    let config = config.replace(
        "work_days = [1, 2, 3, 4, 5]",
        &format!(
            "work_days = [1, 2, 3, 4, 5, 6, 7]\ndigest_times = [\"{}\"]\ndigest_when_empty = true",
            local.format("%H:%M")
        ),
    );
    inst.write("config.toml", &config);
    let mut child = spawn(&inst);
    // The assistants' digests (the supervisors' of 08:00 may go out late at the start).
    let digests = || inst.outbox_files().into_iter().filter(|(name, _)| name.starts_with("digest-")).count();
    let start = Instant::now();
    while digests() == 0 {
        assert!(start.elapsed() < Duration::from_secs(100), "no digest by {slot} (now {})", Utc::now());
        std::thread::sleep(Duration::from_millis(20));
    }
    let late = Utc::now() - slot;
    assert!(late >= chrono::Duration::zero(), "a digest before its slot {slot}");
    // The outbox worker writes the file right after the commit (the old
    // once-a-second scheduler pass could be up to 1 s late).
    assert!(late < chrono::Duration::seconds(1), "woke {late} after the slot {slot}");
    std::thread::sleep(Duration::from_secs(2));
    let assistants =
        inst.json(&["outbox", "list", "--json"]).iter().filter(|m| m["kind"] == "resumen_asistente").count();
    assert_eq!(digests(), assistants, "one digest per assistant, once");
    assert!(assistants >= 2, "{assistants} digests");
    signal(&child, "-TERM");
    let _ = child.wait();
    eprintln!("digest slot {slot}: written {late} after it");
}
