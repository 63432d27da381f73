//! The scheduler runs what time makes due, through the same decide → store
//! → outbox path as mail: it asks the store's index which records fall due,
//! the config which slots (digests, status summaries) do, hands each to
//! [`desk::decide_due`] and commits the decision. It decides and renders
//! nothing itself. Each job is idempotent by its key, so a restart never
//! runs it twice and a pause never skips it: after an outage it runs late,
//! once (what piled up is coalesced by the desk).

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::desk::{self, Decision, Due, Effect, deadlines};
use crate::store::{Store, StoreError};

/// Apply one time decision; returns how many mails it queued.
fn apply(store: &Store, d: &Decision, what: &str) -> Result<usize, StoreError> {
    if !d.outcome.is_empty() {
        let job = job_kind(what);
        crate::metrics::job_done(job);
        tracing::info!(job, subject = %what, action = %d.outcome.join("; "), "Scheduled {what}: {}", d.outcome.join("; "));
    }
    store.commit(None, &d.effects)?;
    Ok(d.effects.iter().filter(|e| matches!(e, Effect::Queue { .. })).count())
}

/// The kind of a job for logs and metrics: `Digests`, `StatusSummaries`,
/// `Refusals`, `SourceStopped`, or the subject's kind (`Reclamo`, `Task`…).
fn job_kind(what: &str) -> &str {
    let what = what.strip_prefix("Subject(").unwrap_or(what);
    what.split(['(', ' ', '{', ')']).next().unwrap_or(what)
}

/// Run every job due at `now`; returns how many mails were queued. Reads
/// only what the schedule index says is due (plus the few slots of the
/// config), never the whole store.
pub fn run_due(app: &App, store: &Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    ensure_schedule(app, store)?;
    let desk = app.desk();
    let mut queued = 0;
    let mut due: Vec<Due> = store.scheduled_until(now)?.into_iter().map(Due::Subject).collect();
    due.push(Due::Digests);
    due.push(Due::StatusSummaries);
    due.push(Due::ClosingLists);
    due.push(Due::ExtrasReports);
    let refused = store.unnoticed_refusals()?;
    if !refused.is_empty() {
        due.push(Due::Refusals(refused));
    }
    for job in &due {
        let decision = desk::decide_due(&desk, store, job, now)?;
        queued += apply(store, &decision, &format!("{job:?}"))?;
    }
    store.flush()?;
    // `buzon reprocess` asked the running daemon: the single writer does it.
    queued += crate::pipeline::run_requests(app, store, now)?.len();
    Ok(queued)
}

/// The next instant at which `run_due` has something to do (for the
/// daemon's sleep): the first entry of the schedule index, the next digest
/// or status-summary slot; `now` when a refused mail waits for its task or
/// the index must be rebuilt. A few B-tree lookups and some calendar
/// arithmetic.
pub fn next_due(app: &App, store: &Store, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
    if store.has_unnoticed_refusals()
        || store.has_requests()
        || store.schedule_signature()?.as_deref() != Some(app.schedule_signature())
    {
        return Ok(Some(now));
    }
    Ok([store.next_scheduled()?, desk::next_slot(&app.desk(), now)].into_iter().flatten().min())
}

/// Rebuild the schedule index when it was computed with other settings (or
/// never: a store from before the index). Every open record is scheduled at
/// its earliest step, so nothing is skipped; steps already done are known
/// by their job keys and not redone.
pub fn ensure_schedule(app: &App, store: &Store) -> Result<(), StoreError> {
    let sig = app.schedule_signature();
    if store.schedule_signature()?.as_deref() == Some(sig) {
        return Ok(());
    }
    let started = std::time::Instant::now();
    store.clear_schedule()?;
    let s = &app.settings;
    let rules = &app.rules.desk;
    let mut effects: Vec<Effect> = Vec::new();
    let mut n = 0;
    let mut put = |e: Effect, effects: &mut Vec<Effect>| -> Result<(), StoreError> {
        n += 1;
        effects.push(e);
        if effects.len() >= 1024 {
            store.commit(None, effects)?;
            effects.clear();
        }
        Ok(())
    };
    for r in store.reclamos()? {
        put(deadlines::schedule_reclamo(&r, s, None), &mut effects)?;
    }
    for o in store.open_orders()? {
        put(deadlines::schedule_order(&o, s, None), &mut effects)?;
    }
    for t in store.tasks()? {
        put(deadlines::schedule_task(&t, s, rules, None), &mut effects)?;
    }
    store.commit(None, &effects)?;
    store.set_schedule_signature(sig)?;
    store.flush()?;
    tracing::info!("Schedule index rebuilt: {n} entries in {} ms", started.elapsed().as_millis());
    Ok(())
}

/// The scheduler's runner: sleep until the next due instant or until a
/// commit rings (it may have brought one forward), then ask the committer —
/// the store's single writer — to run what is due (mini-redis's
/// `purge_expired_tasks`). Ends when `token` is cancelled.
pub async fn runner(
    app: crate::app::AppCell,
    store: Store,
    clock: crate::clock::Clock,
    ticks: tokio::sync::mpsc::Sender<()>,
    bell: std::sync::Arc<tokio::sync::Notify>,
    last_run: std::sync::Arc<std::sync::Mutex<Option<DateTime<Utc>>>>,
    token: tokio_util::sync::CancellationToken,
) {
    loop {
        let now = clock.now();
        let after = last_run.lock().ok().and_then(|l| *l).unwrap_or(now);
        let wait = match next_due(&app.current(), &store, after) {
            Ok(Some(t)) => (t - now).to_std().unwrap_or_default(),
            Ok(None) => std::time::Duration::from_secs(3600),
            Err(e) => {
                tracing::error!("Scheduler: cannot read the schedule: {e}");
                std::time::Duration::from_secs(5)
            }
        };
        tracing::debug!(wait_ms = wait.as_millis() as u64, "Scheduler: next run in {} ms", wait.as_millis());
        tokio::select! {
            _ = token.cancelled() => return,
            _ = bell.notified() => continue,
            _ = tokio::time::sleep(wait) => {}
        }
        if ticks.send(()).await.is_err() {
            return;
        }
        // Wait until the committer ran it (it rings), so the next due
        // instant is asked after this run.
        tokio::select! {
            _ = token.cancelled() => return,
            _ = bell.notified() => {}
        }
    }
}

#[cfg(test)]
mod ops_tests {
    #[test]
    fn job_kinds_name_the_job() {
        let table = [
            ("Digests", "Digests"),
            ("StatusSummaries", "StatusSummaries"),
            ("Refusals([\"O-1\"])", "Refusals"),
            ("Subject(Reclamo(\"R-000001\"))", "Reclamo"),
            ("Subject(Task(\"T-000002\"))", "Task"),
            ("SourceStopped { source: \"x\" }", "SourceStopped"),
        ];
        for (what, want) in table {
            assert_eq!(super::job_kind(what), want, "{what}");
        }
    }
}
