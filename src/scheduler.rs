//! Work that time drives, through the same decide → store → outbox path.
//! Each job is idempotent by its key (`reclamo:R-000001:vencido`), so a
//! restart never runs it twice and a pause never skips it: after an outage
//! it runs late, once, and what piled up is coalesced (no warning whose
//! deadline already passed: only the overdue mail).
//!
//! Now: reclamo warnings (at `reclamo_warnings` % of the business hours) and
//! the overdue escalation to supervisors, managers and the executive;
//! reminders of alert tasks N days before their deadline (per alert kind in
//! `rules/`) and on the deadline; assistant digests.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::app::App;
use crate::calendar::BusinessCalendar;
use crate::desk::compose::{Envelope, compose};
use crate::desk::model::{Event, Order, Outgoing, Reclamo, Task};
use crate::desk::{Effect, local_fmt};
use crate::store::{Store, StoreError};

/// One step of a reclamo's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `percent` of the business hours have passed.
    Aviso(u32),
    /// The due time passed and it is still open.
    Vencido,
}

impl Step {
    pub fn key(&self, reclamo: &str) -> String {
        match self {
            Step::Aviso(p) => format!("reclamo:{reclamo}:aviso{p}"),
            Step::Vencido => format!("reclamo:{reclamo}:vencido"),
        }
    }
}

/// What to do now for one reclamo: the step to fire (if any) and the keys of
/// the earlier steps that are coalesced away. Pure.
pub fn reclamo_step(
    r: &Reclamo,
    now: DateTime<Utc>,
    cal: &BusinessCalendar,
    hours: u32,
    warnings: &[u32],
    done: &dyn Fn(&str) -> bool,
) -> (Option<Step>, Vec<String>) {
    // The same instants the schedule index uses: warnings, then due.
    let names = warnings.iter().map(|p| Step::Aviso(*p)).chain(std::iter::once(Step::Vencido));
    let mut steps: Vec<(DateTime<Utc>, Step)> =
        reclamo_instants(r, cal, hours, warnings).into_iter().zip(names).collect();
    steps.sort_by_key(|(t, _)| *t);
    let reached: Vec<&Step> = steps.iter().filter(|(t, _)| *t <= now).map(|(_, s)| s).collect();
    let Some(last) = reached.last() else { return (None, Vec::new()) };
    let skipped: Vec<String> = reached[..reached.len() - 1].iter().map(|s| s.key(&r.id)).filter(|k| !done(k)).collect();
    let fire = (!done(&last.key(&r.id))).then(|| (*last).clone());
    (fire, skipped)
}

/// Render and format a generated (not a reply) mail into a queue effect.
#[allow(clippy::too_many_arguments)]
fn generated(
    app: &App,
    template: &str,
    id: String,
    to: Vec<String>,
    ctx: &serde_json::Value,
    now: DateTime<Utc>,
    references: &[String],
    order: Option<String>,
) -> Result<Effect, String> {
    let s = &app.settings;
    let body = app.templates.render(template, ctx).map_err(|e| format!("template {template}: {e:#}"))?;
    let message_id = format!("buzon.{id}@{}", s.domain());
    let env = Envelope {
        from_name: &s.name,
        from_address: &s.address,
        to: &to,
        message_id: &message_id,
        in_reply_to: None,
        references,
        date: now,
        auto_submitted: "auto-generated",
    };
    let bytes = compose(&env, &body)?;
    let mail = Outgoing {
        id,
        message_id,
        kind: template.to_string(),
        to,
        subject: body.subject,
        created_at: now,
        state: "pendiente".into(),
        attempts: 0,
        next_attempt: None,
        sent_at: None,
        error: None,
        order,
        delivered_to: Vec::new(),
        refused: Vec::new(),
    };
    Ok(Effect::Queue { mail, bytes })
}

/// Run every job due at `now`; returns how many mails were queued. Reads
/// only what the schedule index says is due (plus the few digest and
/// status-summary slots of the config), never the whole store.
pub fn run_due(app: &App, store: &Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    ensure_schedule(app, store)?;
    let mut queued = 0;
    for subject in store.scheduled_until(now)? {
        queued += run_subject(app, store, &subject, now)?;
    }
    queued += run_digests(app, store, now)?;
    queued += run_status_schedules(app, store, now)?;
    run_refusals(app, store, now)?;
    store.flush()?;
    Ok(queued)
}

/// The next instant at which `run_due` has something to do (for the
/// daemon's sleep): the first entry of the schedule index, the next digest
/// slot, the next status-summary slot; `now` when a refused mail waits for
/// its task. A few B-tree lookups and some calendar arithmetic.
pub fn next_due(app: &App, store: &Store, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
    if store.has_unnoticed_refusals() || store.schedule_signature()?.as_deref() != Some(signature(app).as_str()) {
        return Ok(Some(now));
    }
    let s = &app.settings;
    let statuses = app
        .directory
        .clients
        .iter()
        .filter_map(|c| c.status.as_ref())
        .filter_map(|st| next_status_slot(st, now, &s.calendar));
    Ok([store.next_scheduled()?, crate::digest::next_slot(s, now)].into_iter().flatten().chain(statuses).min())
}

/// What the schedule index depends on besides the records themselves: the
/// business calendar, the reclamo clock and the reminder days of alerts.
/// When it changes (a new config), the index is rebuilt.
pub fn signature(app: &App) -> String {
    let s = &app.settings;
    let alerts: Vec<(&str, &[u32])> =
        app.rules.desk.alerts.iter().map(|(a, _)| (a.kind.as_str(), a.remind_days_before.as_slice())).collect();
    format!("1|{:?}|{}|{:?}|{alerts:?}", s.calendar, s.reclamo_hours, s.reclamo_warnings)
}

/// Rebuild the schedule index when it was computed with other settings (or
/// never: a store from before the index). Every open record is scheduled at
/// its earliest step, so nothing is skipped; steps already done are known
/// by their job keys and not redone.
pub fn ensure_schedule(app: &App, store: &Store) -> Result<(), StoreError> {
    let sig = signature(app);
    if store.schedule_signature()?.as_deref() == Some(sig.as_str()) {
        return Ok(());
    }
    let started = std::time::Instant::now();
    store.clear_schedule()?;
    let mut effects: Vec<Effect> = Vec::new();
    let mut n = 0;
    let mut put = |e: Option<Effect>, effects: &mut Vec<Effect>| -> Result<(), StoreError> {
        if let Some(e) = e {
            n += 1;
            effects.push(e);
        }
        if effects.len() >= 1024 {
            store.commit(None, effects)?;
            effects.clear();
        }
        Ok(())
    };
    for r in store.reclamos()? {
        put(schedule_of(app, &Effect::SaveReclamo(r), None), &mut effects)?;
    }
    for o in store.open_orders()? {
        put(schedule_of(app, &Effect::SaveOrder(o), None), &mut effects)?;
    }
    for t in store.tasks()? {
        put(schedule_of(app, &Effect::SaveTask(t), None), &mut effects)?;
    }
    store.commit(None, &effects)?;
    store.set_schedule_signature(&sig)?;
    store.flush()?;
    tracing::info!("Schedule index rebuilt: {n} entries in {} ms", started.elapsed().as_millis());
    Ok(())
}

/// The instants at which a reclamo's clock steps (warnings, then due);
/// none once it is resolved. Pure.
pub fn reclamo_instants(r: &Reclamo, cal: &BusinessCalendar, hours: u32, warnings: &[u32]) -> Vec<DateTime<Utc>> {
    if r.state == "resuelto" {
        return Vec::new();
    }
    warnings
        .iter()
        .map(|p| cal.add_business_hours(r.received_at, f64::from(hours) * f64::from(*p) / 100.0))
        .chain(std::iter::once(r.due_at))
        .collect()
}

/// The instants of an order's document review (warning, due); none once
/// it is closed or reviewed. Pure.
pub fn review_instants(o: &Order, cal: &BusinessCalendar) -> Vec<DateTime<Utc>> {
    match o.review_due {
        Some(due) if o.is_open() => vec![review_warning(due, cal), due],
        _ => Vec::new(),
    }
}

/// The reminder instants of an alert task with a deadline; none once done. Pure.
pub fn task_instants(t: &Task, app: &App) -> Vec<DateTime<Utc>> {
    let (Some(due), true) = (t.due_at, t.state != "hecha") else { return Vec::new() };
    let Some(kind) = t.kind.strip_prefix("alerta_") else { return Vec::new() };
    task_steps(due, &remind_days(app, kind), &app.settings.calendar).into_iter().map(|(at, _)| at).collect()
}

fn remind_days(app: &App, kind: &str) -> Vec<u32> {
    app.rules
        .desk
        .alerts
        .iter()
        .find(|(a, _)| a.kind == kind)
        .map(|(a, _)| a.remind_days_before.clone())
        .unwrap_or_default()
}

/// The schedule entry a saved record needs: its earliest step (`after`
/// `None`: even a past one, which the next pass handles or finds done), or
/// its earliest step after `after` (once a pass at that instant handled
/// it). Other effects need none. Pure.
pub fn schedule_of(app: &App, e: &Effect, after: Option<DateTime<Utc>>) -> Option<Effect> {
    let (subject, instants) = match e {
        Effect::SaveReclamo(r) => {
            let s = &app.settings;
            (format!("reclamo:{}", r.id), reclamo_instants(r, &s.calendar, s.reclamo_hours, &s.reclamo_warnings))
        }
        Effect::SaveOrder(o) => (format!("review:{}", o.id), review_instants(o, &app.settings.calendar)),
        Effect::SaveTask(t) => (format!("task:{}", t.id), task_instants(t, app)),
        _ => return None,
    };
    let at = instants.into_iter().filter(|t| after.is_none_or(|a| *t > a)).min();
    Some(Effect::Schedule { subject, at })
}

/// The schedule entries of every record these effects save (appended by
/// the pipeline to a message's effects, in the same transaction).
pub fn schedule_effects(app: &App, effects: &[Effect]) -> Vec<Effect> {
    effects.iter().filter_map(|e| schedule_of(app, e, None)).collect()
}

/// Handle one subject the index says is due, and schedule its next step.
fn run_subject(app: &App, store: &Store, subject: &str, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let (mut effects, queued, record) = match subject.split_once(':') {
        Some(("reclamo", id)) => match store.reclamo(id)? {
            Some(r) => {
                let (effects, queued, r) = reclamo_job(app, store, r, now)?;
                (effects, queued, Some(Effect::SaveReclamo(r)))
            }
            None => (Vec::new(), 0, None),
        },
        Some(("review", id)) => match store.order(id)? {
            Some(o) => {
                let (effects, queued) = review_job(app, store, &o, now)?;
                (effects, queued, Some(Effect::SaveOrder(o)))
            }
            None => (Vec::new(), 0, None),
        },
        Some(("task", id)) => match store.task(id)? {
            Some(t) => {
                let (effects, queued) = task_job(app, store, &t, now)?;
                (effects, queued, Some(Effect::SaveTask(t)))
            }
            None => (Vec::new(), 0, None),
        },
        _ => (Vec::new(), 0, None),
    };
    let next = record
        .and_then(|r| schedule_of(app, &r, Some(now)))
        .unwrap_or(Effect::Schedule { subject: subject.to_string(), at: None });
    effects.push(next);
    store.commit(None, &effects)?;
    Ok(queued)
}

/// A mail the SMTP server refused (for some or all recipients) becomes a
/// task for the assistant of its client (or the default assistant).
fn run_refusals(app: &App, store: &Store, now: DateTime<Utc>) -> Result<(), StoreError> {
    for id in store.unnoticed_refusals()? {
        let Some(m) = store.outgoing(&id)? else {
            store.commit(None, &[Effect::RefusalNoticed { id }])?;
            continue;
        };
        let client = m.order.as_deref().and_then(|o| store.order(o).ok().flatten()).map(|o| o.client);
        let assignee = client
            .as_deref()
            .and_then(|c| app.directory.client(c))
            .map(|c| c.assistant.clone())
            .unwrap_or_else(|| app.settings.default_assistant.clone());
        let n = store.sequence("task")? + 1;
        let task = crate::desk::model::Task {
            id: format!("T-{n:06}"),
            kind: "correo_rechazado".into(),
            client,
            order: m.order.clone(),
            due_at: None,
            state: "pendiente".into(),
            assignee,
            summary: format!(
                "El servidor de correo rechazó «{}» para: {}. Contactar al destinatario por otra vía o corregir la dirección.",
                m.subject,
                m.refused.join("; ")
            ),
            created_at: now,
            message_id: Some(m.message_id.clone()),
        };
        tracing::warn!("Outbox {id} refused ({}): task {}", m.refused.join("; "), task.id);
        store.commit(
            None,
            &[
                Effect::SaveTask(task),
                Effect::Sequence { name: "task".into(), value: n },
                Effect::RefusalNoticed { id },
            ],
        )?;
    }
    Ok(())
}

/// One reclamo's due step: the mails, job marks and the reclamo with its
/// history (saved only when a step fired).
fn reclamo_job(
    app: &App,
    store: &Store,
    mut r: Reclamo,
    now: DateTime<Utc>,
) -> Result<(Vec<Effect>, usize, Reclamo), StoreError> {
    let s = &app.settings;
    let mut queued = 0;
    {
        let done = |k: &str| store.job_done(k).unwrap_or(false);
        let (fire, skipped) = reclamo_step(&r, now, &s.calendar, s.reclamo_hours, &s.reclamo_warnings, &done);
        let mut effects: Vec<Effect> = skipped.into_iter().map(|key| Effect::JobDone { key, at: now }).collect();
        if let Some(step) = fire {
            let executive = r.client.as_deref().and_then(|c| app.directory.client(c)).map(|c| c.executive.clone());
            let mut to = s.supervisors.clone();
            if step == Step::Vencido {
                to.extend(s.managers.iter().cloned());
            }
            if let Some(e) = executive.clone() {
                to.push(e);
            }
            to.dedup();
            let left = s.calendar.business_hours_between(now, r.due_at);
            let client = r.client.as_deref().and_then(|c| app.directory.client(c)).map(|c| c.name.clone());
            let ctx = json!({
                "desk": {"name": s.name, "address": s.address},
                "reclamo": {"id": r.id, "due_at": local_fmt(&s.calendar, r.due_at), "received_at": local_fmt(&s.calendar, r.received_at),
                            "excerpt": r.excerpt, "from": r.from, "order": r.order, "subject": r.subject, "state": r.state},
                "client": {"name": client},
                "executive": executive,
                "overdue": step == Step::Vencido,
                "percent": match step { Step::Aviso(p) => p, Step::Vencido => 100 },
                "hours_left": format!("{left:.1}"),
            });
            let key = step.key(&r.id);
            match generated(app, "reclamo_aviso", key.replace(':', "-"), to, &ctx, now, &r.message_ids, r.order.clone())
            {
                Ok(effect) => {
                    effects.push(effect);
                    queued += 1;
                    let what = match step {
                        Step::Aviso(p) => format!("Aviso a supervisión: {p}% del plazo transcurrido"),
                        Step::Vencido => "Plazo vencido: escalado a supervisión y gerencia".to_string(),
                    };
                    r.history.push(Event { at: now, what });
                }
                Err(e) => tracing::error!("Cannot send {key}: {e}"),
            }
            effects.push(Effect::JobDone { key, at: now });
            effects.push(Effect::SaveReclamo(r.clone()));
        }
        Ok((effects, queued, r))
    }
}

/// Reminder instants of a task with a deadline: `days` before the due date
/// at the start of the business day, then the due instant itself. Pure.
pub fn task_steps(due: DateTime<Utc>, days: &[u32], cal: &BusinessCalendar) -> Vec<(DateTime<Utc>, String)> {
    let due_day = cal.local_date(due);
    let mut v: Vec<(DateTime<Utc>, String)> = days
        .iter()
        .filter_map(|d| {
            due_day
                .checked_sub_days(chrono::Days::new(u64::from(*d)))
                .map(|day| (cal.at_local(day, cal.day_start), format!("recordatorio{d}")))
        })
        .collect();
    v.push((due, "vencida".to_string()));
    v.sort();
    v
}

/// What the `recordatorio_tarea` template sees: the item, its deadline and
/// the command that closes it.
fn reminder_context(
    app: &App,
    id: &str,
    summary: &str,
    order: Option<&str>,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    command: String,
) -> serde_json::Value {
    let s = &app.settings;
    json!({
        "desk": {"name": s.name, "address": s.address},
        "task": {"id": id, "summary": summary, "due_at": local_fmt(&s.calendar, due), "order": order},
        "overdue": due <= now,
        "command": command,
        "days_left": (s.calendar.local_date(due) - s.calendar.local_date(now)).num_days(),
    })
}

/// One alert task's due reminder (earlier ones coalesced away).
fn task_job(app: &App, store: &Store, t: &Task, now: DateTime<Utc>) -> Result<(Vec<Effect>, usize), StoreError> {
    let s = &app.settings;
    let mut effects: Vec<Effect> = Vec::new();
    let (Some(due), true) = (t.due_at, t.state != "hecha") else { return Ok((effects, 0)) };
    let Some(kind) = t.kind.strip_prefix("alerta_") else { return Ok((effects, 0)) };
    let reached: Vec<String> = task_steps(due, &remind_days(app, kind), &s.calendar)
        .into_iter()
        .filter(|(at, _)| *at <= now)
        .map(|(_, k)| format!("task:{}:{k}", t.id))
        .collect();
    let Some(last) = reached.last().cloned() else { return Ok((effects, 0)) };
    let mut queued = 0;
    for k in &reached[..reached.len() - 1] {
        if !store.job_done(k)? {
            effects.push(Effect::JobDone { key: k.clone(), at: now });
        }
    }
    if !store.job_done(&last)? {
        let ctx = reminder_context(app, &t.id, &t.summary, t.order.as_deref(), due, now, format!("#hecho {}", t.id));
        match generated(
            app,
            "recordatorio_tarea",
            last.replace(':', "-"),
            vec![t.assignee.clone()],
            &ctx,
            now,
            &[],
            t.order.clone(),
        ) {
            Ok(e) => {
                effects.push(e);
                queued += 1;
            }
            Err(e) => tracing::error!("Cannot send {last}: {e}"),
        }
        effects.push(Effect::JobDone { key: last, at: now });
    }
    Ok((effects, queued))
}

/// Document review of an order: a warning to the assistant at the start of
/// the business day it is due, an escalation to the executive once overdue
/// (until `#revisado`). Keys carry the due instant, so new documents (a new
/// due time) start a new pair. Pure: (step to fire, keys coalesced away).
pub fn review_step(
    order: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    cal: &BusinessCalendar,
    done: &dyn Fn(&str) -> bool,
) -> (Option<(String, bool)>, Vec<String>) {
    let stamp = due.format("%Y%m%dT%H%M");
    let warn_key = format!("review:{order}:{stamp}:aviso");
    let late_key = format!("review:{order}:{stamp}:vencida");
    let warn_at = review_warning(due, cal);
    if now >= due {
        let skipped = if done(&warn_key) { vec![] } else { vec![warn_key] };
        return ((!done(&late_key)).then_some((late_key, true)), skipped);
    }
    if now >= warn_at && !done(&warn_key) {
        return (Some((warn_key, false)), vec![]);
    }
    (None, vec![])
}

/// The review warning: the start of the business day it is due.
fn review_warning(due: DateTime<Utc>, cal: &BusinessCalendar) -> DateTime<Utc> {
    cal.at_local(cal.local_date(due), cal.day_start).min(due)
}

/// One order's due review step.
fn review_job(app: &App, store: &Store, o: &Order, now: DateTime<Utc>) -> Result<(Vec<Effect>, usize), StoreError> {
    let s = &app.settings;
    let mut queued = 0;
    let (Some(due), true) = (o.review_due, o.is_open()) else { return Ok((Vec::new(), 0)) };
    {
        let done = |k: &str| store.job_done(k).unwrap_or(false);
        let (fire, skipped) = review_step(&o.id, due, now, &s.calendar, &done);
        let mut effects: Vec<Effect> = skipped.into_iter().map(|key| Effect::JobDone { key, at: now }).collect();
        if let Some((key, overdue)) = fire {
            let client = app.directory.client(&o.client);
            let assistant = client.map(|c| c.assistant.clone()).unwrap_or_else(|| s.default_assistant.clone());
            let mut to = vec![assistant];
            if overdue && let Some(c) = client {
                to.push(c.executive.clone());
            }
            let summary = format!("Revisar los documentos de la orden {} ({})", o.id, o.client);
            let ctx = reminder_context(app, &o.id, &summary, Some(&o.id), due, now, format!("#revisado {}", o.id));
            match generated(
                app,
                "recordatorio_tarea",
                key.replace(':', "-"),
                to,
                &ctx,
                now,
                &o.message_ids,
                Some(o.id.clone()),
            ) {
                Ok(e) => {
                    effects.push(e);
                    queued += 1;
                }
                Err(e) => tracing::error!("Cannot send {key}: {e}"),
            }
            effects.push(Effect::JobDone { key, at: now });
        }
        Ok((effects, queued))
    }
}

/// The job key of a client's scheduled status summary due at `now`, if one
/// is: daily on business days, weekly on its weekday (the week's key, so a
/// summary missed on Monday still goes out once, late). Pure.
pub fn status_slot(s: &crate::clients::StatusSchedule, now: DateTime<Utc>, cal: &BusinessCalendar) -> Option<String> {
    let time = chrono::NaiveTime::parse_from_str(&s.time, "%H:%M").ok()?;
    let today = cal.local_date(now);
    match s.frequency.as_str() {
        "daily" => (cal.is_business_day(today) && cal.at_local(today, time) <= now).then(|| today.to_string()),
        _ => {
            use chrono::Datelike;
            let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
            let day = monday + chrono::Days::new(u64::from(s.weekday.saturating_sub(1)));
            (cal.at_local(day, time) <= now).then(|| {
                let w = day.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            })
        }
    }
}

/// The next instant after `now` at which a status schedule falls due. Pure.
pub fn next_status_slot(
    s: &crate::clients::StatusSchedule,
    now: DateTime<Utc>,
    cal: &BusinessCalendar,
) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    let time = chrono::NaiveTime::parse_from_str(&s.time, "%H:%M").ok()?;
    let today = cal.local_date(now);
    (0..=21u64).filter_map(|d| today.checked_add_days(chrono::Days::new(d))).find_map(|day| {
        let fits = match s.frequency.as_str() {
            "daily" => cal.is_business_day(day),
            _ => day.weekday().number_from_monday() == u32::from(s.weekday.clamp(1, 7)),
        };
        let at = cal.at_local(day, time);
        (fits && at > now).then_some(at)
    })
}

fn run_status_schedules(app: &App, store: &Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let s = &app.settings;
    let mut queued = 0;
    for c in &app.directory.clients {
        let Some(sched) = &c.status else { continue };
        let Some(slot) = status_slot(sched, now, &s.calendar) else { continue };
        let key = format!("status:{}:{slot}", c.id);
        if store.job_done(&key)? {
            continue;
        }
        let mut effects = vec![Effect::JobDone { key: key.clone(), at: now }];
        let (orders, total) = store.open_orders_of_client(&c.id, 10)?;
        // Only to the client's own registered addresses.
        let to: Vec<String> = sched
            .recipients
            .iter()
            .map(|r| r.to_ascii_lowercase())
            .filter(|r| app.directory.belongs_to(r, &c.id))
            .collect();
        if !orders.is_empty() && !to.is_empty() {
            let ctx = json!({
                "desk": {"name": s.name, "address": s.address},
                "client": {"id": c.id, "name": c.name},
                "sender": {"name": c.name, "address": to[0]},
                "mail": {"subject": format!("Estado de sus órdenes — {}", c.name), "date": local_fmt(&s.calendar, now), "excerpt": ""},
                "orders": orders.iter().map(|o| crate::desk::order_context(&app.rules.desk, &s.calendar, o)).collect::<Vec<_>>(),
                "more": total.saturating_sub(orders.len()),
                "now": local_fmt(&s.calendar, now),
            });
            match generated(app, "estado_programado", key.replace(':', "-"), to, &ctx, now, &[], None) {
                Ok(e) => {
                    effects.push(e);
                    queued += 1;
                }
                Err(e) => tracing::error!("Cannot send {key}: {e}"),
            }
        }
        store.commit(None, &effects)?;
    }
    Ok(queued)
}

fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, StoreError>>) -> Result<T, StoreError> {
    h.join().unwrap_or_else(|_| Err(StoreError::Corrupt("a reader thread panicked".into())))
}

/// The digest of `assistant` as it would be sent at `now`.
pub fn render_digest(
    app: &App,
    store: &Store,
    assistant: &str,
    now: DateTime<Utc>,
) -> Result<(crate::digest::Digest, serde_json::Value), StoreError> {
    let since = store.job_at(&format!("digest_last:{assistant}"))?;
    // Decoding the records is most of the cost: the three kinds in parallel.
    let (orders, reclamos, tasks) = std::thread::scope(|scope| {
        let orders = scope.spawn(|| store.open_orders());
        let reclamos = scope.spawn(|| store.reclamos());
        let tasks = store.tasks();
        (joined(orders), joined(reclamos), tasks)
    });
    let d = crate::digest::build(assistant, now, since, &app.settings, &app.directory, &orders?, &reclamos?, &tasks?);
    let ctx = json!({
        "desk": {"name": app.settings.name, "address": app.settings.address},
        "now": local_fmt(&app.settings.calendar, now),
        "digest": d,
    });
    Ok((d, ctx))
}

fn run_digests(app: &App, store: &Store, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let s = &app.settings;
    let Some(slot) = crate::digest::due_slot(s, now) else { return Ok(0) };
    let mut queued = 0;
    for a in crate::digest::assistants(s, &app.directory) {
        let key = crate::digest::key(&a, now, s, slot);
        if store.job_done(&key)? {
            continue;
        }
        let (d, ctx) = render_digest(app, store, &a, now)?;
        let mut effects = vec![Effect::JobDone { key: key.clone(), at: now }];
        if !d.is_empty() || s.digest_when_empty {
            match generated(app, "resumen_asistente", key.replace(':', "-"), vec![a.clone()], &ctx, now, &[], None) {
                Ok(e) => {
                    effects.push(e);
                    effects.push(Effect::JobDone { key: format!("digest_last:{a}"), at: now });
                    queued += 1;
                }
                Err(e) => tracing::error!("Cannot send {key}: {e}"),
            }
        }
        store.commit(None, &effects)?;
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    fn reclamo(received: &str) -> Reclamo {
        let cal = BusinessCalendar::default();
        Reclamo {
            id: "R-000001".into(),
            client: None,
            order: None,
            received_at: at(received),
            due_at: cal.add_business_hours(at(received), 24.0),
            state: "escalado".into(),
            from: "a@b.test".into(),
            subject: "x".into(),
            excerpt: "x".into(),
            message_ids: vec![],
            resolution: None,
            history: vec![],
        }
    }

    #[test]
    fn friday_before_a_holiday_monday_steps_at_the_right_business_instants() {
        // Friday 26 June 2026 16:30; Monday 29 June is a holiday.
        let cal = BusinessCalendar::default();
        let r = reclamo("2026-06-26T16:30:00-05:00");
        assert_eq!(r.due_at, at("2026-07-02T13:30:00-05:00"));
        let none = |_: &str| false;
        let step = |now: &str| reclamo_step(&r, at(now), &cal, 24, &[50, 90], &none);
        assert_eq!(step("2026-06-29T12:00:00-05:00"), (None, vec![]), "holiday: nothing");
        // 50 % = 12 h: 1.5 Fri + 9 Tue + 1.5 Wed → Wed 10:30.
        assert_eq!(step("2026-07-01T10:29:00-05:00").0, None);
        assert_eq!(step("2026-07-01T10:30:00-05:00").0, Some(Step::Aviso(50)));
        // 90 % = 21.6 h → Thu 11:06.
        assert_eq!(step("2026-07-02T11:06:00-05:00").0, Some(Step::Aviso(90)));
        let late = step("2026-07-02T13:30:00-05:00");
        assert_eq!(late.0, Some(Step::Vencido));
        assert_eq!(
            late.1,
            vec!["reclamo:R-000001:aviso50".to_string(), "reclamo:R-000001:aviso90".to_string()],
            "coalesced"
        );
        let mut resolved = r.clone();
        resolved.state = "resuelto".into();
        assert_eq!(
            reclamo_step(&resolved, at("2026-07-03T10:00:00-05:00"), &cal, 24, &[50, 90], &none),
            (None, vec![])
        );
        let all_done = |_: &str| true;
        assert_eq!(reclamo_step(&r, at("2026-07-03T10:00:00-05:00"), &cal, 24, &[50, 90], &all_done), (None, vec![]));
        let next = reclamo_instants(&r, &cal, 24, &[50, 90])
            .into_iter()
            .filter(|t| *t > at("2026-06-29T12:00:00-05:00"))
            .min();
        assert_eq!(next, Some(at("2026-07-01T10:30:00-05:00")));
    }
}
