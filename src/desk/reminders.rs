//! Time jobs of the records with a clock (the schedule index's subjects):
//! a reclamo's warnings to the supervisors and its overdue escalation (also
//! to the managers), an order's document review, an alert task's reminders.
//! Each step is sent once (by its job key); after an outage only the latest
//! step reached goes out, the earlier ones are coalesced.

use std::collections::BTreeSet;

use serde_json::json;

use super::context::{desk_block, local_fmt};
use super::deadlines::{self, remind_days, review_step, task_steps};
use super::draft::Draft;
use super::effect::{Effect, JobKey, Step, Subject};
use super::model::{HistoryEntry, Order, Reclamo, Task};
use super::reply::{Letter, Threading};
use super::view::ViewResult;

/// Handle one subject the index says is due, and schedule its next step.
pub fn handle(d: &mut Draft<'_>, subject: &Subject) -> ViewResult<()> {
    let s = d.desk.settings;
    let after = Some(d.now);
    let next = match subject {
        Subject::Reclamo(id) => match d.reclamo(id)? {
            Some(r) => reclamo(d, r)?,
            None => None,
        },
        Subject::Review(id) => match d.order(id)? {
            Some(mut o) => {
                review(d, &o)?;
                let noticed = super::follow::due(d, &mut o)?;
                if super::counterparts::order_due(d, &mut o)? || noticed {
                    d.save_order(o.clone());
                }
                Some(deadlines::schedule_order(&o, s, after))
            }
            None => None,
        },
        Subject::Task(id) => match d.task(id)? {
            Some(t) => {
                if super::counterparts::is_request_task(&t) {
                    super::counterparts::overdue(d, &t)?;
                } else {
                    task_reminder(d, &t)?;
                }
                Some(deadlines::schedule_task(&t, s, &d.desk.rules.desk, after))
            }
            None => None,
        },
    };
    // A record saved by the job is rescheduled with it (`Draft::finish`).
    d.push(next.unwrap_or(Effect::Schedule { subject: subject.clone(), at: None }));
    Ok(())
}

/// Which of these jobs ran (a read error stops the job: nothing is
/// guessed).
fn done_set(d: &Draft<'_>, keys: impl Iterator<Item = JobKey>) -> ViewResult<BTreeSet<JobKey>> {
    let mut done = BTreeSet::new();
    for k in keys {
        if d.view.job_done(&k)? {
            done.insert(k);
        }
    }
    Ok(done)
}

/// A generated-mail id from its job key (`reclamo-R-000001-aviso50`).
fn mail_id(key: &JobKey) -> String {
    match key {
        JobKey::Reclamo { id, step: Step::Aviso(p) } => format!("reclamo-{id}-aviso{p}"),
        JobKey::Reclamo { id, step: Step::Vencido } => format!("reclamo-{id}-vencido"),
        JobKey::Review { order, due, overdue } => {
            format!("review-{order}-{}-{}", due.format("%Y%m%dT%H%M"), if *overdue { "vencida" } else { "aviso" })
        }
        JobKey::TaskReminder { id, days_before: Some(n) } => format!("task-{id}-recordatorio{n}"),
        JobKey::TaskReminder { id, days_before: None } => format!("task-{id}-vencida"),
        JobKey::Digest { assistant, date, slot } => format!("digest-{assistant}-{date}-{}", slot.format("%H-%M")),
        JobKey::DigestLast { assistant } => format!("digest_last-{assistant}"),
        JobKey::Status { client, slot } => format!("status-{client}-{slot}"),
        JobKey::SourceStopped { date } => format!("source-stopped-{date}"),
        JobKey::SupervisorDigest { date, slot } => format!("supervisor-digest-{date}-{}", slot.format("%H-%M")),
        JobKey::ClosingList { assistant, week } => format!("archivo-{assistant}-{week}"),
        JobKey::ExtrasReport { executive, month } => format!("extras-{executive}-{month}"),
    }
}

/// The mail id of a job (for the time jobs of other files).
pub fn job_mail_id(key: &JobKey) -> String {
    mail_id(key)
}

/// A reclamo's due step. Returns `None`: the reclamo is saved (and so
/// rescheduled) by the draft, or `Some(schedule)` when it is not.
fn reclamo(d: &mut Draft<'_>, mut r: Reclamo) -> ViewResult<Option<Effect>> {
    let desk = d.desk;
    let s = desk.settings;
    let steps = s.reclamo_warnings.iter().map(|p| Step::Aviso(*p)).chain([Step::Vencido]);
    let done = done_set(d, steps.map(|step| JobKey::Reclamo { id: r.id.clone(), step }))?;
    let (fire, skipped) = deadlines::reclamo_step(&r, d.now, s, &|k| done.contains(k));
    for key in skipped {
        d.push(Effect::JobDone { key, at: d.now });
    }
    let Some(step) = fire else {
        return Ok(Some(deadlines::schedule_reclamo(&r, s, Some(d.now))));
    };
    let executive = desk.executive_of(r.client.as_deref());
    let mut to = s.supervisors.clone();
    if step == Step::Vencido {
        to.extend(s.managers.iter().cloned());
    }
    if let Some(e) = executive.clone() {
        to.push(e);
    }
    to.dedup();
    let left = s.calendar.business_hours_between(d.now, r.due_at);
    let client = r.client.as_deref().and_then(|c| desk.directory.client(c)).map(|c| c.name.clone());
    let ctx = json!({
        "desk": desk_block(s),
        "reclamo": {"id": r.id, "due_at": local_fmt(&s.calendar, r.due_at), "received_at": local_fmt(&s.calendar, r.received_at),
                    "excerpt": r.excerpt, "from": r.from, "order": r.order, "subject": r.subject, "state": r.state},
        "client": {"name": client},
        "executive": executive,
        "overdue": step == Step::Vencido,
        "percent": match step { Step::Aviso(p) => p, Step::Vencido => 100 },
        "hours_left": format!("{left:.1}"),
    });
    let key = JobKey::Reclamo { id: r.id.clone(), step };
    let refs = r.message_ids.clone();
    let letter = Letter {
        template: "reclamo_aviso",
        to,
        ctx: &ctx,
        threading: Threading::Notice { references: &refs },
        order: r.order.as_deref(),
        id: Some(mail_id(&key)),
    };
    if d.send(letter).is_some() {
        let what = match step {
            Step::Aviso(p) => format!("Aviso a supervisión: {p}% del plazo transcurrido"),
            Step::Vencido => "Plazo vencido: escalado a supervisión y gerencia".to_string(),
        };
        r.history.push(HistoryEntry::public(d.now, what));
    }
    d.push(Effect::JobDone { key, at: d.now });
    d.save_reclamo(r);
    Ok(None)
}

/// What the `recordatorio_tarea` template sees: the item, its deadline and
/// the command that closes it.
fn reminder_context(
    d: &Draft<'_>,
    id: &str,
    summary: &str,
    order: Option<&str>,
    due: chrono::DateTime<chrono::Utc>,
    command: String,
) -> serde_json::Value {
    let s = d.desk.settings;
    json!({
        "desk": desk_block(s),
        "task": {"id": id, "summary": summary, "due_at": local_fmt(&s.calendar, due), "order": order},
        "overdue": due <= d.now,
        "command": command,
        "days_left": (s.calendar.local_date(due) - s.calendar.local_date(d.now)).num_days(),
    })
}

/// One alert task's due reminder (earlier ones coalesced away).
fn task_reminder(d: &mut Draft<'_>, t: &Task) -> ViewResult<()> {
    let desk = d.desk;
    let (Some(due), true, Some(kind)) = (t.due_at, t.is_open(), deadlines::alert_kind(t)) else { return Ok(()) };
    let reached: Vec<JobKey> = task_steps(due, &remind_days(&desk.rules.desk, kind), &desk.settings.calendar)
        .into_iter()
        .filter(|(at, _)| *at <= d.now)
        .map(|(_, days_before)| JobKey::TaskReminder { id: t.id.clone(), days_before })
        .collect();
    let Some((last, earlier)) = reached.split_last() else { return Ok(()) };
    for k in earlier {
        if !d.view.job_done(k)? {
            d.push(Effect::JobDone { key: k.clone(), at: d.now });
        }
    }
    if !d.view.job_done(last)? {
        let ctx = reminder_context(d, &t.id, &t.summary, t.order.as_deref(), due, format!("#hecho {}", t.id));
        let mut to = vec![t.assignee.clone()];
        // A liquidation unpaid on its deadline: the executive is told too.
        if t.kind == super::commands::LIQUIDATION_TASK
            && matches!(last, JobKey::TaskReminder { days_before: None, .. })
            && let Some(e) = desk.executive_of(t.client.as_deref())
            && !to.contains(&e)
        {
            to.push(e);
        }
        let letter = Letter {
            template: "recordatorio_tarea",
            to,
            ctx: &ctx,
            threading: Threading::Notice { references: &[] },
            order: t.order.as_deref(),
            id: Some(mail_id(last)),
        };
        d.send(letter);
        d.push(Effect::JobDone { key: last.clone(), at: d.now });
    }
    Ok(())
}

/// An order's due review step: the assistant on the morning it is due, the
/// executive too once overdue (until `#revisado`).
fn review(d: &mut Draft<'_>, o: &Order) -> ViewResult<()> {
    let desk = d.desk;
    let (Some(due), true) = (o.review_due, o.is_open()) else { return Ok(()) };
    let done =
        done_set(d, [false, true].map(|overdue| JobKey::Review { order: o.id.clone(), due, overdue }).into_iter())?;
    let (fire, skipped) = review_step(&o.id, due, d.now, &desk.settings.calendar, &|k| done.contains(k));
    for key in skipped {
        d.push(Effect::JobDone { key, at: d.now });
    }
    let Some((key, overdue)) = fire else { return Ok(()) };
    let client = desk.directory.client(&o.client);
    let mut to = vec![desk.assistant_of(Some(&o.client))];
    if overdue && let Some(c) = client {
        to.push(c.executive.clone());
    }
    let summary = format!("Revisar los documentos de la orden {} ({})", o.id, o.client);
    let ctx = reminder_context(d, &o.id, &summary, Some(&o.id), due, format!("#revisado {}", o.id));
    let letter = Letter {
        template: "recordatorio_tarea",
        to,
        ctx: &ctx,
        threading: Threading::Notice { references: &o.message_ids },
        order: Some(&o.id),
        id: Some(mail_id(&key)),
    };
    d.send(letter);
    d.push(Effect::JobDone { key, at: d.now });
    Ok(())
}
