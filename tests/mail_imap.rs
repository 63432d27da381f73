//! The IMAP source and SMTP sink against real servers (scripts/mailstack):
//! TLS with a private CA, a refused login, the first start on a mailbox that
//! already holds mail, a UIDVALIDITY change, quarantine, Sent copies, and
//! the trial ("shadow") mode.

mod support;

use std::time::Duration;

use sha2::Digest;
use support::generate;
use support::stack::{Daemon, Stack, connected, daemon_log, header, processed, status, wait_until};

#[test]
fn implicit_tls_imap_and_starttls_smtp_with_a_private_ca_and_a_copy_in_sent() {
    let Some(stack) = Stack::start("tls") else { return };
    let ca = stack.dir.join("tls/ca.pem");
    let inst = stack.instance_with(
        &format!(
            "port = {}\ntls = \"implicit\"\nca_file = \"{}\"\nsent_folder = \"Enviados\"",
            stack.imaps,
            ca.display()
        ),
        &format!("tls = \"starttls\"\nca_file = \"{}\"", ca.display()),
    );
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    let (_, raw) = generate::mail(0);
    stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", &raw);
    assert!(
        wait_until(Duration::from_secs(15), || stack.inbox("andes@andestextil.test").len() == 1),
        "{}",
        daemon_log(&inst)
    );
    // Staff see what was sent in the Sent folder of the shared mailbox.
    assert!(wait_until(Duration::from_secs(10), || stack.folder("ops@cli.test", "Enviados").len() == 1));
    let copy = stack.folder("ops@cli.test", "Enviados").remove(0);
    let ack = stack.inbox("andes@andestextil.test").remove(0);
    assert_eq!(header(&copy, "Message-ID"), header(&ack, "Message-ID"));
    // Postfix saw the mail over TLS.
    let plog = std::fs::read_to_string(stack.dir.join("log/postfix.log")).unwrap_or_default();
    assert!(plog.contains("TLS connection established from localhost"), "no STARTTLS in the Postfix log");
}

#[test]
fn starttls_imap_and_implicit_tls_smtp_with_a_private_ca() {
    let Some(stack) = Stack::start("tls 2") else { return };
    let ca = stack.dir.join("tls/ca.pem");
    let inst = stack.instance_with(
        &format!("tls = \"starttls\"\nca_file = \"{}\"", ca.display()),
        &format!("port = {}\ntls = \"implicit\"\nca_file = \"{}\"", stack.smtps, ca.display()),
    );
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    let (_, raw) = generate::mail(0);
    stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", &raw);
    assert!(
        wait_until(Duration::from_secs(15), || stack.inbox("andes@andestextil.test").len() == 1),
        "{}",
        daemon_log(&inst)
    );
    let dlog = std::fs::read_to_string(stack.dir.join("log/dovecot.log")).unwrap_or_default();
    assert!(dlog.contains("TLS"), "the IMAP session was encrypted");
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_and_retried_not_fatal() {
    let Some(stack) = Stack::start("tls unknown ca") else { return };
    // No ca_file: the public roots do not know the test CA.
    let inst = stack.instance(&format!("port = {}\ntls = \"implicit\"", stack.imaps));
    let _d = Daemon::start(&inst);
    let seen = wait_until(Duration::from_secs(15), || {
        let s = status(&inst);
        s["last_error"]["error"].as_str().is_some_and(|e| e.to_lowercase().contains("certificate"))
    });
    assert!(seen, "{}\n{}", status(&inst), daemon_log(&inst));
    let s = status(&inst);
    assert_eq!(s["source"]["state"], "disconnected, reconnecting", "{s}");
}

#[test]
fn a_refused_login_stops_the_source_loudly_and_shows_in_status() {
    let Some(stack) = Stack::start("auth failure") else { return };
    let inst = stack.instance("password = \"equivocada\"");
    let _d = Daemon::start(&inst);
    assert!(
        wait_until(Duration::from_secs(15), || status(&inst)["source"]["state"] == "STOPPED (authentication refused)"),
        "{}\n{}",
        status(&inst),
        daemon_log(&inst)
    );
    let s = status(&inst);
    assert!(s["last_error"]["error"].as_str().is_some_and(|e| e.contains("refused the login")), "{s}");
    assert!(daemon_log(&inst).contains("IMAP source stopped"), "logged loudly");
    // It does not hammer the server: one attempt only.
    std::thread::sleep(Duration::from_secs(2));
    let dlog = std::fs::read_to_string(stack.dir.join("log/dovecot.log")).unwrap_or_default();
    let attempts = dlog.matches("auth failed").count();
    assert!(attempts <= 1, "{attempts} login attempts");
}

#[test]
fn the_first_start_takes_only_new_mail_unless_told_to_import_silently() {
    let Some(stack) = Stack::start("first start") else { return };
    // Two mails were there before buzon ever ran.
    let old: Vec<Vec<u8>> = [0usize, 2].iter().map(|i| generate::mail(*i).1).collect();
    stack.lmtp_deliver("remitente@andestextil.test", "ops@cli.test", &old);

    let inst = stack.instance("");
    {
        let _d = Daemon::start(&inst);
        assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
        let (_, new) = generate::mail(4);
        stack.lmtp_deliver("remitente@andestextil.test", "ops@cli.test", &[new]);
        assert!(wait_until(Duration::from_secs(15), || processed(&inst) == 1), "{}", daemon_log(&inst));
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(processed(&inst), 1, "the old mail was left alone");
        assert_eq!(stack.inbox("ops@cli.test").len(), 2, "the old mail stays in INBOX");
        assert!(wait_until(Duration::from_secs(10), || stack.inbox("andes@andestextil.test").len() == 1));
    }

    // Another desk on the same mailbox, told to import what is there: the
    // three mails are recorded (orders), and nobody gets a mail.
    let inst = stack.shadow_instance("import_existing = true\nprocessed_folder = \"Importados\"");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || processed(&inst) == 2), "{}", daemon_log(&inst));
    assert_eq!(inst.json(&["orders", "list", "--json"]).len(), 2);
    std::thread::sleep(Duration::from_millis(500));
    assert!(inst.outbox_files().is_empty(), "an import sends nothing");
    assert_eq!(stack.folder("ops@cli.test", "Importados").len(), 2);
}

#[test]
fn shadow_mode_leaves_mail_in_place_and_a_uidvalidity_change_rescans_without_a_rerun() {
    let Some(stack) = Stack::start("shadow + uidvalidity") else { return };
    let inst = stack.shadow_instance("keep_in_folder = true");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    let mails: Vec<Vec<u8>> = [0usize, 2].iter().map(|i| generate::mail(*i).1).collect();
    stack.lmtp_deliver("remitente@andestextil.test", "ops@cli.test", &mails);
    assert!(wait_until(Duration::from_secs(15), || processed(&inst) == 2), "{}", daemon_log(&inst));
    assert!(wait_until(Duration::from_secs(5), || inst.outbox_files().len() == 2));
    assert_eq!(stack.inbox("ops@cli.test").len(), 2, "shadow mode moves nothing");

    // The server loses its UID list: a new UIDVALIDITY.
    stack.stop_dovecot();
    let md = stack.maildir("ops@cli.test");
    for e in std::fs::read_dir(&md).map(|r| r.flatten().collect::<Vec<_>>()).unwrap_or_default() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("dovecot-uid") || name.starts_with("dovecot.index") {
            let _ = std::fs::remove_file(e.path());
        }
    }
    std::thread::sleep(Duration::from_millis(1100)); // UIDVALIDITY is a time in seconds
    stack.start_dovecot();
    assert!(
        wait_until(Duration::from_secs(30), || daemon_log(&inst).contains("UIDVALIDITY")),
        "no UIDVALIDITY change seen:\n{}",
        daemon_log(&inst)
    );
    let (_, third) = generate::mail(4);
    stack.lmtp_deliver("remitente@andestextil.test", "ops@cli.test", &[third]);
    assert!(wait_until(Duration::from_secs(20), || processed(&inst) == 3), "{}", daemon_log(&inst));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(processed(&inst), 3, "the rescan ran nothing twice");
    assert_eq!(inst.outbox_files().len(), 3, "one acknowledgement each");
}

#[test]
fn a_message_that_cannot_be_processed_goes_to_quarantine_with_its_reason() {
    let Some(stack) = Stack::start("quarantine") else { return };
    let inst = stack.instance("");
    // Fault injection through the file system: where the documents of
    // mail 0 would be kept, there is a file, so keeping them fails.
    let factura = generate::pdf(&["COMMERCIAL INVOICE", "Invoice No. INV-2026-00000", "Incoterm CFR Callao"]);
    let bl = generate::pdf(&[
        "BILL OF LADING",
        &format!("Container {}", generate::container(0)),
        "Port of loading: Shanghai",
    ]);
    for doc in [factura, bl] {
        let sha = hex::encode(sha2::Sha256::digest(&doc));
        inst.write(&format!("var/attachments/{}", &sha[..2]), "not a folder");
    }
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    let (_, raw) = generate::mail(0);
    stack.lmtp_deliver("usuario0@andestextil.test", "ops@cli.test", &[raw]);
    let (_, fine) = generate::mail(5); // a status request: no documents
    stack.lmtp_deliver("usuario5@pacificfoods.test", "ops@cli.test", &[fine]);
    assert!(
        wait_until(Duration::from_secs(15), || stack.folder("ops@cli.test", "Cuarentena").len() == 1),
        "{}",
        daemon_log(&inst)
    );
    let s = status(&inst);
    assert_eq!(s["quarantined"], 1, "{s}");
    assert!(wait_until(Duration::from_secs(10), || processed(&inst) == 1), "the next mail went on");
    // The move to the processed folder follows the commit (after the flush).
    assert!(
        wait_until(Duration::from_secs(5), || stack.inbox("ops@cli.test").is_empty()),
        "nothing left unseen in INBOX"
    );
}

#[test]
fn a_server_without_idle_and_move_is_polled_and_gets_copy_and_expunge() {
    // Dovecot announcing neither IDLE nor MOVE, as some servers do.
    let caps = "imap_capability = IMAP4rev1 SASL-IR LITERAL+ ID ENABLE UIDPLUS NAMESPACE UNSELECT CHILDREN";
    let Some(stack) = Stack::start_with("no idle, no move", caps) else { return };
    let inst = stack.instance("poll_ms = 200");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    assert_eq!(status(&inst)["source"]["idle"], false);
    let (_, raw) = generate::mail(0);
    stack.smtp_send("usuario0@andestextil.test", "ops@cli.test", &raw);
    assert!(
        wait_until(Duration::from_secs(10), || stack.inbox("andes@andestextil.test").len() == 1),
        "{}",
        daemon_log(&inst)
    );
    // Moved without MOVE: copied, flagged deleted and expunged by UID.
    stack.assert_moved_to_processed(1);
}
