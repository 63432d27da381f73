//! Crash test: 2,000 mails, the daemon killed with SIGKILL at random moments
//! at least 20 times while it works, restarted each time; then every mail
//! must have been processed exactly once: no order twice, no acknowledgement
//! twice, none missing.

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::generate;
use support::*;

const MAILS: usize = 2000;
const NOW: &str = "2026-12-01T10:00:00-05:00";

fn pending(inst: &Instance) -> usize {
    std::fs::read_dir(inst.path().join("var/maildir/new")).map(|r| r.count()).unwrap_or(0)
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_repeats_nothing() {
    let inst = Instance::new();
    let maildir = inst.maildir();
    for i in 0..MAILS {
        let (name, bytes) = generate::mail(i);
        if let Err(e) = maildir.deliver(&name, &bytes) {
            panic!("{e}");
        }
    }
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut rand = move |lo: u64, hi: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        lo + seed % (hi - lo)
    };
    let mut kills_while_working = 0;
    let started = Instant::now();
    while pending(&inst) > 0 && started.elapsed() < Duration::from_secs(600) {
        let before = pending(&inst);
        let mut child = Command::new(env!("CARGO_BIN_EXE_buzon"))
            .current_dir(inst.path())
            .args(["--now", NOW, "run"])
            .env("BUZON_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(inst.path().join("life.log")).map(Stdio::from).unwrap_or(Stdio::null()))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn: {e}"));
        // Short first lives (start-up and first batches), longer later.
        let ms = if kills_while_working < 30 { rand(30, 250) } else { rand(300, 1500) };
        std::thread::sleep(Duration::from_millis(ms));
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(inst.path().join("life.log")).unwrap_or_default();
            panic!("the daemon stopped by itself ({status}) after {kills_while_working} kills:\n{log}");
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if pending(&inst) > 0 && pending(&inst) < before + 1 {
            kills_while_working += 1;
        }
    }
    assert!(
        kills_while_working >= 20,
        "only {kills_while_working} kills landed while work remained; make the lives shorter"
    );
    // A last clean run finishes what is left (the outbox included).
    let out = inst.run(&["--now", NOW, "run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));

    assert_eq!(pending(&inst), 0);
    assert_eq!(files(&inst.path().join("var/maildir/cur")).len(), MAILS, "every mail moved to cur/ once");
    let status = inst.status_json();
    assert_eq!(status["processed"], MAILS, "every mail has exactly one processed mark");

    // No order twice: one order per documents mail, each with its own container.
    let orders = inst.json(&["orders", "list", "--json"]);
    let docs_mails: Vec<usize> = (0..MAILS).filter(|i| generate::kind(*i) == "documentos").collect();
    assert_eq!(orders.len(), docs_mails.len(), "one order per documents mail");
    let mut by_container: BTreeMap<String, usize> = BTreeMap::new();
    for o in &orders {
        for c in o["references"]["container"].as_array().into_iter().flatten() {
            *by_container.entry(c.as_str().unwrap_or_default().to_string()).or_default() += 1;
        }
        assert_eq!(o["documents"].as_array().map(Vec::len), Some(2), "{o}");
    }
    assert!(by_container.values().all(|n| *n == 1), "a container in two orders");

    // No acknowledgement twice, none missing.
    let outbox = inst.json(&["outbox", "list", "--json"]);
    let expected_client_replies: usize = (0..MAILS).map(generate::replies_to_client).sum();
    let client_replies: Vec<&serde_json::Value> =
        outbox.iter().filter(|m| m["kind"] != "reclamo_escalamiento" && m["kind"] != "aviso_pago").collect();
    assert_eq!(client_replies.len(), expected_client_replies);
    let mut per_recipient: BTreeMap<String, usize> = BTreeMap::new();
    for m in &client_replies {
        *per_recipient.entry(m["to"].to_string()).or_default() += 1;
    }
    assert!(per_recipient.values().all(|n| *n == 1), "a client got two automatic replies");
    assert!(outbox.iter().all(|m| m["state"] == "enviado"), "everything queued was sent");
    let sent_files = inst.outbox_files();
    assert_eq!(sent_files.len(), outbox.len(), "one .eml per outgoing mail");
    let mut in_reply_to: BTreeMap<String, usize> = BTreeMap::new();
    for (_, t) in &sent_files {
        if let Some(irt) = t.lines().find_map(|l| l.strip_prefix("In-Reply-To: ")) {
            *in_reply_to.entry(irt.to_string()).or_default() += 1;
        }
    }
    assert_eq!(in_reply_to.len(), expected_client_replies);
    assert!(in_reply_to.values().all(|n| *n == 1));
    let reclamos = inst.json(&["reclamos", "list", "--json"]);
    assert_eq!(
        reclamos.len(),
        (0..MAILS).filter(|i| generate::kind(*i) == "reclamo").count(),
        "one reclamo per complaint"
    );
    eprintln!("{kills_while_working} kills while working, {:?} in all", started.elapsed());
}
