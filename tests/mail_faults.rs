//! Faults against a real Postfix and Dovecot (scripts/mailstack): the IMAP
//! server restarted under IDLE, the SMTP server away for a while, SIGKILL
//! during a burst, SIGTERM while busy.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::generate;
use support::stack::{Daemon, Stack, connected, daemon_log, header, processed, status, wait_until};

/// Mails to the clients' mailboxes, by Message-ID, with how often each arrived.
fn client_mail(stack: &Stack) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for who in ["andes@andestextil.test", "pacific@pacificfoods.test"] {
        for m in stack.inbox(who) {
            *seen.entry(header(&m, "Message-ID").unwrap_or_default()).or_insert(0) += 1;
        }
    }
    seen
}

fn burst(n: usize) -> (Vec<Vec<u8>>, usize) {
    let mails: Vec<Vec<u8>> = (0..n).map(|i| generate::mail(i).1).collect();
    let replies = (0..n).map(generate::replies_to_client).sum();
    (mails, replies)
}

#[test]
fn dovecot_restarted_under_idle_buzon_reconnects_and_takes_what_arrived_meanwhile() {
    let Some(stack) = Stack::start("dovecot restart") else { return };
    let inst = stack.instance("");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    std::thread::sleep(Duration::from_millis(300)); // in IDLE now
    stack.stop_dovecot();
    assert!(wait_until(Duration::from_secs(10), || !connected(&inst)), "the loss was not noticed");
    // Mail arrives while Dovecot is down: Postfix keeps it in its queue.
    for i in [0usize, 2, 4] {
        let (_, raw) = generate::mail(i);
        stack.smtp_send(&format!("usuario{i}@andestextil.test"), "ops@cli.test", &raw);
    }
    std::thread::sleep(Duration::from_secs(2));
    stack.start_dovecot();
    stack.flush_queue();
    assert!(wait_until(Duration::from_secs(30), || connected(&inst)), "no reconnection:\n{}", daemon_log(&inst));
    assert!(
        wait_until(Duration::from_secs(40), || client_mail(&stack).len() == 3),
        "acknowledgements after the restart: {} of 3\n{}",
        client_mail(&stack).len(),
        daemon_log(&inst)
    );
    assert_eq!(processed(&inst), 3);
    assert!(daemon_log(&inst).contains("reconnecting"), "the reconnection is logged");
}

#[test]
fn postfix_away_for_a_while_replies_wait_in_the_outbox_and_all_arrive_after() {
    let Some(stack) = Stack::start("postfix outage") else { return };
    let inst = stack.instance("");
    let _d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    stack.stop_postfix();
    // Mail still reaches the shared mailbox (straight into Dovecot).
    let (mails, replies) = burst(10);
    stack.lmtp_deliver("remitente@andestextil.test", "ops@cli.test", &mails);
    assert!(wait_until(Duration::from_secs(20), || processed(&inst) == 10), "{}", daemon_log(&inst));
    // The outage (shortened from the hour of the promise): everything waits.
    std::thread::sleep(Duration::from_secs(8));
    let s = status(&inst);
    assert!(s["outbox"]["pending"].as_u64().unwrap_or(0) >= replies as u64, "{s}");
    assert_eq!(s["outbox"]["failed"], 0, "a refused connection is not a failure: {s}");
    assert!(s["last_error"]["error"].as_str().is_some_and(|e| e.contains("outbox")), "{s}");
    stack.start_postfix();
    assert!(
        wait_until(Duration::from_secs(60), || client_mail(&stack).len() == replies),
        "after the outage {} of {replies} replies arrived\n{}",
        client_mail(&stack).len(),
        daemon_log(&inst)
    );
    assert!(wait_until(Duration::from_secs(20), || status(&inst)["outbox"]["pending"] == 0));
}

#[test]
fn sigkill_during_a_burst_of_500_each_mail_processed_once_each_reply_sent_once() {
    let Some(stack) = Stack::start("sigkill burst") else { return };
    let inst = stack.instance("");
    {
        // First start on the empty mailbox: the cursor starts here.
        let _d = Daemon::start(&inst);
        assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    }
    let (mails, replies) = burst(500);
    let feeder = {
        let mails = mails.clone();
        let port = stack.lmtp;
        std::thread::spawn(move || {
            for chunk in mails.chunks(50) {
                support::stack::send_mail(port, true, "remitente@andestextil.test", "ops@cli.test", chunk)
                    .map_err(|e| e.to_string())?;
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok::<(), String>(())
        })
    };
    let mut kills = 0;
    for round in 0..6u64 {
        let d = Daemon::start(&inst);
        std::thread::sleep(Duration::from_millis(400 + 173 * round));
        d.signal("-KILL");
        drop(d);
        kills += 1;
    }
    assert!(feeder.join().is_ok_and(|r| r.is_ok()), "delivery failed");
    let _d = Daemon::start(&inst);
    assert!(
        wait_until(Duration::from_secs(120), || processed(&inst) == 500
            && status(&inst)["outbox"]["pending"] == 0
            && client_mail(&stack).len() >= replies),
        "processed {} / client mail {} of {replies}\n{}",
        processed(&inst),
        client_mail(&stack).len(),
        daemon_log(&inst)
    );
    std::thread::sleep(Duration::from_secs(2));
    let seen = client_mail(&stack);
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!("{kills} kills; {} distinct replies, {duplicates} duplicate deliveries (same Message-ID)", seen.len());
    assert_eq!(seen.len(), replies, "each reply once (by Message-ID)");
    assert_eq!(processed(&inst), 500);
    assert!(wait_until(Duration::from_secs(10), || stack.folder("ops@cli.test", "Procesados").len() == 500));
    assert!(stack.inbox("ops@cli.test").is_empty());
}

#[test]
fn sigterm_while_busy_exits_within_10_s_and_loses_nothing() {
    let Some(stack) = Stack::start("sigterm busy") else { return };
    let inst = stack.instance("");
    let mut d = Daemon::start(&inst);
    assert!(wait_until(Duration::from_secs(20), || connected(&inst)), "{}", daemon_log(&inst));
    let (mails, replies) = burst(300);
    stack.lmtp_deliver("remitente@andestextil.test", "ops@cli.test", &mails);
    assert!(wait_until(Duration::from_secs(30), || processed(&inst) >= 10), "{}", daemon_log(&inst));
    let t = Instant::now();
    d.signal("-TERM");
    let took = d.wait_exit(Duration::from_secs(10));
    assert!(took.is_some(), "still running 10 s after SIGTERM");
    eprintln!("stopped {} ms after SIGTERM, {} processed", t.elapsed().as_millis(), processed(&inst));
    drop(d);
    let _d = Daemon::start(&inst);
    assert!(
        wait_until(Duration::from_secs(90), || processed(&inst) == 300
            && status(&inst)["outbox"]["pending"] == 0
            && client_mail(&stack).len() >= replies),
        "processed {} / client mail {} of {replies}",
        processed(&inst),
        client_mail(&stack).len()
    );
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(client_mail(&stack).len(), replies);
}
