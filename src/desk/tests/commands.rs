//! Staff commands by mail.

use super::super::model::{ReclamoState, TaskState};
use super::*;

const STAFF: &str = "Carla Vega <cvega@cli.test>";

fn command(w: &mut World, now: &str, id: &str, body: &str) -> Decision {
    w.mail(now, &text_mail(STAFF, "Comandos", id, body))
}

/// An order OC-2026-000001 of andestextil with an invoice.
fn with_order() -> World {
    let mut w = World::default();
    let m = mail_with_pdf(
        "Patricia Huamán <phuaman@andestextil.test>",
        "Documentos",
        "a1@andestextil.test",
        "Adjunto la factura.",
        "Factura AT-5521.pdf",
        "COMMERCIAL INVOICE",
    );
    w.mail("2026-12-01T10:00", &m);
    w
}

fn confirmation(w: &World) -> String {
    let c = w.sent_of("confirmacion_comando");
    let last = c.last().unwrap_or_else(|| panic!("no confirmation"));
    w.body(&last.id)
}

#[test]
fn estado_sets_the_stage_and_a_dam() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#estado OC-2026-000001 numerada dam=118-2026-10-012345");
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.stage, "numerada");
    assert!(o.references.get("dam").is_some_and(|d| d.contains("118-2026-10-012345")));
    assert!(confirmation(&w).contains("OK"), "{}", confirmation(&w));
}

#[test]
fn an_unknown_stage_is_refused_with_the_list() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#estado OC-2026-000001 volando");
    assert_eq!(w.mem.orders["OC-2026-000001"].stage, "abierta");
    assert!(confirmation(&w).contains("etapa desconocida"), "{}", confirmation(&w));
}

#[test]
fn eta_needs_a_date() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#eta OC-2026-000001 mañana");
    assert_eq!(w.mem.orders["OC-2026-000001"].eta, None);
    command(&mut w, "2026-12-01T11:01", "c2@cli.test", "#eta OC-2026-000001 15/12/2026");
    assert_eq!(w.mem.orders["OC-2026-000001"].eta.as_deref(), Some("15/12/2026"));
}

#[test]
fn nave_sets_the_vessel() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#nave OC-2026-000001 MSC LORETO 611W");
    assert_eq!(w.mem.orders["OC-2026-000001"].vessel.as_deref(), Some("MSC LORETO 611W"));
}

#[test]
fn regimen_changes_the_checklist() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#regimen OC-2026-000001 40");
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.regime, "40");
    command(&mut w, "2026-12-01T11:01", "c2@cli.test", "#regimen OC-2026-000001 99");
    assert_eq!(w.mem.orders["OC-2026-000001"].regime, "40");
    assert!(confirmation(&w).contains("régimen desconocido"));
}

#[test]
fn cerrar_closes_and_reabrir_reopens() {
    let mut w = with_order();
    // The file has only its invoice: closing goes through the closing list
    // (issue 17) and must be forced.
    command(&mut w, "2026-12-01T10:59", "c0@cli.test", "#cerrar OC-2026-000001");
    assert!(!w.mem.orders["OC-2026-000001"].closed);
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#cerrar OC-2026-000001 forzar");
    assert!(w.mem.orders["OC-2026-000001"].closed);
    command(&mut w, "2026-12-01T11:01", "c2@cli.test", "#reabrir OC-2026-000001");
    assert!(!w.mem.orders["OC-2026-000001"].closed);
}

#[test]
fn archivar_closes_at_the_last_stage() {
    let mut w = with_order();
    // The file has only its invoice: archiving it must be forced (issue 17).
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#archivar OC-2026-000001 forzar");
    let o = &w.mem.orders["OC-2026-000001"];
    assert!(o.closed);
    assert_eq!(Some(&o.stage), FIXTURE.rules.desk.stages.last());
}

#[test]
fn vence_sets_the_regime_expiry_and_a_task_with_reminders() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#vence OC-2026-000001 30/06/2027");
    assert_eq!(w.mem.orders["OC-2026-000001"].regime_expires, Some(lima("2027-06-30T18:00")));
    let t = w.mem.tasks.values().find(|t| t.kind == "alerta_vencimiento_regimen").unwrap_or_else(|| panic!("no task"));
    assert_eq!(t.due_at, Some(lima("2027-06-30T18:00")));
}

#[test]
fn revisado_ends_the_review() {
    let mut w = with_order();
    assert!(w.mem.orders["OC-2026-000001"].review_due.is_some());
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#revisado OC-2026-000001");
    assert_eq!(w.mem.orders["OC-2026-000001"].review_due, None);
}

#[test]
fn resuelto_resolves_a_reclamo_once() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail("Ana <aquispe@andestextil.test>", "Demora", "r1@andestextil.test", "Es inaceptable la demora."),
    );
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#resuelto R-000001");
    assert_eq!(w.mem.reclamos["R-000001"].state, ReclamoState::Escalado, "a resolution is required");
    command(&mut w, "2026-12-01T11:01", "c2@cli.test", "#resuelto R-000001 Se coordinó con la naviera");
    assert_eq!(w.mem.reclamos["R-000001"].state, ReclamoState::Resuelto);
    command(&mut w, "2026-12-01T11:02", "c3@cli.test", "#resuelto R-000001 otra vez");
    assert!(confirmation(&w).contains("ya estaba resuelto"));
}

#[test]
fn hecho_closes_a_task() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail("Ana <aquispe@andestextil.test>", "Hola", "h1@andestextil.test", "Saludos a todo el equipo."),
    );
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#hecho T-000001");
    assert_eq!(w.mem.tasks["T-000001"].state, TaskState::Hecha);
}

#[test]
fn commands_from_a_client_are_refused() {
    let mut w = with_order();
    let d = w.mail(
        "2026-12-01T11:00",
        &text_mail("Ana <aquispe@andestextil.test>", "x", "x1@andestextil.test", "#cerrar OC-2026-000001"),
    );
    assert!(!w.mem.orders["OC-2026-000001"].closed, "{:?}", d.outcome);
}

#[test]
fn commands_whose_dmarc_failed_are_refused() {
    let mut w = with_order();
    let m = text_mail(STAFF, "Comandos", "c1@cli.test", "#cerrar OC-2026-000001").replace(
        "To: Operaciones",
        "Authentication-Results: mx.cli.test; dmarc=fail header.from=cli.test\nTo: Operaciones",
    );
    let d = w.mail("2026-12-01T11:00", &m);
    assert!(!w.mem.orders["OC-2026-000001"].closed);
    assert!(d.outcome.iter().any(|l| l.contains("refused")), "{:?}", d.outcome);
}

#[test]
fn fusionar_merges_two_orders_of_one_client() {
    let mut w = with_order();
    let second = mail_with_pdf(
        "Patricia <phuaman@andestextil.test>",
        "Otro",
        "a2@andestextil.test",
        "Adjunto el BL.",
        "BL MEDUHG271461.pdf",
        "BILL OF LADING",
    );
    w.mail("2026-12-01T10:30", &second);
    assert_eq!(w.mem.orders.len(), 2);
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#fusionar OC-2026-000001 OC-2026-000002");
    let (a, b) = (&w.mem.orders["OC-2026-000001"], &w.mem.orders["OC-2026-000002"]);
    assert_eq!(a.documents.len(), 2);
    assert!(b.closed);
    assert!(b.documents.is_empty());
}

#[test]
fn mover_moves_a_document_by_name() {
    let mut w = with_order();
    let second = mail_with_pdf(
        "Patricia <phuaman@andestextil.test>",
        "Otro",
        "a2@andestextil.test",
        "Adjunto el BL.",
        "BL MEDUHG271461.pdf",
        "BILL OF LADING",
    );
    w.mail("2026-12-01T10:30", &second);
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#mover OC-2026-000001 Factura AT-5521.pdf OC-2026-000002");
    assert!(w.mem.orders["OC-2026-000001"].documents.is_empty());
    assert_eq!(w.mem.orders["OC-2026-000002"].documents.len(), 2);
    assert!(w.mem.orders["OC-2026-000001"].missing.contains(&"factura_comercial".to_string()));
}

#[test]
fn asignar_attaches_a_triaged_mail_to_an_order() {
    let mut w = with_order();
    w.mail(
        "2026-12-01T10:30",
        &text_mail("Ana <aquispe@andestextil.test>", "Hola", "h1@andestextil.test", "Saludos a todo el equipo."),
    );
    let t = w.mem.tasks.values().find(|t| t.kind == "triage").map(|t| t.id.clone()).unwrap_or_default();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", &format!("#asignar {t} OC-2026-000001"));
    assert_eq!(w.mem.tasks[&t].state, TaskState::Hecha);
    assert_eq!(
        w.mem.threads.get("h1@andestextil.test").and_then(|l| l.order.clone()).as_deref(),
        Some("OC-2026-000001")
    );
}

#[test]
fn several_commands_of_one_mail_compose_on_one_order() {
    let mut w = with_order();
    let d = command(
        &mut w,
        "2026-12-01T11:00",
        "c1@cli.test",
        "#estado OC-2026-000001 numerada\n#nave OC-2026-000001 MSC LORETO 611W\n#eta OC-2026-000001 15/12/2026",
    );
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(
        (o.stage.as_str(), o.vessel.as_deref(), o.eta.as_deref()),
        ("numerada", Some("MSC LORETO 611W"), Some("15/12/2026"))
    );
    let oks = d.outcome.iter().filter(|l| l.starts_with("OK")).count();
    assert_eq!(oks, 3);
}

#[test]
fn a_command_on_an_order_that_does_not_exist_is_answered_with_the_error() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#estado OC-2026-000999 numerada");
    assert!(confirmation(&w).contains("no existe la orden OC-2026-000999"), "{}", confirmation(&w));
}
