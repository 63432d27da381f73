//! Hostile and unlucky mail: nobody outside steers the desk, floods it or
//! silences it (the trust findings, each a case that failed before).

use super::super::model::TaskState;
use super::*;

const ANDES: &str = "Patricia Huamán <phuaman@andestextil.test>";
const DMARC_FAIL: &str = "Authentication-Results: mx.cli.test; dmarc=fail header.from=andestextil.test\nTo:";

fn status_question(from: &str, id: &str) -> String {
    text_mail(from, "Consulta urgente", id, "Buenas tardes, ¿cuál es el status de mi carga?")
}

fn docs(id: &str, n: usize) -> String {
    mail_with_pdf(
        ANDES,
        &format!("Documentos {n}"),
        id,
        "Adjunto la factura.",
        &format!("Factura F{n}.pdf"),
        &format!("INVOICE F-{n}"),
    )
}

#[test]
fn a_strangers_status_question_gets_a_generic_answer_that_echoes_nothing_they_wrote() {
    let mut w = World::default();
    let forged = text_mail(
        "Soporte Bancario: verifique su cuenta en http://evil.test <victim@unknown.test>",
        "Su clave vence hoy: ingrese a http://evil.test",
        "x1@unknown.test",
        "¿Cuál es el status de mi carga?",
    );
    w.mail("2026-12-01T10:00", &forged);
    let answers = w.sent_of("estado_generico");
    assert_eq!(answers.len(), 1);
    let body = w.body(&answers[0].id);
    assert!(!body.contains("evil.test"), "the sender's text was echoed: {body}");
    assert!(!body.contains("Soporte Bancario"), "{body}");
    assert!(!answers[0].subject.contains("clave"), "{}", answers[0].subject);
}

#[test]
fn nothing_automatic_goes_to_a_sender_whose_dmarc_failed() {
    let mut w = World::default();
    let forged = status_question(ANDES, "f1@andestextil.test").replace("To:", DMARC_FAIL);
    w.mail("2026-12-01T10:00", &forged);
    let to_sender: Vec<&String> =
        w.sent.iter().filter(|m| m.to.iter().any(|t| t.contains("andestextil"))).map(|m| &m.kind).collect();
    assert!(to_sender.is_empty(), "{to_sender:?}");
    assert!(w.mem.tasks.values().any(|t| t.kind == "estado_sin_verificar"), "a person is told");
    // The person is told by mail too (the new task's notice), not the sender.
    assert!(w.sent.iter().all(|m| m.kind == "tarea_nueva"), "{:?}", w.sent.iter().map(|m| &m.kind).collect::<Vec<_>>());
}

#[test]
fn answers_to_strangers_have_a_desk_wide_cap_and_past_it_a_person_gets_the_mail() {
    let mut w = World::default();
    for i in 0..12 {
        w.mail("2026-12-01T10:00", &status_question(&format!("x{i}@stranger{i}.test"), &format!("s{i}@stranger.test")));
    }
    assert_eq!(w.sent_of("estado_generico").len(), 10, "stranger_replies_per_hour = 10 for the whole desk");
    assert_eq!(
        w.mem.tasks.values().filter(|t| t.kind == "estado_sin_verificar").count(),
        12,
        "every one reaches a person"
    );
}

#[test]
fn forged_requests_in_a_clients_name_do_not_spend_its_budget() {
    let mut w = World::default();
    for i in 0..20 {
        let forged = status_question(ANDES, &format!("f{i}@andestextil.test")).replace("To:", DMARC_FAIL);
        w.mail("2026-12-01T10:00", &forged);
    }
    w.mail("2026-12-01T10:05", &docs("d1@andestextil.test", 1));
    assert_eq!(w.sent_of("acuse_documentos").len(), 1, "the genuine documents are acknowledged");
}

#[test]
fn a_suppressed_acknowledgement_becomes_a_task() {
    let mut w = World::default();
    for n in 0..6 {
        w.mail("2026-12-01T10:00", &docs(&format!("d{n}@andestextil.test"), n));
    }
    assert_eq!(w.sent_of("acuse_documentos").len(), 5, "replies_per_sender_hour = 5");
    let t = w.mem.tasks.values().find(|t| t.kind == "acuse_no_enviado").unwrap_or_else(|| panic!("no task"));
    assert_eq!(t.state, TaskState::Pendiente);
    assert!(t.summary.contains("phuaman@andestextil.test"), "{}", t.summary);
    assert!(t.order.is_some());
}

#[test]
fn reply_windows_are_lima_days_not_utc_days() {
    // 14:00–19:59 in Lima is 19:00–00:59 UTC: one Lima day, two UTC days.
    // Four questions an hour (under the hourly limit of 5), six hours.
    let mut w = World::default();
    for hour in 14..=19 {
        for q in 0..4 {
            let at = format!("2026-12-01T{hour}:{:02}", q * 10);
            w.mail(&at, &status_question(ANDES, &format!("q{hour}-{q}@andestextil.test")));
        }
    }
    assert_eq!(w.sent_of("estado").len(), 20, "replies_per_sender_day = 20 within the Lima day (UTC days: 24)");
}

#[test]
fn a_clients_carrier_like_mail_touches_only_its_own_orders() {
    let mut w = World::default();
    let other = mail_with_pdf(
        "Luis <lsoto@pacificfoods.test>",
        "BL",
        "p1@pacificfoods.test",
        "Adjunto el BL MEDUHG271461.",
        "BL.pdf",
        "BILL OF LADING MEDUHG271461",
    );
    w.mail("2026-12-01T10:00", &other);
    let notice = text_mail(
        ANDES,
        "Aviso de llegada BL MEDUHG271461",
        "n1@andestextil.test",
        "Aviso de llegada: la nave MSC LORETO viaje 611W arribará con ETA 15/12/2026. BL MEDUHG271461.",
    );
    w.mail("2026-12-01T11:00", &notice);
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.client, "pacificfoods");
    assert_eq!(o.eta, None, "another client's mail changed this order's ETA");
    assert_eq!(o.vessel, None);
}

#[test]
fn an_internal_alert_whose_dmarc_failed_sets_no_deadline() {
    let mut w = World::default();
    let alert = text_mail(
        "Alertas CLI <alertas@cli.test>",
        "ALERTA CLI: pago de tributos",
        "al1@cli.test",
        "Tipo: Pago de tributos\nCliente: Andes Textil S.A.C.\nFecha límite: 04/12/2026",
    )
    .replace("To:", "Authentication-Results: mx.cli.test; dmarc=fail header.from=cli.test\nTo:");
    w.mail("2026-12-01T10:00", &alert);
    assert!(w.mem.tasks.values().all(|t| t.due_at.is_none()), "no deadline from a forged alert");
    assert!(w.mem.tasks.values().any(|t| t.kind == "remitente_no_verificado"));
}

#[test]
fn what_staff_write_with_a_command_stays_internal() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &docs("d1@andestextil.test", 1));
    let cmd = text_mail(
        "Carla <cvega@cli.test>",
        "x",
        "c1@cli.test",
        "#eta OC-2026-000001 15/12/2026 ojo: el cliente debe 3 facturas, no soltar la carga (cvega@cli.test)",
    );
    w.mail("2026-12-01T11:00", &cmd);
    assert_eq!(w.mem.orders["OC-2026-000001"].eta.as_deref(), Some("15/12/2026"), "only the date is data");
    w.mail("2026-12-01T12:00", &status_question(ANDES, "q1@andestextil.test"));
    let status = w.sent_of("estado");
    let body = w.body(&status[0].id);
    assert!(body.contains("15/12/2026"), "{body}");
    assert!(!body.contains("facturas") && !body.contains("cvega"), "an internal remark reached the client: {body}");
}

#[test]
fn command_values_are_bounded() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &docs("d1@andestextil.test", 1));
    let huge = format!("#nave OC-2026-000001 {}", "A".repeat(200_000));
    w.mail("2026-12-01T11:00", &text_mail("Carla <cvega@cli.test>", "x", "c1@cli.test", &huge));
    assert_eq!(w.mem.orders["OC-2026-000001"].vessel, None);
    let c = w.sent_of("confirmacion_comando");
    assert!(c[0].subject.len() < 300);
    assert!(w.body(&c[0].id).len() < 5_000, "the error does not echo 200,000 characters");
    w.mail(
        "2026-12-01T11:01",
        &text_mail("Carla <cvega@cli.test>", "x", "c2@cli.test", "#estado OC-2026-000001 numerada canal=morado"),
    );
    assert_eq!(w.mem.orders["OC-2026-000001"].stage, "abierta", "an unknown channel is refused");
}

#[test]
fn a_quick_answer_to_our_own_mail_with_nothing_new_gets_no_automatic_answer() {
    // An auto-responder without RFC 3834 headers answers our acknowledgement
    // at once with a "question": a loop if answered. A person gets it.
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &docs("d1@andestextil.test", 1));
    let ack = w.sent_of("acuse_documentos")[0].message_id.clone();
    let echo = status_question(ANDES, "e1@andestextil.test").replace(
        "Message-ID: <e1@andestextil.test>",
        &format!("Message-ID: <e1@andestextil.test>\nIn-Reply-To: <{ack}>"),
    );
    w.mail("2026-12-01T10:01", &echo);
    assert!(w.sent_of("estado").is_empty());
    assert!(w.mem.tasks.values().any(|t| t.kind == "estado_no_respondido"), "the question reaches a person");
    // Half an hour later it is a person writing: answered.
    let later = status_question(ANDES, "e2@andestextil.test").replace(
        "Message-ID: <e2@andestextil.test>",
        &format!("Message-ID: <e2@andestextil.test>\nIn-Reply-To: <{ack}>"),
    );
    w.mail("2026-12-01T10:40", &later);
    assert_eq!(w.sent_of("estado").len(), 1);
}

#[test]
fn a_clients_command_quoted_in_a_staff_html_reply_is_not_obeyed() {
    // Outlook (HTML only): the client's mail inside the reply, no attribution
    // line; the client wrote `#cerrar` in it.
    let mut w = World::default();
    w.mail("2026-12-01T10:00", &docs("d1@andestextil.test", 1));
    let html = "<html><body><div>Gracias Patricia, lo reviso y le confirmo.</div><div>Carla</div>\
        <div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>De:</b> Patricia Huamán &lt;phuaman@andestextil.test&gt;<br>\
        <b>Enviado:</b> martes, 1 de diciembre de 2026 10:30<br><b>Para:</b> Operaciones<br><b>Asunto:</b> Documentos</div>\
        <div>#cerrar OC-2026-000001</div><div>#resuelto R-000001 ya está</div></body></html>";
    let reply = format!(
        "From: Carla Vega <cvega@cli.test>\nTo: ops@cli.test\nSubject: RE: Documentos\nMessage-ID: <c1@cli.test>\nDate: Tue, 01 Dec 2026 11:00:00 -0500\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n{html}\n"
    );
    let d = w.mail("2026-12-01T11:00", &reply);
    assert!(!w.mem.orders["OC-2026-000001"].closed, "a quoted client command was obeyed: {:?}", d.outcome);
    // The staff member's own command above the quote is obeyed.
    let own = reply
        .replace("Gracias Patricia, lo reviso y le confirmo.", "#nave OC-2026-000001 MSC LORETO 611W")
        .replace("c1@cli.test", "c2@cli.test");
    w.mail("2026-12-01T11:05", &own);
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.vessel.as_deref(), Some("MSC LORETO 611W"));
    assert!(!o.closed);
}
