//! Decisions on mail: one case per behaviour of DESIGN.md's label table.

use super::super::effect::{Effect, Subject};
use super::super::model::{OutboxState, ReclamoState, TaskState};
use super::*;

const ANDES: &str = "Patricia Huamán <phuaman@andestextil.test>";
const PACIFIC: &str = "Luis Soto <lsoto@pacificfoods.test>";

fn invoice_mail(id: &str, subject: &str) -> String {
    mail_with_pdf(
        ANDES,
        subject,
        id,
        "Buenos días, adjunto la factura comercial.",
        "Factura AT-5521.pdf",
        "COMMERCIAL INVOICE AT-5521",
    )
}

#[test]
fn documents_from_a_client_open_an_order_with_its_missing_list_and_acknowledge_it() {
    let mut w = World::default();
    let d = w.mail("2026-12-01T10:00", &invoice_mail("a1@andestextil.test", "Documentos embarque"));
    let o = w.mem.orders.get("OC-2026-000001").unwrap_or_else(|| panic!("no order: {:?}", d.outcome));
    assert_eq!(o.client, "andestextil");
    assert_eq!(o.regime, "10");
    assert!(o.missing.contains(&"documento_transporte".to_string()), "{:?}", o.missing);
    assert_eq!(o.documents.len(), 1);
    let acks = w.sent_of("acuse_documentos");
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].to, vec!["phuaman@andestextil.test".to_string()]);
    assert_eq!(acks[0].order.as_deref(), Some("OC-2026-000001"));
    let body = w.body(&acks[0].id);
    assert!(body.contains("OC-2026-000001"), "{body}");
}

#[test]
fn a_second_documents_mail_with_the_order_tag_joins_the_order() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &invoice_mail("a1@andestextil.test", "Documentos"));
    let bl = mail_with_pdf(
        ANDES,
        "RE: [OC-2026-000001] BL",
        "a2@andestextil.test",
        "Adjunto el BL.",
        "BL MEDUHG271461.pdf",
        "BILL OF LADING MEDUHG271461",
    );
    w.mail("2026-12-01T10:05", &bl);
    assert_eq!(w.mem.orders.len(), 1, "no second order");
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.documents.len(), 2);
    assert!(!o.missing.contains(&"documento_transporte".to_string()));
}

#[test]
fn a_reply_in_the_thread_of_our_acknowledgement_joins_the_order_without_a_tag() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &invoice_mail("a1@andestextil.test", "Documentos"));
    let ack = w.sent_of("acuse_documentos")[0].message_id.clone();
    let reply = mail_with_pdf(
        ANDES,
        "Re: documentos",
        "a2@andestextil.test",
        "Va la lista de empaque.",
        "Packing list.pdf",
        "PACKING LIST",
    )
    .replace("Message-ID: <a2@andestextil.test>", &format!("Message-ID: <a2@andestextil.test>\nIn-Reply-To: <{ack}>"));
    w.mail("2026-12-01T10:05", &reply);
    assert_eq!(w.mem.orders.len(), 1);
    assert_eq!(w.mem.orders["OC-2026-000001"].documents.len(), 2);
}

#[test]
fn a_shared_reference_joins_the_order_of_the_same_client_only() {
    let mut w = World::default();
    let first = mail_with_pdf(
        ANDES,
        "BL",
        "a1@andestextil.test",
        "Adjunto el BL MEDUHG271461.",
        "BL.pdf",
        "BILL OF LADING MEDUHG271461",
    );
    w.mail("2026-12-01T10:00", &first);
    let same = mail_with_pdf(
        ANDES,
        "Factura",
        "a2@andestextil.test",
        "Factura del BL MEDUHG271461.",
        "Invoice 77.pdf",
        "INVOICE 77",
    );
    w.mail("2026-12-01T10:05", &same);
    assert_eq!(w.mem.orders.len(), 1, "same client, same BL: one order");
    let other = mail_with_pdf(
        PACIFIC,
        "Factura",
        "p1@pacificfoods.test",
        "Factura del BL MEDUHG271461.",
        "Invoice 9.pdf",
        "INVOICE 9",
    );
    w.mail("2026-12-01T10:10", &other);
    assert_eq!(w.mem.orders.len(), 2, "another client's mail never joins this client's order");
}

#[test]
fn the_acknowledgement_is_threaded_under_the_mail_and_counted() {
    let mut w = World::default();
    let d = w.mail("2026-12-01T10:00", &invoice_mail("a1@andestextil.test", "Documentos"));
    let counted = d.effects.iter().filter(|e| matches!(e, Effect::CountReply { .. })).count();
    assert_eq!(counted, 1);
    let ack = w.sent_of("acuse_documentos")[0];
    let raw = String::from_utf8_lossy(&w.mem.outbox_bytes[&ack.id]).into_owned();
    assert!(raw.contains("In-Reply-To: <a1@andestextil.test>"), "{raw}");
    assert!(raw.contains("Auto-Submitted: auto-replied"));
}

#[test]
fn documents_from_an_unknown_sender_become_a_triage_task_and_no_order() {
    let mut w = World::default();
    let m = mail_with_pdf(
        "x@unknown.test",
        "Invoice",
        "u1@unknown.test",
        "Please find attached the invoice.",
        "Invoice 1.pdf",
        "INVOICE",
    );
    w.mail("2026-12-01T10:00", &m);
    assert!(w.mem.orders.is_empty());
    assert!(w.mem.tasks.values().any(|t| t.kind == "triage_documentos"));
}

#[test]
fn documents_whose_dmarc_failed_are_not_filed_but_given_to_a_person() {
    let mut w = World::default();
    let m = invoice_mail("a1@andestextil.test", "Documentos").replace(
        "To: ops@cli.test",
        "To: ops@cli.test\nAuthentication-Results: mx.cli.test; dmarc=fail header.from=andestextil.test",
    );
    w.mail("2026-12-01T10:00", &m);
    assert!(w.mem.orders.is_empty());
    assert!(w.mem.tasks.values().any(|t| t.kind == "remitente_no_verificado"));
    assert!(w.sent_of("acuse_documentos").is_empty());
}

#[test]
fn a_partner_of_one_client_files_documents_for_that_client() {
    let mut w = World::default();
    let m = mail_with_pdf(
        "Li Wei <li@guangzhoufabrics.test>",
        "Invoice and packing list",
        "g1@guangzhoufabrics.test",
        "Please find attached the commercial invoice.",
        "Commercial Invoice GZ-88.pdf",
        "COMMERCIAL INVOICE",
    );
    w.mail("2026-12-01T10:00", &m);
    assert_eq!(w.mem.orders.values().next().map(|o| o.client.as_str()), Some("andestextil"));
}

#[test]
fn new_documents_set_a_review_deadline_and_schedule_it() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &invoice_mail("a1@andestextil.test", "Documentos"));
    let o = &w.mem.orders["OC-2026-000001"];
    // 48 business hours from Tue 1 Dec 10:00: 8 + 9 + 9 + 9 (Mon 7) = 44, then
    // 8 and 9 December are holidays → Thu 10 Dec 13:00.
    assert_eq!(o.review_due, Some(lima("2026-12-10T13:00")));
    assert!(w.mem.schedule.contains_key(&Subject::Review(o.id.clone())));
}

#[test]
fn a_status_request_from_a_client_lists_its_orders_and_no_other_clients() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &invoice_mail("a1@andestextil.test", "Documentos"));
    let p = mail_with_pdf(PACIFIC, "Docs", "p1@pacificfoods.test", "Adjunto factura.", "Factura P-1.pdf", "FACTURA");
    w.mail("2026-12-01T10:01", &p);
    w.mail(
        "2026-12-01T11:00",
        &text_mail(ANDES, "Consulta", "s1@andestextil.test", "Buenas tardes, ¿cuál es el status de mi carga?"),
    );
    let st = w.sent_of("estado");
    assert_eq!(st.len(), 1);
    let body = w.body(&st[0].id);
    assert!(body.contains("OC-2026-000001"), "{body}");
    assert!(!body.contains("OC-2026-000002"), "another client's order leaked: {body}");
}

#[test]
fn a_status_request_naming_an_order_answers_that_order() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &invoice_mail("a1@andestextil.test", "Documentos 1"));
    let other = mail_with_pdf(
        ANDES,
        "Documentos 2",
        "a2@andestextil.test",
        "Adjunto la factura.",
        "Factura AT-9999.pdf",
        "INVOICE AT-9999",
    );
    w.mail("2026-12-01T10:01", &other);
    assert_eq!(w.mem.orders.len(), 2, "{:?}", w.mem.orders.values().map(|o| &o.references).collect::<Vec<_>>());
    w.mail(
        "2026-12-01T11:00",
        &text_mail(ANDES, "Estado OC-2026-000002", "s1@andestextil.test", "¿Cómo va la orden OC-2026-000002?"),
    );
    let st = w.sent_of("estado");
    assert_eq!(st[0].order.as_deref(), Some("OC-2026-000002"));
}

#[test]
fn a_status_request_from_a_stranger_gets_the_generic_answer_and_a_task() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail("x@unknown.test", "status", "u1@unknown.test", "¿Cuál es el status de mi carga?"),
    );
    assert_eq!(w.sent_of("estado").len(), 0);
    assert_eq!(w.sent_of("estado_generico").len(), 1);
    assert!(w.mem.tasks.values().any(|t| t.kind == "estado_sin_verificar"));
}

#[test]
fn no_automatic_answer_to_an_auto_submitted_mail() {
    let mut w = World::default();
    let m = text_mail(ANDES, "Consulta", "s1@andestextil.test", "¿Cuál es el status de mi carga?")
        .replace("To: Operaciones", "Auto-Submitted: auto-replied\nTo: Operaciones");
    w.mail("2026-12-01T10:00", &m);
    assert!(w.sent.iter().all(|m| m.kind != "estado"), "{:?}", w.sent.iter().map(|m| &m.kind).collect::<Vec<_>>());
}

#[test]
fn no_answer_to_a_no_reply_address() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail("noreply@andestextil.test", "Consulta", "n1@andestextil.test", "¿Cuál es el status de mi carga?"),
    );
    assert!(w.sent_of("estado").is_empty());
}

#[test]
fn the_hourly_reply_limit_stops_answers_to_one_sender() {
    let mut w = World::default();
    for i in 0..7 {
        let m = text_mail(ANDES, "Consulta", &format!("s{i}@andestextil.test"), "¿Cuál es el status de mi carga?");
        w.mail("2026-12-01T10:00", &m);
    }
    assert_eq!(w.sent_of("estado").len(), 5, "replies_per_sender_hour = 5");
}

#[test]
fn a_complaint_opens_a_reclamo_escalates_it_and_acknowledges_it() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail(ANDES, "Demora", "r1@andestextil.test", "Es inaceptable la demora en el despacho."),
    );
    let r = &w.mem.reclamos["R-000001"];
    assert_eq!(r.state, ReclamoState::Escalado);
    assert_eq!(r.client.as_deref(), Some("andestextil"));
    // 24 business hours from Tue 10:00 (09:00–18:00): 8 + 9 + 7 → Thu 16:00.
    assert_eq!(r.due_at, lima("2026-12-03T16:00"));
    let esc = w.sent_of("reclamo_escalamiento");
    assert_eq!(esc.len(), 1);
    assert!(esc[0].to.contains(&"supervision@cli.test".to_string()));
    assert!(esc[0].to.contains(&"cvega@cli.test".to_string()), "the client's executive");
    assert_eq!(w.sent_of("reclamo_acuse").len(), 1);
    assert!(w.mem.schedule.contains_key(&Subject::Reclamo("R-000001".into())));
}

#[test]
fn a_complaint_in_the_thread_of_an_open_reclamo_is_added_to_it() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &text_mail(ANDES, "Demora", "r1@andestextil.test", "Es inaceptable la demora."));
    let follow = text_mail(ANDES, "Re: Demora", "r2@andestextil.test", "Sigue siendo inaceptable, nadie responde.")
        .replace(
            "Message-ID: <r2@andestextil.test>",
            "Message-ID: <r2@andestextil.test>\nIn-Reply-To: <r1@andestextil.test>",
        );
    w.mail("2026-12-01T11:00", &follow);
    assert_eq!(w.mem.reclamos.len(), 1);
    assert!(w.mem.reclamos["R-000001"].history.iter().any(|h| h.what.starts_with("Nuevo mensaje")));
}

#[test]
fn another_clients_mail_in_a_reclamo_thread_does_not_join_it() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &text_mail(ANDES, "Demora", "r1@andestextil.test", "Es inaceptable la demora."));
    let intruder = text_mail(PACIFIC, "Re: Demora", "x1@pacificfoods.test", "También es inaceptable lo nuestro.")
        .replace(
            "Message-ID: <x1@pacificfoods.test>",
            "Message-ID: <x1@pacificfoods.test>\nIn-Reply-To: <r1@andestextil.test>",
        );
    w.mail("2026-12-01T11:00", &intruder);
    assert_eq!(w.mem.reclamos.len(), 2, "a new reclamo of its own");
    assert_eq!(w.mem.reclamos["R-000002"].client.as_deref(), Some("pacificfoods"));
    assert!(!w.mem.reclamos["R-000001"].history.iter().any(|h| h.what.contains("También")));
}

#[test]
fn a_reclamo_named_in_the_subject_is_continued_by_its_client() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &text_mail(ANDES, "Demora", "r1@andestextil.test", "Es inaceptable la demora."));
    w.mail(
        "2026-12-01T12:00",
        &text_mail(ANDES, "R-000001 sin respuesta", "r2@andestextil.test", "Nadie nos responde, es inaceptable."),
    );
    assert_eq!(w.mem.reclamos.len(), 1);
}

#[test]
fn an_insurance_claim_is_not_a_reclamo() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail(
            ANDES,
            "Siniestro",
            "i1@andestextil.test",
            "Vamos a hacer el reclamo al seguro por los bultos mojados.",
        ),
    );
    assert!(w.mem.reclamos.is_empty());
}

#[test]
fn a_carrier_notice_sets_eta_and_vessel_on_the_order_with_its_bl() {
    let mut w = World::default();
    let first = mail_with_pdf(
        ANDES,
        "BL",
        "a1@andestextil.test",
        "Adjunto el BL MEDUHG271461.",
        "BL.pdf",
        "BILL OF LADING MEDUHG271461",
    );
    w.mail("2026-12-01T10:00", &first);
    let notice = text_mail(
        "Avisos MSC <avisos@msc-peru.test>",
        "Aviso de llegada BL MEDUHG271461",
        "n1@msc-peru.test",
        "Estimados, la nave MSC LORETO viaje 611W arribará con ETA 15/12/2026. BL MEDUHG271461.",
    );
    w.mail("2026-12-01T11:00", &notice);
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.eta.as_deref(), Some("15/12/2026"));
    assert_eq!(o.vessel.as_deref(), Some("MSC LORETO 611W"));
}

#[test]
fn a_carrier_notice_for_no_known_order_is_a_task() {
    let mut w = World::default();
    let notice = text_mail(
        "Avisos MSC <avisos@msc-peru.test>",
        "Aviso de llegada",
        "n1@msc-peru.test",
        "Aviso de llegada BL MEDUHG999999, ETA 15/12/2026.",
    );
    w.mail("2026-12-01T11:00", &notice);
    assert!(w.mem.tasks.values().any(|t| t.kind == "aviso_sin_orden"));
}

#[test]
fn documents_and_a_carrier_notice_in_one_mail_compose_on_the_order() {
    // A supplier's draft BL is both: the BL must be kept *and* the ETA set
    // (two handlers saving the same order lost the first change).
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &invoice_mail("a1@andestextil.test", "Documentos [OC-2026-000001]"));
    let both = mail_with_pdf(
        "Li Wei <li@guangzhoufabrics.test>",
        "Pre-alerta [OC-2026-000001] BL MEDUHG271461",
        "g1@guangzhoufabrics.test",
        "Pre-alerta: please find attached the BL. ETA 20/12/2026.",
        "BL MEDUHG271461.pdf",
        "BILL OF LADING MEDUHG271461",
    );
    let d = w.mail("2026-12-01T11:00", &both);
    let o = &w.mem.orders["OC-2026-000001"];
    assert!(
        o.documents.iter().any(|doc| doc.kind == "documento_transporte"),
        "BL kept: {:?} {:?}",
        o.documents,
        d.outcome
    );
    assert_eq!(o.eta.as_deref(), Some("20/12/2026"), "ETA set: {:?}", d.outcome);
    let saves = d.effects.iter().filter(|e| matches!(e, Effect::SaveOrder(x) if x.id == o.id)).count();
    assert_eq!(saves, 1, "one save per order and decision");
}

#[test]
fn an_internal_alert_becomes_a_task_with_its_deadline() {
    let mut w = World::default();
    let alert = text_mail(
        "Alertas CLI <alertas@cli.test>",
        "ALERTA CLI: pago de tributos",
        "al1@cli.test",
        "Tipo: Pago de tributos\nCliente: Andes Textil S.A.C.\nDAM: 118-2026-10-012345\nFecha límite: 04/12/2026",
    );
    w.mail("2026-12-01T10:00", &alert);
    let t = w.mem.tasks.values().next().unwrap_or_else(|| panic!("no task"));
    assert!(t.kind.starts_with("alerta_"), "{}", t.kind);
    assert_eq!(t.client.as_deref(), Some("andestextil"));
    assert_eq!(t.due_at, Some(lima("2026-12-04T18:00")));
}

#[test]
fn an_alert_without_a_readable_deadline_says_so() {
    let mut w = World::default();
    let alert = text_mail(
        "Alertas CLI <alertas@cli.test>",
        "ALERTA CLI: regularización",
        "al1@cli.test",
        "Tipo: Regularización\nCliente: Desconocido\nVence: pronto",
    );
    w.mail("2026-12-01T10:00", &alert);
    let t = w.mem.tasks.values().next().unwrap_or_else(|| panic!("no task"));
    assert_eq!(t.due_at, None);
    assert!(t.summary.contains("sin fecha límite legible"), "{}", t.summary);
}

#[test]
fn a_payment_notice_is_a_task_and_administracion_is_told() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail(
            ANDES,
            "Transferencia",
            "pg1@andestextil.test",
            "Les informamos que realizamos la transferencia de los tributos. Número de operación 123456.",
        ),
    );
    assert!(w.mem.tasks.values().any(|t| t.kind == "pago" && t.client.as_deref() == Some("andestextil")));
    let notice = w.sent_of("aviso_pago");
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].to, vec!["administracion@cli.test".to_string()]);
}

#[test]
fn a_quotation_request_is_a_task_for_the_clients_assistant() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail(
            PACIFIC,
            "Cotización",
            "q1@pacificfoods.test",
            "¿Nos pueden enviar una cotización para una importación de 2 contenedores?",
        ),
    );
    let t = w.mem.tasks.values().find(|t| t.kind == "proforma").unwrap_or_else(|| panic!("no proforma task"));
    assert_eq!(t.assignee, "asistente2@cli.test");
    assert_eq!(t.state, TaskState::Pendiente);
}

#[test]
fn an_unclassified_mail_goes_to_triage() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &text_mail(ANDES, "Hola", "h1@andestextil.test", "Saludos a todo el equipo."));
    assert!(w.mem.tasks.values().any(|t| t.kind == "triage"));
}

#[test]
fn an_out_of_office_is_recorded_and_never_answered() {
    let mut w = World::default();
    let m = text_mail(
        ANDES,
        "Respuesta automática: Consulta",
        "o1@andestextil.test",
        "Estaré fuera de la oficina hasta el lunes.",
    )
    .replace("To: Operaciones", "Auto-Submitted: auto-replied\nTo: Operaciones");
    let d = w.mail("2026-12-01T10:00", &m);
    assert!(w.sent.is_empty(), "{:?}", d.outcome);
    assert!(d.outcome.iter().any(|l| l.contains("automatic mail")));
}

#[test]
fn a_bounce_of_our_mail_marks_it_failed_and_gives_a_person_a_task() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &invoice_mail("a1@andestextil.test", "Documentos"));
    let ack = w.sent_of("acuse_documentos")[0].clone();
    let bounce = format!(
        "From: MAILER-DAEMON@mx.cli.test\nTo: ops@cli.test\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <b1@mx.cli.test>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n--r\nContent-Type: text/plain\n\nThe mail could not be delivered.\n--r\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; phuaman@andestextil.test\nAction: failed\nStatus: 5.1.1\n--r\nContent-Type: text/rfc822-headers\n\nMessage-ID: <{}>\n--r--\n",
        ack.message_id
    );
    w.mail("2026-12-01T10:10", &bounce);
    assert_eq!(w.mem.outbox[&ack.id].state, OutboxState::Fallido);
    let t = w.mem.tasks.values().find(|t| t.kind == "correo_rebotado").unwrap_or_else(|| panic!("no task"));
    assert_eq!(t.order.as_deref(), Some("OC-2026-000001"));
    assert_eq!(t.client.as_deref(), Some("andestextil"));
}

#[test]
fn numbering_continues_from_what_the_view_knows() {
    let mut w = World::default();
    w.mem.sequences.insert(super::super::effect::Sequence::Tasks, 41);
    w.mail("2026-12-01T10:00", &text_mail(ANDES, "Hola", "h1@andestextil.test", "Saludos a todo el equipo."));
    assert!(w.mem.tasks.contains_key("T-000042"), "{:?}", w.mem.tasks.keys().collect::<Vec<_>>());
}
