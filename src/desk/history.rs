//! Mail imported on going live (`import_existing = true`) is history: it is
//! decided at the time its Date says it was written, nothing is sent, the
//! reclamos and tasks of mail older than `import_closed_after_days` are
//! recorded closed as imported, and no clock step that fell in the past —
//! a warning, an overdue escalation, a review, a reminder — ever fires.

use chrono::{DateTime, Duration, Utc};

use super::deadlines::{self, remind_days, review_warning, task_steps};
use super::effect::{Effect, JobKey, Step, Subject};
use super::model::{HistoryEntry, ReclamoState, TaskState};
use super::{Decision, Desk};

/// The instant a mail counts from: its Date, never later than `now` (a
/// clock ahead of ours) nor absurdly early.
pub fn written_at(date: Option<&str>, now: DateTime<Utc>) -> DateTime<Utc> {
    date.and_then(|d| DateTime::parse_from_rfc3339(d).ok())
        .map(|d| d.with_timezone(&Utc))
        .filter(|d| *d > now - Duration::days(3660))
        .map(|d| d.min(now))
        .unwrap_or(now)
}

/// Rewrite the decision of an imported mail, written at `written`, for the
/// store at `now`.
pub fn as_history(decision: &mut Decision, desk: &Desk<'_>, written: DateTime<Utc>, now: DateTime<Utc>) {
    let s = desk.settings;
    let rules = &desk.rules.desk;
    let old = now - written > Duration::days(i64::from(s.import_closed_after_days));
    let day = written.with_timezone(&s.calendar.tz).format("%d/%m/%Y").to_string();
    let mut done: Vec<JobKey> = Vec::new();
    let mut schedules: Vec<Effect> = Vec::new();
    let mut keeps_open_task = false;
    decision.effects.retain(|e| !matches!(e, Effect::Queue { .. } | Effect::CountReply { .. }));
    for e in &mut decision.effects {
        match e {
            Effect::SaveReclamo(r) => {
                if old && r.is_open() {
                    r.state = ReclamoState::Importado;
                    r.closed_at = Some(now);
                    r.history.push(HistoryEntry::internal(
                        now,
                        format!("Importado como historia al poner en marcha el sistema (correo del {day})"),
                    ));
                }
                let names = s.reclamo_warnings.iter().map(|p| Step::Aviso(*p)).chain([Step::Vencido]);
                for (at, step) in deadlines::reclamo_instants(r, &s.calendar, s.reclamo_hours, &s.reclamo_warnings)
                    .into_iter()
                    .zip(names)
                {
                    if at <= now {
                        done.push(JobKey::Reclamo { id: r.id.clone(), step });
                    }
                }
                schedules.push(deadlines::schedule_reclamo(r, s, Some(now)));
            }
            Effect::SaveTask(t) => {
                if old && t.is_open() {
                    t.state = TaskState::Importada;
                    t.history.push(HistoryEntry::internal(
                        now,
                        format!("Importada como historia al poner en marcha el sistema (correo del {day})"),
                    ));
                }
                keeps_open_task |= t.is_open();
                if let (Some(due), Some(kind)) = (t.due_at, deadlines::alert_kind(t)) {
                    for (at, days_before) in task_steps(due, &remind_days(rules, kind), &s.calendar) {
                        if at <= now {
                            done.push(JobKey::TaskReminder { id: t.id.clone(), days_before });
                        }
                    }
                }
                schedules.push(deadlines::schedule_task(t, s, rules, Some(now)));
            }
            Effect::SaveOrder(o) => {
                if let Some(due) = o.review_due {
                    if review_warning(due, &s.calendar) <= now {
                        done.push(JobKey::Review { order: o.id.clone(), due, overdue: false });
                    }
                    if due <= now {
                        done.push(JobKey::Review { order: o.id.clone(), due, overdue: true });
                    }
                }
                schedules.push(deadlines::schedule_order(o, s, Some(now)));
            }
            _ => {}
        }
    }
    if !keeps_open_task {
        decision.effects.retain(|e| !matches!(e, Effect::KeepOriginal { .. }));
    }
    // The schedule as from now: the earlier entries of the same subjects go.
    let subjects: Vec<Subject> = schedules
        .iter()
        .filter_map(|e| match e {
            Effect::Schedule { subject, .. } => Some(subject.clone()),
            _ => None,
        })
        .collect();
    decision.effects.retain(|e| !matches!(e, Effect::Schedule { subject, .. } if subjects.contains(subject)));
    decision.effects.extend(schedules);
    decision.effects.extend(done.into_iter().map(|key| Effect::JobDone { key, at: now }));
    decision.outcome.push(if old {
        format!("imported as history (written {day}): nothing sent, reclamos and tasks closed")
    } else {
        format!("imported (written {day}): nothing sent, past steps not run")
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_counts_from_its_date_never_from_the_future() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00-05:00")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        let t = |s: &str| written_at(Some(s), now);
        assert_eq!(t("2026-08-03T09:00:00-05:00").to_rfc3339(), "2026-08-03T14:00:00+00:00");
        assert_eq!(t("2027-01-01T09:00:00-05:00"), now, "a sender's clock ahead of ours");
        assert_eq!(t("1970-01-01T00:00:00+00:00"), now, "no Date worth the name");
        assert_eq!(written_at(None, now), now);
    }
}
