//! The daemon only wires (mini-redis's `server.rs`): the source's task feeds
//! a bounded channel; the preparer and the committer (`pipeline.rs`) work it
//! on two threads, the committer being the store's single writer; a commit
//! rings the outbox worker (`outbox.rs`) and the scheduler's runner; signals
//! cancel one token that every loop selects on; tasks and threads are joined
//! under the stop deadline. `run --once` is the same wiring with a source
//! that is drained once.

mod outbox;
mod pipeline;
mod poison;
pub use poison::note_abort;
mod service;
mod tokens;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info};

use crate::app::{App, AppCell};
use crate::backoff::{Retry, STORE_LOCKED};
use crate::clock::Clock;
use crate::config::Outbox;
use crate::mailbox::SharedHealth;
use crate::outbox::Sink;
use crate::outbox::file::FileSink;
use crate::outbox::smtp::SmtpSink;
use crate::store::{Store, StoreError};

/// What a run did (for `run --once` and tests).
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub processed: usize,
    pub already_done: usize,
    pub quarantined: usize,
    pub sent: usize,
}

/// Open the store; a read command (`buzon status`…) may hold it for a
/// moment: only a lock held for seconds is another daemon.
fn open_store(path: &Path) -> anyhow::Result<Store> {
    let started = std::time::Instant::now();
    let mut retry = Retry::new(STORE_LOCKED);
    loop {
        match Store::open(path) {
            Ok(s) => return Ok(s),
            Err(StoreError::Locked(_)) if started.elapsed() < Duration::from_secs(5) => {
                std::thread::sleep(retry.next_delay());
            }
            Err(e @ StoreError::Locked(_)) => {
                anyhow::bail!("another buzon is already running on {} ({e})", path.display())
            }
            Err(StoreError::Layout { found, expected }) => {
                anyhow::bail!("{}", crate::backup::newer_store_message(path, found, expected))
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The configured sink: `.eml` files, or SMTP on the daemon's runtime.
fn open_sink(
    app: &App,
    rt: &tokio::runtime::Handle,
    tokens: Option<Arc<dyn crate::oauth2::TokenSource>>,
) -> anyhow::Result<Box<dyn Sink + Send>> {
    match &app.config.outbox {
        Outbox::Smtp(smtp) => Ok(Box::new(SmtpSink::new(smtp, &app.settings.address, rt.clone(), tokens)?)),
        Outbox::Files { path } => Ok(Box::new(
            FileSink::open(path).with_context(|| format!("cannot open the outbox folder {}", path.display()))?,
        )),
    }
}

/// Cancel `token` on SIGTERM/SIGINT; reload the business files on SIGHUP.
async fn signals(
    token: CancellationToken,
    app: AppCell,
    config: std::path::PathBuf,
    scheduler: Arc<Notify>,
    health: SharedHealth,
    clock: Clock,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
    else {
        error!("Cannot install signal handlers");
        return;
    };
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = term.recv() => { info!("SIGTERM received"); token.cancel(); }
            _ = int.recv() => { info!("SIGINT received"); token.cancel(); }
            _ = hup.recv() => {
                info!("SIGHUP received: reloading");
                service::reloading();
                let path = config.clone();
                let loaded = tokio::task::spawn_blocking(move || App::load(&path)).await;
                service::reloaded(if matches!(loaded, Ok(Ok(_))) { "working: reloaded" } else { "working: reload refused" });
                match loaded {
                    Ok(Ok(new)) => {
                        app.replace(new);
                        scheduler.notify_one();
                        info!("Reloaded config, clients, rules and templates");
                    }
                    Ok(Err(e)) => {
                        error!("Reload refused, the previous files stay in force:\n{e}");
                        crate::mailbox::set_health(&health, |h| {
                            h.reload_error = Some(e.to_string());
                            h.reload_error_at = Some(clock.now());
                        });
                    }
                    Err(e) => error!("Reload failed: {e}"),
                }
            }
        }
    }
}

/// Run a blocking stage on its own thread; its result arrives on the oneshot.
fn thread<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<oneshot::Receiver<T>> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .with_context(|| format!("cannot start the {name} thread"))?;
    Ok(rx)
}

/// `buzon run [--once]`.
pub fn run(config_path: &Path, clock: Clock, once: bool) -> anyhow::Result<Report> {
    let app = App::load(config_path)?;
    let store = open_store(&app.config.store.path)?;
    std::fs::create_dir_all(&app.config.store.attachments_path)
        .with_context(|| format!("cannot create {}", app.config.store.attachments_path.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    let result = runtime.block_on(serve(AppCell::new(app), config_path, store, clock, once));
    // A stage stuck past the deadline must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

async fn serve(app: AppCell, config_path: &Path, store: Store, clock: Clock, once: bool) -> anyhow::Result<Report> {
    let rt = tokio::runtime::Handle::current();
    let token = CancellationToken::new();
    let tracker = TaskTracker::new();
    let health = SharedHealth::default();
    let current = app.current();
    let sock = crate::query::socket_path(&current.config.store.path);
    let _ = std::fs::remove_file(&sock); // we hold the store lock: any socket there is stale
    let scheduler_bell = Arc::new(Notify::new());
    // Backups: the committer dumps the store between batches (crate::backup).
    let (dumps_tx, dumps_rx) = mpsc::channel(1);
    // `[http]`: bound now, so that a taken port stops start-up (`run --once`
    // too: a long drain can be watched, and its cost measured).
    let http = match current.config.http_listen {
        Some(listen) => {
            let listener = crate::http::bind(listen).await?;
            let served = crate::http::Served {
                store: store.clone(),
                app: app.clone(),
                health: health.clone(),
                clock,
                metrics: crate::metrics::install()?,
            };
            tracker.spawn(crate::http::serve(listener, served, token.clone()));
            Some(listen)
        }
        None => None,
    };
    tracker.spawn(signals(
        token.clone(),
        app.clone(),
        config_path.to_path_buf(),
        scheduler_bell.clone(),
        health.clone(),
        clock,
    ));
    let outbox_bell = Arc::new(Notify::new());
    let wake = crate::query::Wake { outbox: outbox_bell.clone(), scheduler: scheduler_bell.clone() };
    tracker.spawn(crate::query::serve(
        sock,
        crate::query::Daemon {
            store: store.clone(),
            app: app.clone(),
            clock,
            health: health.clone(),
            token: token.clone(),
            wake,
            dumps: dumps_tx,
        },
    ));
    let tokens = tokens::sources(&current.config, &store).map_err(|e| anyhow::anyhow!("OAuth2: {e}"))?;
    let mut source =
        crate::mailbox::open(&current.config, clock, tokens.mailbox, &store, token.clone(), health.clone(), &tracker)?;
    let mut sink = open_sink(&current, &rt, tokens.outbox)?;
    let events = std::mem::replace(&mut source.events, mpsc::channel(1).1);

    let (prepped_tx, prepped_rx) = mpsc::channel(2 * 64);
    let (ticks_tx, ticks_rx) = mpsc::channel(1);
    let last_run = Arc::new(Mutex::new(None));
    let finish = CancellationToken::new();

    let progress = poison::Progress::default();
    let preparer = {
        let p = pipeline::Preparer {
            app: app.clone(),
            token: token.clone(),
            rt: rt.clone(),
            once,
            health: health.clone(),
            clock,
            progress: progress.clone(),
        };
        thread("prepare", move || p.run(events, prepped_tx))?
    };
    let outbox = {
        let worker = outbox::OutboxWorker {
            store: store.clone(),
            clock,
            copies: source.sent_copies.clone(),
            bell: outbox_bell.clone(),
            scheduler: scheduler_bell.clone(),
            token: token.clone(),
            finish: finish.clone(),
        };
        let rt = rt.clone();
        thread("outbox", move || worker.run(sink.as_mut(), &rt))?
    };
    if !once {
        tracker.spawn(crate::scheduler::runner(
            app.clone(),
            store.clone(),
            clock,
            ticks_tx,
            scheduler_bell.clone(),
            last_run.clone(),
            token.clone(),
        ));
    }
    let committer = {
        let c = pipeline::Committer {
            app: app.clone(),
            store: store.clone(),
            clock,
            once,
            token: token.clone(),
            acker: source.acker.clone(),
            bells: pipeline::Bells { outbox: outbox_bell.clone(), scheduler: scheduler_bell, last_run },
            progress: progress.clone(),
        };
        let rt = rt.clone();
        thread("commit", move || {
            let mut report = Report::default();
            c.run(prepped_rx, ticks_rx, dumps_rx, &rt, &mut report).map(|()| report)
        })?
    };
    let status = service::started(&current, http, once);
    if !once {
        service::ready(&status);
        let probe = store.clone();
        tracker.spawn(service::watchdog(token.clone(), move || probe.next_scheduled().is_ok()));
        let stop = token.clone();
        tracker.spawn(async move {
            stop.cancelled().await;
            service::stopping();
        });
    }

    // The committer ends when the source is drained (`once`), on a
    // cancellation (signals), or with an error. After a cancellation every
    // stage has until one deadline to stop.
    let mut committer = std::pin::pin!(committer);
    let (committed, deadline) = tokio::select! {
        r = &mut committer => (Some(r), None),
        _ = token.cancelled() => {
            let deadline = Instant::now() + STOP_DEADLINE;
            (tokio::time::timeout_at(deadline, &mut committer).await.ok(), Some(deadline))
        }
    };
    let until = |d: Duration| deadline.unwrap_or_else(|| Instant::now() + d);
    let report = match committed {
        None => {
            let _ = store.flush();
            Err(anyhow::anyhow!("the pipeline did not stop within {STOP_DEADLINE:?}"))
        }
        Some(Err(_)) => Err(anyhow::anyhow!("the pipeline thread panicked")),
        Some(Ok(r)) => r,
    };
    // Drained (`once`): the outbox sends what the run queued, then stops.
    // Otherwise (a signal, an error) it stops now; what is queued goes out
    // after the next start.
    match &report {
        Ok(_) if !token.is_cancelled() => finish.cancel(),
        _ => token.cancel(),
    }
    outbox_bell.notify_one();
    let sent = match tokio::time::timeout_at(until(Duration::from_secs(300)), outbox).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Err(anyhow::anyhow!("the outbox thread panicked")),
        Err(_) => Err(anyhow::anyhow!("the outbox did not stop in time")),
    };
    token.cancel();
    // Acknowledgements still on their way to the server are finished (or,
    // if the server is away, redone after the next start: the messages are
    // recognised as processed).
    let close_by = until(Duration::from_secs(3)).min(Instant::now() + Duration::from_secs(3));
    let _ = tokio::time::timeout_at(close_by, source.close(Duration::from_secs(3))).await;
    drop(source);
    let _ = tokio::time::timeout_at(until(Duration::from_secs(1)), preparer).await;
    tracker.close();
    if tokio::time::timeout_at(until(Duration::from_secs(2)), tracker.wait()).await.is_err() {
        error!("Some tasks did not stop in time");
    }
    let mut report = report?;
    report.sent = sent?;
    if once {
        // Mail that could not be sent is not lost (it goes on the next run),
        // but the run did not finish its work: say so, non-zero. Held mail
        // (`buzon outbox hold`) waits by a person's choice: it does not count.
        let waiting = store.due_outgoing(chrono::DateTime::<chrono::Utc>::MAX_UTC)?.len();
        if waiting > 0 {
            anyhow::bail!(
                "{waiting} outgoing mails could not be sent and wait in the outbox (`buzon outbox list`); they go on the next run"
            );
        }
    }
    Ok(report)
}

/// After a cancellation, every stage stops within this.
const STOP_DEADLINE: Duration = Duration::from_secs(9);
