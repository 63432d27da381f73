//! End to end against a real Postfix and Dovecot on loopback
//! (scripts/mailstack): mail in over SMTP → Dovecot → buzon over IMAP IDLE
//! → replies over SMTP → the recipients' mailboxes, read back from disk.

mod support;

use std::time::Duration;

use support::generate;
use support::stack::{Daemon, Stack, connected, daemon_log, header, status, wait_until};

#[test]
fn a_client_mail_opens_an_order_and_the_threaded_acknowledgement_arrives_and_a_reclamo_reaches_the_supervisor() {
    let Some(stack) = Stack::start("e2e order and reclamo") else { return };
    let inst = stack.instance("");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "not connected:\n{}", daemon_log(&inst));

    // Documents from a client, through Postfix.
    let (_, raw) = generate::mail(0);
    stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", &raw);
    assert!(
        wait_until(Duration::from_secs(15), || !stack.inbox("andes@andestextil.test").is_empty()),
        "no acknowledgement arrived:\n{}",
        daemon_log(&inst)
    );
    // Read back over IMAP, as the client's mail program would.
    let over_imap = support::stack::imap_headers(stack.imap, "andes@andestextil.test", support::stack::PASSWORD)
        .unwrap_or_else(|e| panic!("IMAP read-back: {e}"));
    assert!(over_imap.contains("In-Reply-To: <gen0.0@andestextil.test>"), "{over_imap}");
    assert!(over_imap.contains("Subject:") && over_imap.contains("OC-"), "{over_imap}");
    let ack = stack.inbox("andes@andestextil.test").remove(0);
    assert_eq!(header(&ack, "In-Reply-To").as_deref(), Some("<gen0.0@andestextil.test>"), "{ack}");
    assert!(header(&ack, "References").is_some_and(|r| r.contains("<gen0.0@andestextil.test>")), "{ack}");
    assert!(header(&ack, "To").is_some_and(|t| t.contains("usuario0@andestextil.test")), "{ack}");
    assert!(header(&ack, "Auto-Submitted").is_some_and(|v| v.contains("auto-replied")), "{ack}");
    let subject = header(&ack, "Subject").unwrap_or_default();
    assert!(subject.contains("OC-"), "the acknowledgement names the order: {subject}");
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["client"], "andestextil");

    // The processed mail left INBOX for the processed folder.
    stack.assert_moved_to_processed(1);

    // A reclamo: the escalation reaches the supervisor's mailbox.
    let (_, raw) = generate::mail(7);
    stack.smtp_send("usuario7@pacificfoods.test", "ops@cli.test", &raw);
    assert!(
        wait_until(Duration::from_secs(15), || !stack.inbox("supervision@cli.test").is_empty()),
        "no escalation:\n{}",
        daemon_log(&inst)
    );
    let esc = stack.inbox("supervision@cli.test").remove(0);
    assert!(header(&esc, "Subject").is_some_and(|s| s.contains("R-")), "{esc}");
    // The executive of the client gets it too; the client gets an acknowledgement.
    assert!(wait_until(Duration::from_secs(10), || !stack.inbox("jrojas@cli.test").is_empty()));
    assert!(wait_until(Duration::from_secs(10), || !stack.inbox("pacific@pacificfoods.test").is_empty()));

    let s = status(&inst);
    assert_eq!(s["processed"], 2, "{s}");
    assert_eq!(s["outbox"]["pending"], 0, "{s}");
    assert_eq!(s["source"]["idle"], true, "{s}");
}

#[test]
fn an_auto_responder_that_answers_everything_gets_no_loop() {
    let Some(stack) = Stack::start("e2e auto-responder") else { return };
    let inst = stack.instance("");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "not connected:\n{}", daemon_log(&inst));

    // A badly behaved out-of-office on the client's side: it answers every
    // mail it gets, with no Auto-Submitted header at all.
    let (_, raw) = generate::mail(0);
    stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", &raw);
    let mut answered = std::collections::BTreeSet::new();
    let start = std::time::Instant::now();
    let mut responder_sent = 0;
    while start.elapsed() < Duration::from_secs(15) {
        for m in stack.inbox("andes@andestextil.test") {
            let id = header(&m, "Message-ID").unwrap_or_default();
            if answered.insert(id.clone()) {
                let subject = header(&m, "Subject").unwrap_or_default();
                let reply = format!(
                    "From: Usuario 0 <usuario0@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Respuesta automática: {subject}\r\nMessage-ID: <ooo{responder_sent}@andestextil.test>\r\nIn-Reply-To: {id}\r\nDate: Tue, 01 Dec 2026 09:05:00 -0500\r\n\r\nEstoy fuera de la oficina hasta el lunes. Saludos.\r\n"
                );
                stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", reply.as_bytes());
                responder_sent += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let received = stack.inbox("andes@andestextil.test").len();
    assert_eq!(received, 1, "the client got only the acknowledgement, not answers to its auto-replies");
    assert_eq!(responder_sent, 1);
    let s = status(&inst);
    assert_eq!(s["processed"], 2, "the mail and the one auto-reply: {s}");
    assert_eq!(s["outbox"]["sent"], 1, "{s}");
}

#[test]
fn a_bounce_marks_the_outbox_entry_failed_and_a_refused_recipient_does_not_stop_the_others() {
    let Some(stack) = Stack::start("e2e bounce") else { return };
    let inst = stack.instance("");
    // The executive of pacificfoods is an address Postfix refuses at RCPT.
    let clients = std::fs::read_to_string(inst.path().join("clients.toml")).unwrap_or_default();
    inst.write("clients.toml", &clients.replace("jrojas@cli.test", "noexiste@cli.test"));
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "not connected:\n{}", daemon_log(&inst));

    // 1. Postfix takes the acknowledgement to rebota@ (250), Dovecot refuses
    //    it, and a real delivery report comes back to the shared mailbox.
    let (_, raw) = generate::mail(1); // documents from pacificfoods
    let raw = String::from_utf8_lossy(&raw).replace("usuario1@pacificfoods.test", "rebota@pacificfoods.test");
    stack.smtp_send("rebota@pacificfoods.test", "ops@cli.test", raw.as_bytes());
    let bounced = wait_until(Duration::from_secs(30), || {
        inst.json(&["outbox", "list", "--json"]).iter().any(|m| m["state"] == "fallido")
    });
    assert!(bounced, "no bounce recorded:\n{}", daemon_log(&inst));
    let tasks = inst.json(&["tasks", "list", "--json"]);
    assert!(tasks.iter().any(|t| t["kind"] == "correo_rebotado"), "{tasks:?}");

    // 2. A reclamo escalated to supervision@ and the refused noexiste@.
    let (_, raw) = generate::mail(7);
    stack.smtp_send("usuario7@pacificfoods.test", "ops@cli.test", &raw);
    assert!(
        wait_until(Duration::from_secs(15), || !stack.inbox("supervision@cli.test").is_empty()),
        "the supervisor did not get the escalation:\n{}",
        daemon_log(&inst)
    );
    let refused = wait_until(Duration::from_secs(10), || {
        inst.json(&["tasks", "list", "--json"]).iter().any(|t| t["kind"] == "correo_rechazado")
    });
    assert!(refused, "no task for the refused recipient: {:?}", inst.json(&["tasks", "list", "--json"]));
}
