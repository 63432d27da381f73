//! The `[desk]` table: who the desk is, its supervisors, its business hours
//! and deadlines, its reply limits and digests — checked into `Settings`.

use super::*;

pub(super) fn desk(c: &mut Check<'_>, d: &raw::DeskConfig) -> crate::desk::Settings {
    let tz = d.timezone.get_ref().parse::<chrono_tz::Tz>().unwrap_or_else(|_| {
        c.at(d.timezone.span(), format!("unknown time zone `{}` (e.g. \"America/Lima\")", d.timezone.get_ref()));
        chrono_tz::America::Lima
    });
    let day_start = c.time(&d.day_start, "", "is not a time of day HH:MM");
    let day_end = c.time(&d.day_end, "", "is not a time of day HH:MM");
    if day_end <= day_start {
        c.at(d.day_end.span(), "day_end must be after day_start");
    }
    if d.work_days.is_empty() || d.work_days.iter().any(|w| !(1..=7).contains(w)) {
        c.at(d.day_start.span(), "work_days must list weekdays 1 (Monday) to 7 (Sunday)");
    }
    let mut extra_holidays = Vec::new();
    for h in &d.extra_holidays {
        match chrono::NaiveDate::parse_from_str(h.get_ref(), "%Y-%m-%d") {
            Ok(day) => extra_holidays.push(day),
            Err(_) => c.at(h.span(), format!("`{}` is not a date YYYY-MM-DD", h.get_ref())),
        }
    }
    let prefix = d.order_prefix.get_ref();
    if prefix.is_empty() || !prefix.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        c.at(d.order_prefix.span(), format!("order_prefix `{prefix}` must be letters and digits only"));
    }
    let people = std::iter::once(&d.address)
        .chain(&d.supervisors)
        .chain(&d.managers)
        .chain(&d.assistants)
        .chain(&d.administracion)
        .chain(std::iter::once(&d.default_assistant));
    for a in people {
        if !valid_address(a.get_ref()) {
            c.at(a.span(), format!("`{}` is not a mail address", a.get_ref()));
        }
    }
    let digest_times: Vec<NaiveTime> =
        d.digest_times.iter().map(|t| c.time(t, "digest time ", "is not HH:MM")).collect();
    let supervisor_digest_times: Vec<NaiveTime> =
        d.supervisor_digest_times.iter().map(|t| c.time(t, "supervisor digest time ", "is not HH:MM")).collect();
    if d.reclamo_warnings.iter().any(|p| !(1..=99).contains(p)) {
        c.at(d.address.span(), "reclamo_warnings are percentages between 1 and 99");
    }
    let closing_list_time = c.time(&d.closing_list_time, "closing_list_time ", "is not HH:MM");
    let extras_report_time = c.time(&d.extras_report_time, "extras_report_time ", "is not HH:MM");
    let closing_list_day = crate::desk::closing::weekday_number(d.closing_list_day.get_ref()).unwrap_or_else(|| {
        c.at(
            d.closing_list_day.span(),
            format!(
                "closing_list_day `{}` is not a weekday; use lunes, martes, miércoles, jueves, viernes, sábado or domingo",
                d.closing_list_day.get_ref()
            ),
        );
        1
    });
    if d.supervisors.is_empty() {
        c.at(d.address.span(), "[desk] needs at least one address in `supervisors`: reclamos must reach someone");
    }
    crate::desk::Settings {
        address: d.address.get_ref().to_ascii_lowercase(),
        name: d.name.clone(),
        supervisors: addresses(&d.supervisors),
        managers: addresses(&d.managers),
        assistants: addresses(&d.assistants),
        administracion: addresses(&d.administracion),
        default_assistant: d.default_assistant.get_ref().to_ascii_lowercase(),
        order_prefix: prefix.clone(),
        reclamo_hours: d.reclamo_hours,
        reclamo_warnings: d.reclamo_warnings.clone(),
        digest_times,
        digest_when_empty: d.digest_when_empty,
        review_hours: d.review_hours,
        replies_per_hour: d.replies_per_sender_hour,
        replies_per_day: d.replies_per_sender_day,
        stranger_replies_per_hour: d.stranger_replies_per_hour,
        stranger_replies_per_day: d.stranger_replies_per_day,
        supervisor_digest_times,
        notify_at_once: d
            .notify_at_once
            .clone()
            .unwrap_or_else(|| crate::desk::NOTIFY_AT_ONCE.iter().map(|k| k.to_string()).collect()),
        import_closed_after_days: d.import_closed_after_days,
        eta_notice_hours: d.eta_notice_hours,
        requests: crate::desk::RequestSettings {
            previo_hours: d.request_hours.previo,
            retiro_hours: d.request_hours.retiro,
            llegada_hours: d.request_hours.llegada,
            bl_hours: d.request_hours.bl,
            volante_hours: d.request_hours.volante,
            arrival_check_hours: d.arrival_check_hours,
            volante_days: d.volante_days,
        },
        max_attachment_bytes: 40 * 1024 * 1024,
        calendar: BusinessCalendar { tz, day_start, day_end, work_days: d.work_days.clone(), extra_holidays },
        closing_list_day,
        closing_list_time,
        extras_report_time,
    }
}
