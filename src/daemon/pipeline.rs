//! The pipeline's two threads. The preparer parses, classifies and keeps the
//! documents of the next messages (pure or idempotent work, ahead of the
//! store). The committer is the store's single writer: it decides and
//! commits each message in its own transaction, flushes once per batch
//! (group commit), only then acknowledges the batch at its source, and runs
//! the scheduler's due work between batches (serial: numbering never races).

use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::Report;
use crate::app::AppCell;
use crate::backoff::{Backoff, Retry};
use crate::clock::Clock;
use crate::mailbox::{Acker, Body, Meta, SourceEvent};
use crate::pipeline::{Handled, Prepared, commit, prepare};

/// A full or failing disk: try the same mail again, from 1 s up to every minute.
const DISK_RETRY: Backoff =
    Backoff { first: std::time::Duration::from_secs(1), max: std::time::Duration::from_secs(60) };
use crate::store::{Quarantined, Store};

/// Messages per group commit.
const BATCH: usize = 64;

/// Source events the preparer takes at once (at most).
const TAKE: usize = 32;

/// How long the committer waits for more prepared mail before it flushes a
/// batch (a mail's latency grows by at most this much).
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);

/// What the preparer hands the committer, in source order.
pub enum Prepped {
    /// A message, and how long preparing it took (for the processing-time histogram).
    Message(Meta, Box<Result<Prepared, String>>, std::time::Duration),
    CaughtUp,
    /// The source stopped for good: why, and what to do.
    Fatal {
        why: String,
        fix: String,
    },
    /// A machine fault (full disk…) on this message, in a run that stops at
    /// the first one (`run --once`): nothing of it was committed.
    Transient(Meta, String),
}

/// A message that could not be prepared: for good (quarantine), or for now.
enum Failure {
    Permanent(String),
    Transient(String),
}

/// Read, parse, classify and keep the documents of one message.
fn prepare_one(app: &crate::app::App, m: &crate::mailbox::RawMessage) -> Result<Option<Prepared>, Failure> {
    let raw = match &m.body {
        Body::Bytes(b) => std::borrow::Cow::Borrowed(b.as_slice()),
        Body::File(path) => match std::fs::read(path) {
            Ok(b) => std::borrow::Cow::Owned(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None), // taken away meanwhile
            Err(e) if crate::pipeline::is_transient(&e) => {
                return Err(Failure::Transient(format!("cannot read it: {e}")));
            }
            Err(e) => return Err(Failure::Permanent(format!("unreadable: {e}"))),
        },
    };
    injected_abort(&raw);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| prepare(app, &raw))) {
        Err(_) => Err(Failure::Permanent("preparing panicked".to_string())),
        Ok(Err(e)) if e.is_transient() => Err(Failure::Transient(e.to_string())),
        Ok(Err(e)) => Err(Failure::Permanent(e.to_string())),
        Ok(Ok(mut p)) => {
            p.silent = m.meta.silent;
            Ok(Some(p))
        }
    }
}

/// A fault for the tests (tests/crash.rs): with `BUZON_FAULT_ABORT_ON=TEXT`
/// the process aborts while reading a mail that holds TEXT, as it would on
/// running out of memory under a service's cap — which no real component
/// produces on demand.
fn injected_abort(raw: &[u8]) {
    static MARK: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();
    let mark = MARK.get_or_init(|| {
        std::env::var_os("BUZON_FAULT_ABORT_ON").map(|v| v.into_encoded_bytes()).filter(|v| !v.is_empty())
    });
    if let Some(m) = mark
        && raw.windows(m.len()).any(|w| w == m.as_slice())
    {
        std::process::abort();
    }
}

/// The preparer's inputs.
pub struct Preparer {
    pub app: AppCell,
    pub token: CancellationToken,
    pub rt: tokio::runtime::Handle,
    /// `run --once`: a machine fault is handed on and the run stops.
    pub once: bool,
    pub health: crate::mailbox::SharedHealth,
    pub clock: Clock,
    /// What the committer has handled (careful reading waits for it).
    pub progress: super::poison::Progress,
}

impl Preparer {
    /// Source events → prepared messages. Ends when the source ends, the
    /// committer is gone, or `token` is cancelled. A machine fault (full
    /// disk…) is retried with backoff (`once`: handed on, and the run
    /// stops): the mail stays at its source, nothing behind it overtakes it.
    /// After an unclean stop the next mails are read one at a time, each
    /// alone in flight (see `poison`).
    pub fn run(&self, mut events: mpsc::Receiver<SourceEvent>, out: mpsc::Sender<Prepped>) {
        let (rt, token) = (&self.rt, &self.token);
        let mut watch = super::poison::Watch::open(&self.app.current().config.store.path);
        let mut sent: u64 = 0;
        // Events are taken in runs of what the source has ready: one wake of
        // this thread and of the source's task per run, not one per mail.
        let mut ready: std::collections::VecDeque<SourceEvent> = std::collections::VecDeque::new();
        loop {
            if ready.is_empty() {
                let mut run = Vec::with_capacity(TAKE);
                let got = rt.block_on(async {
                    tokio::select! {
                        _ = token.cancelled() => 0,
                        n = events.recv_many(&mut run, TAKE) => n,
                    }
                });
                if got == 0 {
                    return;
                }
                ready.extend(run);
            } else if token.is_cancelled() {
                return;
            }
            let ev = ready.pop_front();
            let prepped = match ev {
                None => return,
                Some(SourceEvent::CaughtUp) => {
                    watch.caught_up();
                    Prepped::CaughtUp
                }
                Some(SourceEvent::Fatal { why, fix }) => Prepped::Fatal { why, fix },
                Some(SourceEvent::Message(m)) => {
                    if let Some(why) = watch.verdict(&m.meta.name) {
                        error!("{}: {why}", m.meta.name);
                        sent += 1;
                        if out
                            .blocking_send(Prepped::Message(m.meta, Box::new(Err(why)), std::time::Duration::ZERO))
                            .is_err()
                        {
                            return;
                        }
                        continue;
                    }
                    // Careful: this mail is read only when everything before it is handled.
                    if watch.careful() && !self.progress.wait_for(sent, || token.is_cancelled() || out.is_closed()) {
                        return;
                    }
                    match self.prepare(&m, &watch) {
                        Some(Some(p)) => {
                            watch.end();
                            if matches!(p, Prepped::Message(..)) {
                                sent += 1;
                            }
                            p
                        }
                        Some(None) => {
                            watch.end();
                            continue; // taken away meanwhile: nothing to hand on
                        }
                        None => return,
                    }
                }
            };
            if out.blocking_send(prepped).is_err() {
                return;
            }
        }
    }

    /// Prepare one message, retrying machine faults; `None`: stopped.
    fn prepare(&self, m: &crate::mailbox::RawMessage, watch: &super::poison::Watch) -> Option<Option<Prepped>> {
        let mut retry = Retry::new(DISK_RETRY);
        loop {
            let started = std::time::Instant::now();
            watch.begin(&m.meta.name);
            match prepare_one(&self.app.current(), m) {
                Ok(Some(p)) => return Some(Some(Prepped::Message(m.meta.clone(), Box::new(Ok(p)), started.elapsed()))),
                Ok(None) => return Some(None),
                Err(Failure::Permanent(why)) => {
                    return Some(Some(Prepped::Message(m.meta.clone(), Box::new(Err(why)), started.elapsed())));
                }
                Err(Failure::Transient(why)) if self.once => {
                    return Some(Some(Prepped::Transient(m.meta.clone(), why)));
                }
                Err(Failure::Transient(why)) => {
                    let wait = retry.next_delay();
                    error!(
                        "Cannot process {} for now: {why}. It stays where it is; trying again in {} s",
                        m.meta.name,
                        wait.as_secs()
                    );
                    crate::mailbox::set_health(&self.health, |h| {
                        h.last_error = Some(format!("{}: {why}", m.meta.name));
                        h.last_error_at = Some(self.clock.now());
                    });
                    let stopped = self.rt.block_on(async {
                        tokio::select! {
                            _ = self.token.cancelled() => true,
                            _ = tokio::time::sleep(wait) => false,
                        }
                    });
                    if stopped {
                        return None;
                    }
                }
            }
        }
    }
}

/// What wakes the committer besides prepared mail.
pub struct Bells {
    /// Rung after each commit: the outbox has something to send.
    pub outbox: Arc<Notify>,
    /// Rung after each commit and each scheduler pass: the next due instant may have moved.
    pub scheduler: Arc<Notify>,
    /// When the scheduler last ran (the runner asks what is due after it).
    pub last_run: Arc<Mutex<Option<DateTime<Utc>>>>,
}

/// The committer's inputs.
pub struct Committer {
    pub app: AppCell,
    pub store: Store,
    pub clock: Clock,
    /// Drain the source and stop (`run --once`).
    pub once: bool,
    pub token: CancellationToken,
    pub acker: Arc<dyn Acker>,
    pub bells: Bells,
    /// Told how many mails each batch handled (careful reading waits for it).
    pub progress: super::poison::Progress,
}

enum Next {
    Input(Prepped),
    Tick,
    Stop,
    /// The source stopped for good a while ago: exit so a service manager acts.
    GiveUp,
    /// A backup asks for the store (crate::backup).
    Dump(crate::backup::DumpJob),
}

impl Committer {
    /// Commit until the source is drained (`once`), cancelled, or a store
    /// error (fatal: nothing of the failing message was committed).
    pub fn run(
        &self,
        mut input: mpsc::Receiver<Prepped>,
        mut ticks: mpsc::Receiver<()>,
        mut dumps: mpsc::Receiver<crate::backup::DumpJob>,
        rt: &tokio::runtime::Handle,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        // The first turn always runs: what fell due while buzon was down runs late, once.
        self.run_due()?;
        let mut held: Option<Prepped> = None;
        // When the source stopped for good, and why.
        let mut stopped: Option<(tokio::time::Instant, String)> = None;
        loop {
            let give_up = stopped.as_ref().map(|(at, _)| *at);
            let next = match held.take() {
                Some(p) => Next::Input(p),
                None => rt.block_on(async {
                    tokio::select! {
                        biased;
                        _ = self.token.cancelled() => Next::Stop,
                        _ = tokio::time::sleep_until(give_up.unwrap_or_else(tokio::time::Instant::now)), if give_up.is_some() => Next::GiveUp,
                        p = input.recv() => p.map(Next::Input).unwrap_or(Next::Stop),
                        t = ticks.recv() => t.map(|()| Next::Tick).unwrap_or(Next::Stop),
                        Some(job) = dumps.recv() => Next::Dump(job),
                    }
                }),
            };
            match next {
                Next::Stop => return Ok(()),
                Next::GiveUp => {
                    let why = stopped.map(|(_, w)| w).unwrap_or_default();
                    anyhow::bail!(
                        "the mailbox source stopped: {why}; exiting so that the service manager restarts buzon or alerts"
                    );
                }
                Next::Tick => self.run_due()?,
                // Between batches: no commit interleaves with the dump.
                Next::Dump(job) => job.run(&self.store),
                Next::Input(Prepped::CaughtUp) => {
                    if self.once {
                        // What the mail just processed made due now.
                        return self.run_due();
                    }
                }
                Next::Input(Prepped::Transient(meta, why)) => {
                    anyhow::bail!(
                        "cannot process {} for now: {why}. Nothing of it was committed and it stays where it is; run again once the fault is fixed",
                        meta.name
                    );
                }
                Next::Input(Prepped::Fatal { why, fix }) => {
                    error!("The source stopped: {why}");
                    if self.once {
                        anyhow::bail!("the mailbox could not be read: {why}. {fix}");
                    }
                    let app = self.app.current();
                    let (source, exit_after) = match &app.config.mailbox {
                        crate::config::Mailbox::Imap(m) => (m.place(), m.exit_after_fatal),
                        crate::config::Mailbox::Maildir { path, .. } => (path.display().to_string(), None),
                    };
                    let due = crate::desk::Due::SourceStopped { source, why: why.clone(), fix };
                    let decision = crate::desk::decide_due(&app.desk(), &self.store, &due, self.clock.now())
                        .map_err(crate::store::StoreError::from)?;
                    self.store.commit(None, &decision.effects)?;
                    self.store.flush()?;
                    self.bells.outbox.notify_one();
                    if let Some(after) = exit_after {
                        error!("buzon exits in {} s unless stopped before (exit_after_fatal_seconds)", after.as_secs());
                        stopped = Some((tokio::time::Instant::now() + after, why));
                    }
                }
                Next::Input(Prepped::Message(meta, prepared, took)) => {
                    let mut batch = vec![(meta, *prepared, took)];
                    // Group commit: take what is ready, and linger a moment for
                    // what the preparer is finishing — one flush (fsyncs) for
                    // many mails instead of one per mail when reading is the
                    // slower side. Never longer than LINGER after the first.
                    let deadline = tokio::time::Instant::now() + LINGER;
                    while batch.len() < BATCH && held.is_none() {
                        let next = match input.try_recv() {
                            Ok(p) => Some(p),
                            Err(mpsc::error::TryRecvError::Disconnected) => None,
                            Err(mpsc::error::TryRecvError::Empty) => rt.block_on(async {
                                tokio::time::timeout_at(deadline, input.recv()).await.ok().flatten()
                            }),
                        };
                        match next {
                            Some(Prepped::Message(m, p, took)) => batch.push((m, *p, took)),
                            Some(other) => held = Some(other),
                            None => break,
                        }
                    }
                    let n = batch.len() as u64;
                    self.commit_batch(batch, report)?;
                    self.progress.handled(n);
                    if self.token.is_cancelled() {
                        info!("Shutdown requested: stopped between messages");
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Run the scheduler's due work (serially with the mail).
    fn run_due(&self) -> anyhow::Result<()> {
        let app = self.app.current();
        let now = self.clock.now();
        if crate::scheduler::run_due(&app, &self.store, now)? > 0 {
            self.bells.outbox.notify_one();
        }
        if let Ok(mut l) = self.bells.last_run.lock() {
            *l = Some(now);
        }
        self.bells.scheduler.notify_one();
        Ok(())
    }

    /// Decide and commit each message of a batch, make the batch durable,
    /// then acknowledge it (and put aside what cannot be processed).
    fn commit_batch(
        &self,
        batch: Vec<(Meta, Result<Prepared, String>, std::time::Duration)>,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let app = self.app.current();
        let mut acks = Vec::new();
        let mut aside: Vec<(Meta, String)> = Vec::new();
        let mut written = Vec::new();
        for (meta, prepared, took) in batch {
            if self.token.is_cancelled() {
                break; // the rest stays at its source, untouched
            }
            let p = match prepared {
                Err(why) => {
                    warn!("Cannot process {}: {why}", meta.name);
                    aside.push((meta, why));
                    continue;
                }
                Ok(p) => p,
            };
            written.extend(p.written.iter().cloned());
            let now = self.clock.now();
            let started = std::time::Instant::now();
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(&app, &self.store, &p, now))) {
                Ok(Ok(Handled::Done(outcome))) => {
                    let labels: Vec<String> = p.class.labels.iter().cloned().collect();
                    crate::metrics::mail_processed(&labels, (took + started.elapsed()).as_secs_f64(), now);
                    info!(
                        mail = %meta.name,
                        message_id = p.mail.message_id.as_deref().unwrap_or(""),
                        from = p.mail.from.as_ref().map(|a| a.address.as_str()).unwrap_or(""),
                        subject = %p.mail.subject,
                        labels = %labels.join(","),
                        action = %outcome.join("; "),
                        "Processed {}: {}",
                        meta.name,
                        outcome.join("; ")
                    );
                    report.processed += 1;
                    acks.push(meta);
                }
                Ok(Ok(Handled::AlreadyDone)) => {
                    report.already_done += 1;
                    acks.push(meta);
                }
                Ok(Err(e)) => return Err(anyhow::Error::new(e).context(format!("processing {}", meta.name))),
                Err(_) => {
                    error!("Processing {} panicked: moved to quarantine", meta.name);
                    aside.push((meta, "processing panicked".to_string()));
                }
            }
        }
        let now = self.clock.now();
        for (meta, why) in &aside {
            // Recorded now, durable with the batch, put aside after the flush.
            let q = Quarantined { at: now, name: meta.name.clone(), why: why.clone() };
            crate::metrics::mail_quarantined();
            if let Err(e) = self.store.record_quarantine(&q) {
                error!("Cannot record the quarantine of {}: {e}", meta.name);
            }
            report.quarantined += 1;
        }
        crate::store::attachments::sync(&written).context("cannot sync attachment files")?;
        let flushing = std::time::Instant::now();
        self.store.flush()?;
        tracing::debug!(
            mails = acks.len(),
            aside = aside.len(),
            attachments = written.len(),
            flush_ms = flushing.elapsed().as_millis() as u64,
            "Batch committed: {} mails, {} put aside, {} attachment files, flushed in {} ms",
            acks.len(),
            aside.len(),
            written.len(),
            flushing.elapsed().as_millis()
        );
        for (meta, why) in &aside {
            self.acker.quarantine(meta, why);
        }
        self.acker.ack(&acks)?;
        self.bells.outbox.notify_one();
        self.bells.scheduler.notify_one();
        Ok(())
    }
}
