//! When things fall due, in business time. Pure: (record, calendar, now) →
//! instants and steps. The scheduler's index holds, per record, the next of
//! these instants; the time jobs ask which step is due.

use chrono::{DateTime, Datelike, NaiveTime, Utc};

use super::Settings;
use super::effect::{Effect, JobKey, Step, Subject};
use super::model::{Order, Reclamo, Task};
use crate::calendar::BusinessCalendar;
use crate::clients::StatusSchedule;
use crate::rules::checklists::DeskRules;

/// The instants at which a reclamo's clock steps (warnings, then due);
/// none once it is resolved.
pub fn reclamo_instants(r: &Reclamo, cal: &BusinessCalendar, hours: u32, warnings: &[u32]) -> Vec<DateTime<Utc>> {
    if !r.is_open() {
        return Vec::new();
    }
    warnings
        .iter()
        .map(|p| cal.add_business_hours(r.received_at, f64::from(hours) * f64::from(*p) / 100.0))
        .chain(std::iter::once(r.due_at))
        .collect()
}

/// What to do now for one reclamo: the step to fire (if any) and the
/// earlier steps that are coalesced away (an outage never sends a stale
/// warning: only the latest step reached).
pub fn reclamo_step(
    r: &Reclamo,
    now: DateTime<Utc>,
    s: &Settings,
    done: &dyn Fn(&JobKey) -> bool,
) -> (Option<Step>, Vec<JobKey>) {
    let names = s.reclamo_warnings.iter().map(|p| Step::Aviso(*p)).chain(std::iter::once(Step::Vencido));
    let mut steps: Vec<(DateTime<Utc>, Step)> =
        reclamo_instants(r, &s.calendar, s.reclamo_hours, &s.reclamo_warnings).into_iter().zip(names).collect();
    steps.sort_by_key(|(t, _)| *t);
    let key = |step: Step| JobKey::Reclamo { id: r.id.clone(), step };
    let reached: Vec<Step> = steps.iter().filter(|(t, _)| *t <= now).map(|(_, s)| *s).collect();
    let Some(last) = reached.last().copied() else { return (None, Vec::new()) };
    let skipped: Vec<JobKey> = reached[..reached.len() - 1].iter().map(|s| key(*s)).filter(|k| !done(k)).collect();
    let fire = (!done(&key(last))).then_some(last);
    (fire, skipped)
}

/// The review warning: the start of the business day it is due.
pub fn review_warning(due: DateTime<Utc>, cal: &BusinessCalendar) -> DateTime<Utc> {
    cal.at_local(cal.local_date(due), cal.day_start).min(due)
}

/// The instants of an order's document review (warning, due); none once it
/// is closed or reviewed.
pub fn review_instants(o: &Order, cal: &BusinessCalendar) -> Vec<DateTime<Utc>> {
    match o.review_due {
        Some(due) if o.is_open() => vec![review_warning(due, cal), due],
        _ => Vec::new(),
    }
}

/// An order's document review: a warning on the morning it is due, an
/// escalation once overdue. Keys carry the due instant, so new documents (a
/// new due time) start a new pair. (step to fire: key and overdue?, keys
/// coalesced away).
pub fn review_step(
    order: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
    cal: &BusinessCalendar,
    done: &dyn Fn(&JobKey) -> bool,
) -> (Option<(JobKey, bool)>, Vec<JobKey>) {
    let warn_key = JobKey::Review { order: order.to_string(), due, overdue: false };
    let late_key = JobKey::Review { order: order.to_string(), due, overdue: true };
    if now >= due {
        let skipped = if done(&warn_key) { vec![] } else { vec![warn_key] };
        return ((!done(&late_key)).then_some((late_key, true)), skipped);
    }
    if now >= review_warning(due, cal) && !done(&warn_key) {
        return (Some((warn_key, false)), vec![]);
    }
    (None, vec![])
}

/// Reminder instants of a task with a deadline: `days` before the due date
/// at the start of the business day (`Some(days)`), then the due instant
/// itself (`None`), in time order.
pub fn task_steps(due: DateTime<Utc>, days: &[u32], cal: &BusinessCalendar) -> Vec<(DateTime<Utc>, Option<u32>)> {
    let due_day = cal.local_date(due);
    let mut v: Vec<(DateTime<Utc>, Option<u32>)> = days
        .iter()
        .filter_map(|d| {
            due_day
                .checked_sub_days(chrono::Days::new(u64::from(*d)))
                .map(|day| (cal.at_local(day, cal.day_start), Some(*d)))
        })
        .collect();
    v.push((due, None));
    v.sort_by_key(|(at, _)| *at);
    v
}

/// The reminder days of an alert kind (`rules/checklists.toml`).
pub fn remind_days(rules: &DeskRules, kind: &str) -> Vec<u32> {
    rules.alerts.iter().find(|(a, _)| a.kind == kind).map(|(a, _)| a.remind_days_before.clone()).unwrap_or_default()
}

/// The alert kind of a task that has reminders (`alerta_<kind>`).
pub fn alert_kind(t: &Task) -> Option<&str> {
    t.kind.strip_prefix("alerta_")
}

/// The reminder instants of an alert task with a deadline; none once done.
pub fn task_instants(t: &Task, rules: &DeskRules, cal: &BusinessCalendar) -> Vec<DateTime<Utc>> {
    // A counterpart request's task: its deadline (one reminder).
    if super::counterparts::is_request_task(t) {
        return t.due_at.filter(|_| t.is_open()).into_iter().collect();
    }
    let (Some(due), true, Some(kind)) = (t.due_at, t.is_open(), alert_kind(t)) else { return Vec::new() };
    task_steps(due, &remind_days(rules, kind), cal).into_iter().map(|(at, _)| at).collect()
}

fn first_after(instants: Vec<DateTime<Utc>>, after: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    instants.into_iter().filter(|t| after.is_none_or(|a| *t > a)).min()
}

/// The schedule entry of a saved order: its earliest review step (`after`
/// `None`: even a past one, which the next pass handles or finds done), or
/// its earliest step after `after` (a pass at that instant handled it).
pub fn schedule_order(o: &Order, s: &Settings, after: Option<DateTime<Utc>>) -> Effect {
    // A waiting notice to the client goes when its hour is up (even if
    // that instant is past: the next pass sends it).
    let notice = super::follow::notice_due(o);
    let mut instants = review_instants(o, &s.calendar);
    instants.extend(super::counterparts::order_instants(o, s));
    let at = first_after(instants, after);
    let at = match (at, notice) {
        (Some(a), Some(n)) => Some(a.min(n)),
        (a, n) => a.or(n),
    };
    Effect::Schedule { subject: Subject::Review(o.id.clone()), at }
}

/// The schedule entry of a saved reclamo (see [`schedule_order`]).
pub fn schedule_reclamo(r: &Reclamo, s: &Settings, after: Option<DateTime<Utc>>) -> Effect {
    let instants = reclamo_instants(r, &s.calendar, s.reclamo_hours, &s.reclamo_warnings);
    Effect::Schedule { subject: Subject::Reclamo(r.id.clone()), at: first_after(instants, after) }
}

/// The schedule entry of a saved task (see [`schedule_order`]).
pub fn schedule_task(t: &Task, s: &Settings, rules: &DeskRules, after: Option<DateTime<Utc>>) -> Effect {
    Effect::Schedule {
        subject: Subject::Task(t.id.clone()),
        at: first_after(task_instants(t, rules, &s.calendar), after),
    }
}

/// What the schedule index depends on besides the records themselves: the
/// business calendar, the reclamo clock and the reminder days of alerts.
/// When it changes (a new config), the index is rebuilt.
pub fn signature(s: &Settings, rules: &DeskRules) -> String {
    let alerts: Vec<(&str, &[u32])> =
        rules.alerts.iter().map(|(a, _)| (a.kind.as_str(), a.remind_days_before.as_slice())).collect();
    format!("1|{:?}|{}|{:?}|{alerts:?}|{:?}", s.calendar, s.reclamo_hours, s.reclamo_warnings, s.requests)
}

/// The slot of a client's scheduled status summary due at `now`, if one
/// is: daily on business days, weekly on its weekday (the week's slot, so a
/// summary missed on Monday still goes out once, late).
pub fn status_slot(s: &StatusSchedule, now: DateTime<Utc>, cal: &BusinessCalendar) -> Option<String> {
    let time = NaiveTime::parse_from_str(&s.time, "%H:%M").ok()?;
    let today = cal.local_date(now);
    match s.frequency.as_str() {
        "daily" => (cal.is_business_day(today) && cal.at_local(today, time) <= now).then(|| today.to_string()),
        _ => {
            let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
            let day = monday + chrono::Days::new(u64::from(s.weekday.saturating_sub(1)));
            (cal.at_local(day, time) <= now).then(|| {
                let w = day.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            })
        }
    }
}

/// The next instant after `now` at which a status schedule falls due.
pub fn next_status_slot(s: &StatusSchedule, now: DateTime<Utc>, cal: &BusinessCalendar) -> Option<DateTime<Utc>> {
    let time = NaiveTime::parse_from_str(&s.time, "%H:%M").ok()?;
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

/// The digest slot (local time of day) of today due at `now`: the latest
/// one passed (earlier slots of the day are coalesced).
pub fn digest_slot(s: &Settings, now: DateTime<Utc>) -> Option<NaiveTime> {
    let cal = &s.calendar;
    let today = cal.local_date(now);
    if !cal.is_business_day(today) {
        return None;
    }
    s.digest_times.iter().copied().filter(|t| cal.at_local(today, *t) <= now).max()
}

/// The next digest slot strictly after `now` (on a business day).
pub fn next_digest_slot(s: &Settings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cal = &s.calendar;
    let today = cal.local_date(now);
    (0..=31u64)
        .filter_map(|d| today.checked_add_days(chrono::Days::new(d)))
        .filter(|day| cal.is_business_day(*day))
        .find_map(|day| s.digest_times.iter().map(|t| cal.at_local(day, *t)).filter(|at| *at > now).min())
}

#[cfg(test)]
mod tests {
    use super::super::model::ReclamoState;
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
            state: ReclamoState::Escalado,
            from: "a@b.test".into(),
            from_name: String::new(),
            subject: "x".into(),
            excerpt: "x".into(),
            message_ids: vec![],
            resolution: None,
            history: vec![],
            closed_at: None,
        }
    }

    fn key(step: Step) -> JobKey {
        JobKey::Reclamo { id: "R-000001".into(), step }
    }

    #[test]
    fn friday_before_a_holiday_monday_steps_at_the_right_business_instants() {
        // Friday 26 June 2026 16:30; Monday 29 June is a holiday.
        let s = Settings::default();
        let r = reclamo("2026-06-26T16:30:00-05:00");
        assert_eq!(r.due_at, at("2026-07-02T13:30:00-05:00"));
        let none = |_: &JobKey| false;
        let step = |now: &str| reclamo_step(&r, at(now), &s, &none);
        assert_eq!(step("2026-06-29T12:00:00-05:00"), (None, vec![]), "holiday: nothing");
        // 50 % = 12 h: 1.5 Fri + 9 Tue + 1.5 Wed → Wed 10:30.
        assert_eq!(step("2026-07-01T10:29:00-05:00").0, None);
        assert_eq!(step("2026-07-01T10:30:00-05:00").0, Some(Step::Aviso(50)));
        // 90 % = 21.6 h → Thu 11:06.
        assert_eq!(step("2026-07-02T11:06:00-05:00").0, Some(Step::Aviso(90)));
        let late = step("2026-07-02T13:30:00-05:00");
        assert_eq!(late.0, Some(Step::Vencido));
        assert_eq!(late.1, vec![key(Step::Aviso(50)), key(Step::Aviso(90))], "coalesced");
        let mut resolved = r.clone();
        resolved.state = ReclamoState::Resuelto;
        assert_eq!(reclamo_step(&resolved, at("2026-07-03T10:00:00-05:00"), &s, &none), (None, vec![]));
        let all_done = |_: &JobKey| true;
        assert_eq!(reclamo_step(&r, at("2026-07-03T10:00:00-05:00"), &s, &all_done), (None, vec![]));
        let next = first_after(reclamo_instants(&r, &s.calendar, 24, &[50, 90]), Some(at("2026-06-29T12:00:00-05:00")));
        assert_eq!(next, Some(at("2026-07-01T10:30:00-05:00")));
    }

    #[test]
    fn a_review_warns_on_the_morning_it_is_due_and_escalates_once_overdue() {
        let cal = BusinessCalendar::default();
        let due = at("2026-12-03T15:00:00-05:00");
        let none = |_: &JobKey| false;
        assert_eq!(review_step("OC-1", due, at("2026-12-03T08:59:00-05:00"), &cal, &none), (None, vec![]));
        let (fire, _) = review_step("OC-1", due, at("2026-12-03T09:00:00-05:00"), &cal, &none);
        assert_eq!(fire, Some((JobKey::Review { order: "OC-1".into(), due, overdue: false }, false)));
        let (fire, skipped) = review_step("OC-1", due, at("2026-12-03T15:00:00-05:00"), &cal, &none);
        assert_eq!(fire.map(|f| f.1), Some(true));
        assert_eq!(skipped.len(), 1, "the warning not sent is coalesced");
    }

    #[test]
    fn task_reminders_come_days_before_at_the_start_of_the_day_then_on_the_deadline() {
        let cal = BusinessCalendar::default();
        let due = at("2026-12-10T18:00:00-05:00");
        let steps = task_steps(due, &[5, 1], &cal);
        assert_eq!(
            steps,
            vec![(at("2026-12-05T09:00:00-05:00"), Some(5)), (at("2026-12-09T09:00:00-05:00"), Some(1)), (due, None)]
        );
    }

    #[test]
    fn digest_slots_are_business_days_only_and_the_latest_passed_slot_is_due() {
        let s = Settings::default();
        // Tuesday 1 Dec 2026, slots 08:30 and 15:00.
        assert_eq!(digest_slot(&s, at("2026-12-01T08:00:00-05:00")), None);
        assert_eq!(digest_slot(&s, at("2026-12-01T16:00:00-05:00")), NaiveTime::from_hms_opt(15, 0, 0));
        // Saturday: none; the next is Monday 08:30.
        assert_eq!(digest_slot(&s, at("2026-12-05T10:00:00-05:00")), None);
        assert_eq!(next_digest_slot(&s, at("2026-12-04T16:00:00-05:00")), Some(at("2026-12-07T08:30:00-05:00")));
    }
}
