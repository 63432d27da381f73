//! The daemon: wires the source, the pipeline, the outbox and the read-only
//! query socket; stops cleanly on SIGTERM/SIGINT and reloads the business
//! files on SIGHUP.
//!
//! One worker thread runs the pipeline (serial store transactions, no
//! reordering): it takes a batch of messages in delivery order, processes
//! each in its own transaction, flushes once (group commit), then moves the
//! batch to `cur/` and flushes the outbox. Shutdown is checked between
//! messages, so work in hand is committed or left untouched.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::app::App;
use crate::clock::Clock;
use crate::mailbox::imap::{ImapSettings, SentCopies, SharedHealth};
use crate::mailbox::maildir::Maildir;
use crate::mailbox::{Body, MaildirSource, Meta, Source};
use crate::outbox::Sink;
use crate::outbox::file::FileSink;
use crate::outbox::smtp::SmtpSink;
use crate::pipeline::{Handled, Prepared, commit, prepare};
use crate::store::{Quarantined, Store};

/// Messages per group commit.
const BATCH: usize = 64;

/// What a run did (for `run --once` and tests).
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub processed: usize,
    pub already_done: usize,
    pub quarantined: usize,
    pub sent: usize,
}

/// Flags shared between the signal handlers and the worker.
#[derive(Default)]
pub struct Control {
    pub shutdown: AtomicBool,
    pub reload: AtomicBool,
}

/// The socket on which a running daemon answers read commands.
pub fn socket_path(store_path: &Path) -> PathBuf {
    let mut p = store_path.as_os_str().to_owned();
    p.push(".sock");
    PathBuf::from(p)
}

/// Wakes the outbox worker after a commit.
#[derive(Default)]
struct Bell {
    rung: Mutex<bool>,
    cv: Condvar,
}

impl Bell {
    fn ring(&self) {
        if let Ok(mut r) = self.rung.lock() {
            *r = true;
            self.cv.notify_one();
        }
    }

    /// Wait until rung or `timeout`.
    fn wait(&self, timeout: Duration) {
        if let Ok(r) = self.rung.lock()
            && let Ok((mut r, _)) = self.cv.wait_timeout_while(r, timeout, |r| !*r)
        {
            *r = false;
        }
    }
}

/// The outbox worker: sends what is due whenever the pipeline commits, and
/// at least every second (retries). Stops after a last flush once `stop` is set.
fn outbox_worker(
    store: &Store,
    sink: &mut dyn Sink,
    copies: Option<&SentCopies>,
    clock: Clock,
    bell: &Bell,
    stop: &AtomicBool,
    shutdown: &AtomicBool,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if stopping && shutdown.load(Ordering::SeqCst) {
            return Ok(sent); // what is queued is sent after the next start
        }
        let f = crate::outbox::flush(store, sink, clock.now())?;
        sent += f.delivered;
        if let Some(copies) = copies {
            for id in &f.sent_ids {
                if let Some(bytes) = store.outgoing_bytes(id)? {
                    copies.append(bytes);
                }
            }
        }
        if f.more {
            continue;
        }
        if stopping {
            return Ok(sent);
        }
        bell.wait(Duration::from_secs(1));
    }
}

/// Open the configured source: the Maildir, or the IMAP task on the runtime.
fn open_source(
    app: &App,
    store: &Store,
    health: &SharedHealth,
) -> anyhow::Result<(Box<dyn Source>, Option<SentCopies>)> {
    let c = &app.config;
    if c.raw.mailbox.kind.get_ref() == "imap" {
        let settings = ImapSettings::from_config(c)?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow::anyhow!("the IMAP source needs the daemon's runtime"))?;
        let (source, copies) = crate::mailbox::imap::spawn(settings, store.clone(), &runtime, health.clone());
        return Ok((Box::new(source), copies));
    }
    let path = c.mailbox_path.clone().context("the mailbox has no path")?;
    let maildir = Maildir::open(&path).with_context(|| format!("cannot open the Maildir {}", path.display()))?;
    Ok((Box::new(MaildirSource { maildir }), None))
}

/// Open the configured sink: `.eml` files, or SMTP.
fn open_sink(app: &App) -> anyhow::Result<Box<dyn Sink + Send>> {
    let c = &app.config;
    if c.raw.outbox.kind.get_ref() == "smtp" {
        return Ok(Box::new(SmtpSink::from_config(c)?));
    }
    let path = c.outbox_path.clone().context("the outbox has no path")?;
    Ok(Box::new(FileSink::open(&path).with_context(|| format!("cannot open the outbox folder {}", path.display()))?))
}

/// The pipeline loop. Returns when the mailbox is drained (`once`) or on shutdown.
///
/// Three stages on three threads: a reader parses, classifies and keeps the
/// documents of the next messages (pure or idempotent work); the pipeline
/// decides and commits each message in its own transaction, flushes once per
/// batch (group commit) and then acknowledges the batch at the source; the
/// outbox worker sends what was committed.
pub fn work(
    app: &Mutex<Arc<App>>,
    config_path: &Path,
    store: &Store,
    clock: Clock,
    once: bool,
    control: &Control,
    health: &SharedHealth,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let current = app.lock().map_err(|_| anyhow::anyhow!("app lock poisoned"))?.clone();
    std::fs::create_dir_all(&current.config.attachments_path)
        .with_context(|| format!("cannot create {}", current.config.attachments_path.display()))?;
    let (mut source, copies) = open_source(&current, store, health)?;
    let mut sink = open_sink(&current)?;
    let poll = Duration::from_millis(current.config.raw.mailbox.poll_ms.max(10));
    let bell = Bell::default();
    let outbox_stop = AtomicBool::new(false);
    std::thread::scope(|scope| -> anyhow::Result<Report> {
        let outbox = scope.spawn(|| {
            outbox_worker(store, sink.as_mut(), copies.as_ref(), clock, &bell, &outbox_stop, &control.shutdown)
        });
        let result =
            pipeline_loop(app, config_path, store, clock, once, control, source.as_mut(), poll, &bell, &mut report);
        outbox_stop.store(true, Ordering::SeqCst);
        bell.ring();
        let sent = outbox.join().map_err(|_| anyhow::anyhow!("the outbox worker panicked"))?;
        // Acknowledgements still on their way to the server are finished (or,
        // if the server is away, redone after the next start: the messages
        // are recognised as processed).
        source.close(Duration::from_secs(3));
        result?;
        report.sent = sent?;
        Ok(report.clone())
    })
}

#[allow(clippy::too_many_arguments)]
fn pipeline_loop(
    app: &Mutex<Arc<App>>,
    config_path: &Path,
    store: &Store,
    clock: Clock,
    once: bool,
    control: &Control,
    source: &mut dyn Source,
    poll: Duration,
    bell: &Bell,
    report: &mut Report,
) -> anyhow::Result<()> {
    // When the scheduler last ran: slots (digests, status summaries) after
    // it are due, even if the loop wakes a little after their instant.
    let mut last_run: Option<DateTime<Utc>> = None;
    loop {
        if control.shutdown.load(Ordering::SeqCst) {
            info!("Shutdown requested: stopping between messages");
            return Ok(());
        }
        if control.reload.swap(false, Ordering::SeqCst) {
            match App::load(config_path) {
                Ok(new) => {
                    *app.lock().map_err(|_| anyhow::anyhow!("app lock poisoned"))? = Arc::new(new);
                    info!("Reloaded config, clients, rules and templates");
                }
                Err(e) => error!("Reload refused, the previous files stay in force:\n{e}"),
            }
        }
        let app_now = app.lock().map_err(|_| anyhow::anyhow!("app lock poisoned"))?.clone();
        // Time-driven work, idempotent by key: run when its next instant
        // has come, then sleep until the next one or new mail. Finding that
        // instant is a few B-tree lookups (schedule index; BENCHMARKS.md),
        // so it is asked again on every turn: mail just processed, a new
        // config or a refused outgoing mail may have brought it forward.
        // The first turn always runs (what fell due while the daemon was
        // down runs late, once).
        let now = clock.now();
        let mut due = match last_run {
            Some(after) => crate::scheduler::next_due(&app_now, store, after)?,
            None => Some(now),
        };
        if due.is_some_and(|t| t <= now) {
            if crate::scheduler::run_due(&app_now, store, now)? > 0 {
                bell.ring();
            }
            last_run = Some(now);
            due = crate::scheduler::next_due(&app_now, store, now)?;
        }
        let wait = match due {
            Some(t) => (t - now).to_std().unwrap_or(Duration::ZERO).min(poll),
            None => poll,
        };
        let stop = || control.shutdown.load(Ordering::SeqCst) || control.reload.load(Ordering::SeqCst);
        let pending = match source.pending(wait, &stop) {
            Ok(p) => p,
            Err(e) if once => return Err(e),
            Err(e) => {
                error!("{e:#}");
                continue;
            }
        };
        if pending.is_empty() {
            if once && source.drained() {
                // What the mail just processed made due at `now`.
                if crate::scheduler::run_due(&app_now, store, clock.now())? > 0 {
                    bell.ring();
                }
                return Ok(());
            }
            continue;
        }
        let stop_reader = AtomicBool::new(false);
        let (tx, rx) = std::sync::mpsc::sync_channel::<(Meta, Result<Prepared, String>)>(2 * BATCH);
        let result = std::thread::scope(|scope| -> anyhow::Result<()> {
            let reader_app = app_now.clone();
            let stop = &stop_reader;
            scope.spawn(move || {
                for item in pending {
                    if stop.load(Ordering::SeqCst) || control.shutdown.load(Ordering::SeqCst) {
                        break;
                    }
                    let raw = match item.body {
                        Body::Bytes(b) => Ok(b),
                        Body::File(path) => match std::fs::read(&path) {
                            Ok(b) => Ok(b),
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                            Err(e) => Err(format!("unreadable: {e}")),
                        },
                    };
                    let silent = item.meta.silent;
                    let prepared = raw.and_then(|raw| {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| prepare(&reader_app, &raw)))
                            .map_err(|_| "preparing panicked".to_string())
                            .and_then(|r| r.map_err(|e| e.to_string()))
                            .map(|mut p| {
                                p.silent = silent;
                                p
                            })
                    });
                    if tx.send((item.meta, prepared)).is_err() {
                        break;
                    }
                }
            });
            let r = commit_batches(&app_now, store, clock, control, source, &rx, bell, report);
            stop_reader.store(true, Ordering::SeqCst);
            while rx.try_recv().is_ok() {} // unblock the reader
            drop(rx);
            r
        });
        result?;
    }
}

/// A committed batch on its way to being made durable and acknowledged.
struct Batch {
    acks: Vec<Meta>,
    aside: Vec<(Meta, String)>,
    written: Vec<std::path::PathBuf>,
}

/// Group commit of a batch: make it durable (attachment files, then the
/// store), and only then acknowledge it at the source and wake the outbox.
///
/// (Measured: flushing on a separate thread while the next batch is decided
/// was slower on the Maildir benchmark, 926 against 1,006 msg/s with 60 %
/// more memory, and within the noise over IMAP: sled's flush competes with
/// the transactions it runs beside.)
fn finish(store: &Store, acker: &dyn crate::mailbox::Acker, b: Batch, bell: &Bell) -> anyhow::Result<()> {
    crate::store::attachments::sync(&b.written).context("cannot sync attachment files")?;
    store.flush()?;
    for (meta, why) in &b.aside {
        acker.quarantine(meta, why);
    }
    acker.ack(&b.acks)?;
    bell.ring();
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn commit_batches(
    app: &App,
    store: &Store,
    clock: Clock,
    control: &Control,
    source: &mut dyn Source,
    rx: &std::sync::mpsc::Receiver<(Meta, Result<Prepared, String>)>,
    bell: &Bell,
    report: &mut Report,
) -> anyhow::Result<()> {
    let acker = source.acker();
    decide_batches(app, store, clock, control, rx, &mut |b| finish(store, acker.as_ref(), b, bell), report)
}

fn decide_batches(
    app: &App,
    store: &Store,
    clock: Clock,
    control: &Control,
    rx: &std::sync::mpsc::Receiver<(Meta, Result<Prepared, String>)>,
    finish: &mut dyn FnMut(Batch) -> anyhow::Result<()>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut next = rx.recv().ok();
    while let Some(first) = next.take() {
        let mut batch = Batch { acks: Vec::new(), aside: Vec::new(), written: Vec::new() };
        let mut item = Some(first);
        while let Some((meta, prepared)) = item.take() {
            if control.shutdown.load(Ordering::SeqCst) {
                break;
            }
            match prepared {
                Err(why) => {
                    warn!("Cannot process {}: {why}", meta.name);
                    batch.aside.push((meta, why));
                }
                Ok(p) => {
                    batch.written.extend(p.written.iter().cloned());
                    let now = clock.now();
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(app, store, &p, now))) {
                        Ok(Ok(Handled::Done(outcome))) => {
                            info!("Processed {}: {}", meta.name, outcome.join("; "));
                            report.processed += 1;
                            batch.acks.push(meta);
                        }
                        Ok(Ok(Handled::AlreadyDone)) => {
                            report.already_done += 1;
                            batch.acks.push(meta);
                        }
                        Ok(Err(e)) => {
                            return Err(anyhow::Error::new(e).context(format!("processing {}", meta.name)));
                        }
                        Err(_) => {
                            error!("Processing {} panicked: moved to quarantine", meta.name);
                            batch.aside.push((meta, "processing panicked".to_string()));
                        }
                    }
                }
            }
            if batch.acks.len() >= BATCH {
                break;
            }
            // Take what is ready; a batch ends when the reader has nothing more yet.
            item = rx.try_recv().ok();
        }
        let now = clock.now();
        for (meta, why) in &batch.aside {
            // Recorded now, durable with the batch, put aside after the flush.
            if let Err(e) = store.record_quarantine(&Quarantined { at: now, name: meta.name.clone(), why: why.clone() })
            {
                error!("Cannot record the quarantine of {}: {e}", meta.name);
            }
            report.quarantined += 1;
        }
        finish(batch)?;
        if control.shutdown.load(Ordering::SeqCst) {
            return Ok(());
        }
        next = rx.recv().ok();
    }
    Ok(())
}

/// `buzon run [--once]`.
pub fn run(config_path: &Path, clock: Clock, once: bool) -> anyhow::Result<Report> {
    let app = App::load(config_path)?;
    let store_path = app.config.store_path.clone();
    // A read command (`buzon status`…) may hold the store for a moment:
    // only a lock held for seconds is another daemon.
    let started = std::time::Instant::now();
    let store = loop {
        match Store::open(&store_path) {
            Ok(s) => break s,
            Err(crate::store::StoreError::Locked(_)) if started.elapsed() < Duration::from_secs(5) => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e @ crate::store::StoreError::Locked(_)) => {
                anyhow::bail!("another buzon is already running on {} ({e})", store_path.display())
            }
            Err(e) => return Err(e.into()),
        }
    };
    let app = Arc::new(Mutex::new(Arc::new(app)));
    let control = Arc::new(Control::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let sock = socket_path(&store_path);
    let _ = std::fs::remove_file(&sock); // we hold the store lock: any socket there is stale
    let health = SharedHealth::default();
    let result = runtime.block_on(async {
        spawn_signals(control.clone());
        spawn_query_server(&sock, store.clone(), app.clone(), clock, health.clone());
        let worker = {
            let (app, store, control, config_path, health) =
                (app.clone(), store.clone(), control.clone(), config_path.to_path_buf(), health.clone());
            tokio::task::spawn_blocking(move || work(&app, &config_path, &store, clock, once, &control, &health))
        };
        let mut worker = std::pin::pin!(worker);
        loop {
            tokio::select! {
                r = &mut worker => {
                    let _ = std::fs::remove_file(&sock);
                    return r.map_err(|e| anyhow::anyhow!("the pipeline worker failed: {e}"))?;
                }
                _ = tokio::time::sleep(Duration::from_millis(50)) => {
                    if control.shutdown.load(Ordering::SeqCst) {
                        // Work in hand finishes within the deadline, or the process exits anyway.
                        let r = tokio::time::timeout(Duration::from_secs(9), &mut worker).await;
                        let _ = store.flush();
                        let _ = std::fs::remove_file(&sock);
                        return match r {
                            Ok(r) => r.map_err(|e| anyhow::anyhow!("the pipeline worker failed: {e}"))?,
                            Err(_) => anyhow::bail!("the pipeline did not stop within 9 s"),
                        };
                    }
                }
            }
        }
    });
    // A worker stuck past the deadline must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

fn spawn_signals(control: Arc<Control>) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
            (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
        else {
            error!("Cannot install signal handlers");
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => { info!("SIGTERM received"); control.shutdown.store(true, Ordering::SeqCst); }
                _ = int.recv() => { info!("SIGINT received"); control.shutdown.store(true, Ordering::SeqCst); }
                _ = hup.recv() => { info!("SIGHUP received: reloading"); control.reload.store(true, Ordering::SeqCst); }
            }
        }
    });
}

fn spawn_query_server(path: &Path, store: Store, app: Arc<Mutex<Arc<App>>>, clock: Clock, health: SharedHealth) {
    let listener = match tokio::net::UnixListener::bind(path) {
        Ok(l) => l,
        Err(e) => {
            warn!("Read commands will not reach this daemon: cannot listen on {}: {e}", path.display());
            return;
        }
    };
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (store, app, health) = (store.clone(), app.clone(), health.clone());
            tokio::spawn(async move {
                use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                if BufReader::new(read).read_line(&mut line).await.is_err() {
                    return;
                }
                let answer = tokio::task::spawn_blocking(move || {
                    let query: crate::cli::query::Query =
                        serde_json::from_str(&line).map_err(|e| anyhow::anyhow!("bad request: {e}"))?;
                    let app = app
                        .lock()
                        .ok()
                        .map(|a| a.clone())
                        .ok_or_else(|| anyhow::anyhow!("the daemon's state is unavailable"))?;
                    let live = health.lock().map(|h| h.clone()).unwrap_or_default();
                    crate::cli::query::answer(&store, &app.config, &query, clock.now(), Some(&live))
                })
                .await;
                let text = match answer {
                    Ok(Ok(t)) => format!("0{t}"),
                    Ok(Err(e)) => format!("2buzon: {e:#}\n"),
                    Err(e) => format!("2buzon: {e}\n"),
                };
                let _ = write.write_all(text.as_bytes()).await;
            });
        }
    });
}
