//! Keeping the client informed (stage and ETA notices) and the money of an
//! order (liquidations): issue 16.

use super::super::model::Outgoing;
use super::*;

const STAFF: &str = "Carla Vega <cvega@cli.test>";
const COSTA: &str = "Rosa Quispe <rquispe@costaverde.test>";

fn command(w: &mut World, now: &str, id: &str, body: &str) -> Decision {
    w.mail(now, &text_mail(STAFF, "Comandos", id, body))
}

/// An order OC-2026-000001 of `from`'s client, opened by its invoice and BL.
fn order_of(from: &str, id: &str) -> World {
    let mut w = World::default();
    let m = mail_with_pdf(
        from,
        "Documentos embarque",
        id,
        "Adjunto la factura.",
        "Factura CV-881.pdf",
        "COMMERCIAL INVOICE",
    );
    w.mail("2026-12-01T09:00", &m);
    assert!(w.mem.orders.contains_key("OC-2026-000001"), "no order opened");
    w
}

fn notices(w: &World) -> Vec<(Vec<String>, String)> {
    w.sent_of("aviso_etapa").iter().map(|m| (m.to.clone(), w.body(&m.id))).collect()
}

#[test]
fn an_opted_in_client_is_told_when_its_dam_is_numbered_at_its_registered_addresses_only() {
    let mut w = order_of(COSTA, "cv1@costaverde.test");
    assert!(notices(&w).is_empty(), "opening is not a stage the client asked for");
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#estado OC-2026-000001 numerada dam=118-2026-10-012345");
    let n = notices(&w);
    assert_eq!(n.len(), 1, "{n:?}");
    let (to, body) = &n[0];
    assert_eq!(to, &vec!["logistica.costaverde@gmail.com".to_string(), "rquispe@costaverde.test".to_string()]);
    for want in ["OC-2026-000001", "118-2026-10-012345", "numerada", "Qué sigue", "canal de control"] {
        assert!(body.contains(want), "«{want}» missing in\n{body}");
    }
    for bad in ["andestextil", "Andes", "cvega", "#estado", "(s)", "{{"] {
        assert!(!body.contains(bad), "«{bad}» in\n{body}");
    }
    // A notice the desk starts is not an answer: nothing counted against the client's budget.
    let d = command(&mut w, "2026-12-01T11:30", "c2@cli.test", "#estado OC-2026-000001 levante");
    assert!(
        !d.effects.iter().any(|e| matches!(e, crate::desk::Effect::CountReply { counter: crate::desk::effect::ReplyCounter::Verified(a), .. } if a.contains("costaverde"))),
        "a notice spent a reply budget"
    );
    assert_eq!(notices(&w).len(), 2, "levante an hour and a half later goes at once");
}

#[test]
fn a_red_channel_is_explained_and_changes_within_the_hour_fold_into_one_notice() {
    let mut w = order_of(COSTA, "cv1@costaverde.test");
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#estado OC-2026-000001 numerada dam=118-2026-10-012345");
    command(&mut w, "2026-12-01T10:20", "c2@cli.test", "#estado OC-2026-000001 canal asignado canal=rojo");
    assert_eq!(notices(&w).len(), 1, "the second change waits for the hour");
    assert_eq!(w.mem.orders["OC-2026-000001"].follow.channel.as_deref(), Some("rojo"));
    command(&mut w, "2026-12-01T10:40", "c3@cli.test", "#nave OC-2026-000001 MSC LORETO 611W");
    w.tick("2026-12-01T10:59");
    assert_eq!(notices(&w).len(), 1, "not before the hour is up");
    w.tick("2026-12-01T11:00");
    let n = notices(&w);
    assert_eq!(n.len(), 2, "{n:?}");
    let body = &n[1].1;
    for want in ["canal ROJO", "reconocimiento físico", "lista de empaque", "Canal rojo"] {
        assert!(body.contains(want), "«{want}» missing in\n{body}");
    }
    w.tick("2026-12-01T12:30");
    assert_eq!(notices(&w).len(), 2, "the waiting notice went once");
    assert!(w.mem.orders["OC-2026-000001"].follow.pending.is_empty());
}

#[test]
fn a_client_that_did_not_opt_in_gets_no_notice() {
    let mut w = order_of("Patricia Huamán <phuaman@andestextil.test>", "a1@andestextil.test");
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#estado OC-2026-000001 numerada dam=118-2026-10-012345");
    command(&mut w, "2026-12-01T12:00", "c2@cli.test", "#estado OC-2026-000001 canal asignado canal=rojo");
    w.tick("2026-12-01T14:00");
    assert!(notices(&w).is_empty(), "{:?}", notices(&w));
    assert!(w.mem.orders["OC-2026-000001"].follow.pending.is_empty());
}

fn carrier(w: &mut World, now: &str, id: &str, eta: &str) {
    let notice = text_mail(
        "Avisos MSC <avisos@msc-peru.test>",
        "Aviso de llegada BL MEDUHG271461",
        id,
        &format!(
            "Estimados, la nave MSC LORETO viaje 611W arribará con ETA {eta}. BL MEDUHG271461.\n\nSaludos,\nCustomer Service MSC Perú"
        ),
    );
    w.mail(now, &notice);
}

#[test]
fn an_eta_moved_by_more_than_twelve_hours_is_told_and_a_smaller_move_is_not() {
    let mut w = World::default();
    let first = mail_with_pdf(
        COSTA,
        "BL",
        "cv1@costaverde.test",
        "Adjunto el BL MEDUHG271461.",
        "BL.pdf",
        "BILL OF LADING MEDUHG271461",
    );
    w.mail("2026-12-01T09:00", &first);
    carrier(&mut w, "2026-12-01T10:00", "n1@msc-peru.test", "15/12/2026 08:00");
    assert_eq!(w.mem.orders["OC-2026-000001"].follow.eta_time.as_deref(), Some("08:00"));
    assert!(notices(&w).is_empty(), "a first ETA is not a change");
    carrier(&mut w, "2026-12-01T12:00", "n2@msc-peru.test", "15/12/2026 18:00");
    assert!(notices(&w).is_empty(), "10 hours is within eta_notice_hours");
    carrier(&mut w, "2026-12-01T14:00", "n3@msc-peru.test", "17/12/2026 18:00");
    let n = notices(&w);
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0].0, vec!["logistica.costaverde@gmail.com".to_string(), "rquispe@costaverde.test".to_string()]);
    assert!(n[0].1.contains("15/12/2026 18:00") && n[0].1.contains("17/12/2026 18:00"), "{}", n[0].1);
}

#[test]
fn the_same_carrier_notice_moves_another_clients_order_without_telling_the_opted_in_one() {
    let mut w = World::default();
    let first = mail_with_pdf(
        "Patricia Huamán <phuaman@andestextil.test>",
        "BL",
        "a1@andestextil.test",
        "Adjunto el BL MEDUHG271461.",
        "BL.pdf",
        "BILL OF LADING MEDUHG271461",
    );
    w.mail("2026-12-01T09:00", &first);
    carrier(&mut w, "2026-12-01T10:00", "n1@msc-peru.test", "15/12/2026");
    carrier(&mut w, "2026-12-01T12:00", "n2@msc-peru.test", "20/12/2026");
    assert_eq!(w.mem.orders["OC-2026-000001"].eta.as_deref(), Some("20/12/2026"));
    assert!(notices(&w).is_empty(), "andestextil has no notify list");
}

/// The staff member's `#liquidacion` with SUNAT's PDF, on order OC-2026-000001.
fn liquidation(w: &mut World, now: &str, id: &str, line: &str) -> Decision {
    let m = mail_with_pdf(
        STAFF,
        "Liquidación DAM 118-2026-10-012345",
        id,
        &format!("{line}\n\nCarla Vega\nEjecutiva de cuenta"),
        "Liquidacion 118-2026-10-012345.pdf",
        "LIQUIDACION DE COBRANZA FORMATO C 118-2026-10-012345 TOTAL S/ 1,234.50",
    );
    w.mail(now, &m)
}

fn liquidated() -> World {
    let mut w = order_of(COSTA, "cv1@costaverde.test");
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#estado OC-2026-000001 numerada dam=118-2026-10-012345");
    liquidation(
        &mut w,
        "2026-12-02T10:00",
        "l1@cli.test",
        "#liquidacion OC-2026-000001 monto=1234.50 moneda=PEN vence=10/12/2026",
    );
    w
}

fn payment(from: &str, id: &str, extra_headers: &str) -> String {
    mail_with_pdf(from, "RE: Liquidación de tributos de su orden [OC-2026-000001]", id, "Buenas tardes,\n\nYa pagamos la liquidación, número de operación 556677. Adjunto la constancia.\n\nSaludos,\nRosa Quispe\nJefa de Logística", "constancia.pdf", "BCP CONSTANCIA DE PAGO SUNAT S/ 1,234.50 OPERACION 556677")
        .replacen("To: ops@cli.test", &format!("{extra_headers}To: ops@cli.test"), 1)
}

#[test]
fn a_liquidation_goes_to_the_client_with_its_pdf_amount_and_deadline_and_opens_a_task() {
    let w = liquidated();
    let sent = w.sent_of("liquidacion");
    assert_eq!(sent.len(), 1, "{:?}", w.sent.iter().map(|m| &m.kind).collect::<Vec<_>>());
    assert_eq!(sent[0].to, vec!["logistica.costaverde@gmail.com".to_string(), "rquispe@costaverde.test".to_string()]);
    let body = w.body(&sent[0].id);
    for want in ["PEN 1,234.50", "10/12/2026", "OC-2026-000001", "118-2026-10-012345", "constancia de pago"] {
        assert!(body.contains(want), "«{want}» missing in\n{body}");
    }
    for bad in ["#liquidacion", "Carla Vega", "Ejecutiva", "andestextil"] {
        assert!(!body.contains(bad), "«{bad}» in\n{body}");
    }
    let raw = String::from_utf8_lossy(&w.mem.outbox_bytes[&sent[0].id]).into_owned();
    assert!(raw.contains("application/pdf") && raw.contains("Liquidacion 118-2026-10-012345.pdf"), "no PDF attached");
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.money.liquidations.len(), 1);
    let l = &o.money.liquidations[0];
    assert_eq!((l.amount.as_str(), l.currency.as_str(), l.paid_at), ("1234.50", "PEN", None));
    let t = &w.mem.tasks[&l.task];
    assert_eq!(t.kind, "alerta_liquidacion");
    assert_eq!(t.due_at, Some(lima("2026-12-10T18:00")));
    assert_eq!(t.order.as_deref(), Some("OC-2026-000001"));
    let c = w.sent_of("confirmacion_comando");
    assert!(w.body(&c.last().unwrap_or_else(|| panic!("no confirmation")).id).contains("OK: liquidación"));
}

#[test]
fn a_liquidation_without_its_pdf_or_with_a_bad_amount_is_refused() {
    let mut w = order_of(COSTA, "cv1@costaverde.test");
    command(
        &mut w,
        "2026-12-02T10:00",
        "c1@cli.test",
        "#liquidacion OC-2026-000001 monto=1234.50 moneda=PEN vence=10/12/2026",
    );
    liquidation(
        &mut w,
        "2026-12-02T10:05",
        "l2@cli.test",
        "#liquidacion OC-2026-000001 monto=mil moneda=PEN vence=10/12/2026",
    );
    liquidation(
        &mut w,
        "2026-12-02T10:06",
        "l3@cli.test",
        "#liquidacion OC-2026-000001 monto=10 moneda=EUR vence=10/12/2026",
    );
    assert!(w.sent_of("liquidacion").is_empty());
    assert!(w.mem.orders["OC-2026-000001"].money.liquidations.is_empty());
    let bodies: Vec<String> = w.sent_of("confirmacion_comando").iter().map(|m| w.body(&m.id)).collect();
    assert!(bodies[0].contains("adjunte el PDF"), "{}", bodies[0]);
    assert!(bodies[1].contains("monto inválido"), "{}", bodies[1]);
    assert!(bodies[2].contains("moneda=PEN o moneda=USD"), "{}", bodies[2]);
}

#[test]
fn an_unpaid_liquidation_is_reminded_and_on_its_deadline_the_executive_is_told() {
    let mut w = liquidated();
    let reminders = |w: &World| -> Vec<Outgoing> {
        w.sent_of("recordatorio_tarea").into_iter().filter(|m| m.id.starts_with("task-")).cloned().collect()
    };
    w.tick("2026-12-08T09:00");
    let r = reminders(&w);
    assert_eq!(r.len(), 1, "two days before");
    assert_eq!(r[0].to, vec!["asistente2@cli.test".to_string()]);
    w.tick("2026-12-10T18:00");
    let r = reminders(&w);
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[1].to, vec!["asistente2@cli.test".to_string(), "jrojas@cli.test".to_string()]);
    assert!(w.body(&r[1].id).contains("VENCIDA"), "{}", w.body(&r[1].id));
}

#[test]
fn the_clients_payment_marks_the_liquidation_paid_tells_administracion_with_the_voucher_and_closes_the_task() {
    let mut w = liquidated();
    w.mail("2026-12-03T15:00", &payment(COSTA, "p1@costaverde.test", ""));
    let l = &w.mem.orders["OC-2026-000001"].money.liquidations[0];
    assert_eq!(l.paid_at, Some(lima("2026-12-03T15:00")));
    assert_eq!(w.mem.tasks[&l.task].state, crate::desk::model::TaskState::Hecha);
    let admin = w.sent_of("liquidacion_pagada");
    assert_eq!(admin.len(), 1);
    assert_eq!(admin[0].to, vec!["administracion@cli.test".to_string()]);
    let raw = String::from_utf8_lossy(&w.mem.outbox_bytes[&admin[0].id]).into_owned();
    assert!(raw.contains("constancia.pdf"), "the voucher travels");
    assert!(w.body(&admin[0].id).contains("PEN 1,234.50"));
    assert!(!w.mem.tasks.values().any(|t| t.kind == "pago"), "a matched payment needs no person");
    w.tick("2026-12-10T18:00");
    assert!(
        !w.sent_of("recordatorio_tarea").iter().any(|m| m.id.starts_with("task-")),
        "paid: no reminder, no escalation"
    );
}

#[test]
fn only_the_clients_own_verified_mail_pays_a_liquidation() {
    let mut w = liquidated();
    // DMARC failed on the client's domain.
    let forged = payment(
        COSTA,
        "p2@costaverde.test",
        "Authentication-Results: mx.cli.test; dmarc=fail header.from=costaverde.test\n",
    );
    w.mail("2026-12-03T15:00", &forged);
    // Another client naming this order's tag.
    w.mail("2026-12-03T15:10", &payment("Patricia Huamán <phuaman@andestextil.test>", "p3@andestextil.test", ""));
    // A stranger.
    w.mail("2026-12-03T15:20", &payment("Pagos <pagos@gmail.com>", "p4@gmail.com", ""));
    assert_eq!(w.mem.orders["OC-2026-000001"].money.liquidations[0].paid_at, None);
    assert!(w.sent_of("liquidacion_pagada").is_empty());
    assert_eq!(w.mem.tasks.values().filter(|t| t.kind == "pago").count(), 3, "each is a task");
    assert_eq!(w.sent_of("aviso_pago").len(), 3, "Administración hears of every payment, matched or not");
}

/// The client's own mail: an advance for the order, with its voucher.
fn advance_mail(id: &str, amount: &str) -> String {
    mail_with_pdf(
        COSTA,
        "Abono para gastos de la orden [OC-2026-000001]",
        id,
        &format!(
            "Estimados,\n\nLes informamos que realizamos el depósito de {amount} como adelanto para los gastos de la orden. Número de operación 778899.\n\nSaludos,\nRosa Quispe"
        ),
        "voucher BCP.pdf",
        "BCP VOUCHER DE DEPOSITO OPERACION 778899",
    )
}

#[test]
fn an_advance_from_the_client_is_recorded_on_the_order_with_its_voucher_and_reported_once() {
    let mut w = order_of(COSTA, "cv1@costaverde.test");
    w.mail("2026-12-02T11:00", &advance_mail("ab1@costaverde.test", "S/ 850.00"));
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.money.payments.len(), 1);
    let p = &o.money.payments[0];
    assert_eq!((p.kind.as_str(), p.amount.as_deref(), p.currency.as_deref()), ("abono", Some("850.00"), Some("PEN")));
    assert_eq!(p.vouchers.len(), 1);
    assert_eq!(p.vouchers[0].name, "voucher BCP.pdf");
    assert!(!p.vouchers[0].path.is_empty(), "the voucher is kept");
    let admin = w.sent_of("aviso_pago");
    assert_eq!(admin.len(), 1);
    assert!(w.body(&admin[0].id).contains("OC-2026-000001 — abono PEN 850.00"), "{}", w.body(&admin[0].id));
    assert!(!w.mem.tasks.values().any(|t| t.kind == "pago"), "a matched advance needs no person");
    // The same mail again (a resend) is not a second advance.
    w.mail("2026-12-02T11:05", &advance_mail("ab1@costaverde.test", "S/ 850.00"));
    assert_eq!(w.mem.orders["OC-2026-000001"].money.payments.len(), 1);
}

#[test]
fn a_payment_request_for_a_client_without_credit_is_held_funds_are_asked_and_the_payment_releases_it() {
    let mut w = order_of(COSTA, "cv1@costaverde.test");
    command(
        &mut w,
        "2026-12-02T10:00",
        "c1@cli.test",
        "#pagar OC-2026-000001 concepto=almacenaje monto=850 moneda=PEN beneficiario=Neptunia S.A.",
    );
    assert!(w.sent_of("solicitud_pago").is_empty(), "held: no credit, no funds");
    let asked = w.sent_of("solicitud_fondos");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].to, vec!["logistica.costaverde@gmail.com".to_string(), "rquispe@costaverde.test".to_string()]);
    let body = w.body(&asked[0].id);
    assert!(body.contains("PEN 850.00") && body.contains("almacenaje") && body.contains("Neptunia S.A."), "{body}");
    assert_eq!(w.mem.orders["OC-2026-000001"].money.requests[0].state, crate::desk::model::RequestState::Retenida);
    // Too little does not release it; enough does.
    w.mail("2026-12-02T15:00", &advance_mail("ab1@costaverde.test", "S/ 500.00"));
    assert!(w.sent_of("solicitud_pago").is_empty(), "500 of 850");
    w.mail("2026-12-03T09:30", &advance_mail("ab2@costaverde.test", "S/ 350.00"));
    let sent = w.sent_of("solicitud_pago");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, vec!["administracion@cli.test".to_string()]);
    let body = w.body(&sent[0].id);
    assert!(body.contains("Neptunia S.A.") && body.contains("OC-2026-000001") && body.contains("PEN 850.00"), "{body}");
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.money.requests[0].state, crate::desk::model::RequestState::Liberada);
    let steps: Vec<&str> = o.history.iter().map(|e| e.what.as_str()).collect();
    assert!(
        steps.iter().any(|s| s.contains("retenida")) && steps.iter().any(|s| s.contains("fondos recibidos")),
        "{steps:?}"
    );
    // The funds went to that request: a second one is held again.
    command(
        &mut w,
        "2026-12-03T10:00",
        "c2@cli.test",
        "#pagar OC-2026-000001 concepto=descarga monto=120 moneda=PEN beneficiario=APM Terminals Callao",
    );
    assert_eq!(w.sent_of("solicitud_pago").len(), 1);
    command(&mut w, "2026-12-03T10:30", "c3@cli.test", "#liberar OC-2026-000001");
    assert_eq!(w.sent_of("solicitud_pago").len(), 2, "#liberar sends it");
}

#[test]
fn a_client_with_credit_gets_no_funds_request() {
    // The fixture's Costa Verde, with `credito = true`.
    let mut w = World::default();
    let m = mail_with_pdf(
        "Rosa Quispe <rquispe@costaverde.test>",
        "Documentos",
        "cv1@costaverde.test",
        "Adjunto la factura.",
        "Factura.pdf",
        "COMMERCIAL INVOICE",
    );
    w.mail("2026-12-01T09:00", &m);
    let mut dir = FIXTURE.directory.clone();
    for c in &mut dir.clients {
        if c.id == "costaverde" {
            c.credito = true;
        }
    }
    let f = &*FIXTURE;
    let desk = crate::desk::Desk { settings: &f.settings, directory: &dir, rules: &f.rules, templates: &f.templates };
    let raw = text_mail(
        STAFF,
        "Comandos",
        "c1@cli.test",
        "#pagar OC-2026-000001 concepto=almacenaje monto=850 moneda=PEN beneficiario=Neptunia S.A.",
    )
    .replace('\n', "\r\n");
    let mail = crate::mail::parse(
        raw.as_bytes(),
        &crate::mail::ParseOptions { authserv_id: "mx.cli.test".into(), ..Default::default() },
    );
    let class =
        crate::rules::classify(&f.rules, &mail, crate::rules::Facts::of(&mail, "staff", &|a| dir.sender(a).role()));
    let d = crate::desk::decide(&desk, &w.mem, &mail, &class, &[], lima("2026-12-02T10:00"))
        .unwrap_or_else(|e| panic!("{e}"));
    w.take(d);
    assert!(w.sent_of("solicitud_fondos").is_empty(), "credit: no funds asked");
    assert_eq!(w.sent_of("solicitud_pago").len(), 1);
    assert_eq!(w.mem.orders["OC-2026-000001"].money.requests[0].state, crate::desk::model::RequestState::Enviada);
}

#[test]
fn a_payment_naming_the_dam_and_the_amount_pays_the_liquidation_it_means() {
    let mut w = liquidated();
    liquidation(
        &mut w,
        "2026-12-02T11:00",
        "l2@cli.test",
        "#liquidacion OC-2026-000001 monto=310.20 moneda=USD vence=11/12/2026",
    );
    assert_eq!(w.mem.orders["OC-2026-000001"].money.liquidations.len(), 2);
    // No tag: the DAM names the order, the amount the liquidation (an Outlook reply, HTML only).
    let html = "From: Rosa Quispe <rquispe@costaverde.test>\nTo: ops@cli.test\nSubject: pago tributos\nMessage-ID: <p9@costaverde.test>\nDate: Thu, 03 Dec 2026 12:00:00 -0500\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>Buenas tardes:</p><p>Ya pagamos la liquidaci&oacute;n de la DAM 118-2026-10-012345 por USD 310.20, n&uacute;mero de operaci&oacute;n 99812.</p><p>Saludos</p><p><b>Rosa Quispe</b><br>Jefa de Log&iacute;stica | Costa Verde Alimentos S.A.C.</p><p style=\"font-size:8pt\">Este mensaje es confidencial.</p></body></html>\n";
    w.mail("2026-12-03T12:00", html);
    let ls = &w.mem.orders["OC-2026-000001"].money.liquidations;
    assert_eq!(ls[0].paid_at, None, "the PEN one is still due");
    assert_eq!(ls[1].paid_at, Some(lima("2026-12-03T12:00")), "{ls:?}");
    assert_eq!(w.sent_of("liquidacion_pagada").len(), 1);
}

#[test]
fn a_client_that_writes_in_english_gets_its_notices_in_english() {
    let mut w = World::default();
    let m = mail_with_pdf(
        "Tom Baker <tbaker@costaverde.test>",
        "Shipping documents",
        "cv9@costaverde.test",
        "Dear team, please find attached the commercial invoice for the shipment. Let us know if you need anything else.\n\nBest regards,\nTom",
        "Invoice CV-900.pdf",
        "COMMERCIAL INVOICE",
    );
    w.mail("2026-12-01T09:00", &m);
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#estado OC-2026-000001 canal asignado canal=rojo");
    let n = notices(&w);
    assert_eq!(n.len(), 1);
    let body = &n[0].1;
    assert!(body.contains("Red channel") && body.contains("physically inspect"), "{body}");
    assert!(!body.contains("Buen día") && !body.contains("rojo"), "{body}");
}
