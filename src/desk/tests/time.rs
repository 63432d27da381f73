//! Time jobs: reclamo clocks, reviews, reminders, digests, summaries, refusals.

use super::super::effect::{JobKey, Step, Subject};
use super::super::model::{OutboxState, Outgoing};
use super::*;

fn reclamo_at(now: &str) -> World {
    let mut w = World::default();
    w.mail(
        now,
        &text_mail("Ana <aquispe@andestextil.test>", "Demora", "r1@andestextil.test", "Es inaceptable la demora."),
    );
    w
}

fn warnings(w: &World) -> Vec<String> {
    w.sent_of("reclamo_aviso").iter().map(|m| m.id.clone()).collect()
}

#[test]
fn a_reclamo_warns_at_half_its_business_hours() {
    // Tue 1 Dec 10:00 + 12 business hours = Wed 2 Dec 13:00.
    let mut w = reclamo_at("2026-12-01T10:00");
    w.tick("2026-12-02T12:59");
    assert!(warnings(&w).is_empty());
    w.tick("2026-12-02T13:00");
    assert_eq!(warnings(&w), vec!["reclamo-R-000001-aviso50".to_string()]);
    w.tick("2026-12-02T13:30");
    assert_eq!(warnings(&w).len(), 1, "once");
}

#[test]
fn an_overdue_reclamo_reaches_the_managers_too() {
    let mut w = reclamo_at("2026-12-01T10:00");
    w.tick("2026-12-03T16:00");
    let late = w.sent_of("reclamo_aviso");
    assert_eq!(late.len(), 1, "the warnings passed during the outage are coalesced");
    assert_eq!(late[0].id, "reclamo-R-000001-vencido");
    assert!(late[0].to.contains(&"gerencia@cli.test".to_string()));
    assert!(w.mem.jobs.contains_key(&JobKey::Reclamo { id: "R-000001".into(), step: Step::Aviso(50) }));
}

#[test]
fn a_resolved_reclamo_warns_nobody() {
    let mut w = reclamo_at("2026-12-01T10:00");
    w.mail(
        "2026-12-01T11:00",
        &text_mail("Carla <cvega@cli.test>", "x", "c1@cli.test", "#resuelto R-000001 Resuelto con la naviera"),
    );
    assert!(!w.mem.schedule.contains_key(&Subject::Reclamo("R-000001".into())));
    w.tick("2026-12-04T17:00");
    assert!(warnings(&w).is_empty());
}

#[test]
fn after_each_step_the_reclamo_is_scheduled_at_its_next_one() {
    let mut w = reclamo_at("2026-12-01T10:00");
    w.tick("2026-12-02T13:00");
    let next = w.mem.schedule.get(&Subject::Reclamo("R-000001".into())).copied();
    // 90 % of 24 h = 21.6 h from Tue 10:00: Thu 3 Dec 13:36.
    assert_eq!(next, Some(lima("2026-12-03T13:36")));
}

#[test]
fn the_review_warns_the_assistant_on_the_morning_it_is_due_then_the_executive() {
    let mut w = World::default();
    let m = mail_with_pdf(
        "Patricia <phuaman@andestextil.test>",
        "Docs",
        "a1@andestextil.test",
        "Adjunto la factura.",
        "Factura 1.pdf",
        "INVOICE",
    );
    w.mail("2026-12-01T10:00", &m);
    // Due Thu 10 Dec 13:00 (8 and 9 December are holidays): warning at 09:00.
    w.tick("2026-12-10T09:00");
    let r = w.sent_of("recordatorio_tarea");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].to, vec!["asistente1@cli.test".to_string()]);
    w.tick("2026-12-10T13:00");
    let r = w.sent_of("recordatorio_tarea");
    assert_eq!(r.len(), 2);
    assert!(r[1].to.contains(&"cvega@cli.test".to_string()), "the executive once overdue");
}

#[test]
fn alert_tasks_are_reminded_days_before_and_on_the_deadline() {
    let mut w = World::default();
    let alert = text_mail(
        "Alertas CLI <alertas@cli.test>",
        "ALERTA CLI: regularización",
        "al1@cli.test",
        "Tipo: Regularización\nCliente: Andes Textil S.A.C.\nFecha límite: 18/12/2026",
    );
    w.mail("2026-12-01T10:00", &alert);
    let t = w.mem.tasks.values().next().map(|t| t.id.clone()).unwrap_or_default();
    let first = w.mem.schedule.get(&Subject::Task(t.clone())).copied();
    assert!(first.is_some_and(|f| f < lima("2026-12-18T18:00")), "a reminder before the deadline: {first:?}");
    w.tick("2026-12-18T18:00");
    let sent = w.sent_of("recordatorio_tarea");
    assert_eq!(sent.len(), 1, "earlier reminders coalesced: only the latest step");
    assert_eq!(sent[0].id, format!("task-{t}-vencida"));
}

#[test]
fn digests_go_to_each_assistant_once_per_slot() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T08:00",
        &text_mail("Ana <aquispe@andestextil.test>", "Hola", "h1@andestextil.test", "Saludos a todo el equipo."),
    );
    w.tick("2026-12-01T08:30");
    let d = w.sent_of("resumen_asistente");
    assert_eq!(d.len(), 1, "only asistente1 has something (the triage task)");
    assert_eq!(d[0].to, vec!["asistente1@cli.test".to_string()]);
    w.tick("2026-12-01T09:00");
    assert_eq!(w.sent_of("resumen_asistente").len(), 1, "once per slot");
    w.tick("2026-12-01T15:00");
    assert_eq!(w.sent_of("resumen_asistente").len(), 2, "the afternoon slot");
}

#[test]
fn no_digest_on_a_holiday() {
    let mut w = World::default();
    w.mail(
        "2026-12-07T08:00",
        &text_mail("Ana <aquispe@andestextil.test>", "Hola", "h1@andestextil.test", "Saludos a todo el equipo."),
    );
    w.tick("2026-12-08T10:00");
    assert!(w.sent_of("resumen_asistente").is_empty(), "8 December is a holiday");
}

#[test]
fn the_digest_lists_open_reclamos_and_orders_missing_documents() {
    let mut w = reclamo_at("2026-12-01T07:00");
    let m = mail_with_pdf(
        "Patricia <phuaman@andestextil.test>",
        "Docs",
        "a1@andestextil.test",
        "Adjunto la factura.",
        "Factura 1.pdf",
        "INVOICE",
    );
    w.mail("2026-12-01T07:10", &m);
    let (digest, _) = super::super::render_digest(&desk(), &w.mem, "asistente1@cli.test", lima("2026-12-01T08:30"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(digest.reclamos_abiertos.len(), 1);
    assert_eq!(digest.documentos_pendientes.len(), 1);
    assert_eq!(digest.nuevas_ordenes.len(), 1);
}

#[test]
fn scheduled_status_summaries_go_weekly_to_registered_addresses_only() {
    let mut w = World::default();
    let m = mail_with_pdf(
        "Patricia <phuaman@andestextil.test>",
        "Docs",
        "a1@andestextil.test",
        "Adjunto la factura.",
        "Factura 1.pdf",
        "INVOICE",
    );
    w.mail("2026-12-04T10:00", &m);
    // andestextil: weekly, Monday 09:00, to phuaman@andestextil.test.
    w.tick("2026-12-07T09:00");
    let s = w.sent_of("estado_programado");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].to, vec!["phuaman@andestextil.test".to_string()]);
    w.tick("2026-12-07T12:00");
    assert_eq!(w.sent_of("estado_programado").len(), 1, "once a week");
}

#[test]
fn no_status_summary_without_open_orders() {
    let mut w = World::default();
    w.tick("2026-12-07T09:00");
    assert!(w.sent_of("estado_programado").is_empty());
}

#[test]
fn a_refused_mail_becomes_a_task_for_the_orders_assistant() {
    let mut w = World::default();
    let m = mail_with_pdf(
        "Luis <lsoto@pacificfoods.test>",
        "Docs",
        "p1@pacificfoods.test",
        "Adjunto la factura.",
        "Factura 1.pdf",
        "INVOICE",
    );
    w.mail("2026-12-01T10:00", &m);
    let mut refused: Outgoing = w.sent_of("acuse_documentos")[0].clone();
    refused.state = OutboxState::Fallido;
    refused.refused = vec!["lsoto@pacificfoods.test: 550 no such user".into()];
    w.mem.outbox.insert(refused.id.clone(), refused.clone());
    let d = decide_due(&desk(), &w.mem, &Due::Refusals(vec![refused.id.clone()]), lima("2026-12-01T10:05"))
        .unwrap_or_else(|e| panic!("{e}"));
    w.take(d);
    let t = w.mem.tasks.values().find(|t| t.kind == "correo_rechazado").unwrap_or_else(|| panic!("no task"));
    assert_eq!(t.assignee, "asistente2@cli.test");
    assert!(t.summary.contains("550 no such user"));
}

#[test]
fn nothing_open_means_no_mail_from_the_clock() {
    let mut w = World::default();
    let ds = w.tick("2026-12-05T10:00");
    let mails = ds.iter().flat_map(|d| &d.effects).filter(|e| matches!(e, super::super::Effect::Queue { .. })).count();
    assert_eq!(mails, 0, "a Saturday with nothing open: no mail");
}
