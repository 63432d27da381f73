//! Requests to counterparts (issue 17, items 1–2): finding the counterpart,
//! the command's arguments, the request mail, the answer, the reminder and
//! the automatic arrival question — decisions on the in-memory view.

use super::super::counterparts::{self, find, says_arrived};
use super::super::model::{CounterpartState, RequestKind, TaskState};
use super::*;

const STAFF: &str = "Carla Vega <cvega@cli.test>";
const PACIFIC: &str = "Lucía Paredes <lparedes@pacificfoods.test>";
const ANDES: &str = "Patricia Huamán <phuaman@andestextil.test>";
const DEPOSITO: &str = "Operaciones DT Callao 1 <operaciones@dtcallao1.test>";

fn command(w: &mut World, now: &str, id: &str, body: &str) -> Decision {
    w.mail(now, &text_mail(STAFF, "Comandos", id, body))
}

/// Pacific Foods' order OC-2026-000001 (BL MEDUHG271461, container
/// CSQU3054383), and Andes Textil's OC-2026-000002 (BL MAEU… , another
/// container) opened at 09:00 and 09:05.
fn two_orders() -> World {
    let mut w = World::default();
    let m = mail_with_pdf(
        PACIFIC,
        "Documentos embarque conservas BL MEDUHG271461",
        "pf1@pacificfoods.test",
        "Adjunto la factura y el BL MEDUHG271461, contenedor CSQU3054383.",
        "Factura y BL.pdf",
        "COMMERCIAL INVOICE PF-88812 BILL OF LADING MEDUHG271461 CONTAINER CSQU3054383",
    );
    w.mail("2026-12-01T09:00", &m);
    let m = mail_with_pdf(
        ANDES,
        "Documentos embarque telas BL MAEU612345678",
        "at1@andestextil.test",
        "Adjunto la factura y el BL MAEU612345678, contenedor MSKU1234565.",
        "Factura AT-5521.pdf",
        "COMMERCIAL INVOICE AT-5521 BILL OF LADING MAEU612345678 CONTAINER MSKU1234565",
    );
    w.mail("2026-12-01T09:05", &m);
    assert!(w.mem.orders.contains_key("OC-2026-000001") && w.mem.orders.contains_key("OC-2026-000002"));
    w
}

fn order(w: &World, id: &str) -> super::super::model::Order {
    w.mem.orders.get(id).cloned().unwrap_or_else(|| panic!("no order {id}"))
}

fn confirmation(w: &World) -> String {
    let sent = w.sent_of("confirmacion_comando");
    let last = sent.last().unwrap_or_else(|| panic!("no confirmation"));
    w.body(&last.id)
}

#[test]
fn find_takes_the_named_counterpart_and_names_the_near_id_of_a_typo() {
    let w = two_orders();
    let dir = desk().directory;
    let o = order(&w, "OC-2026-000002");
    assert_eq!(find(dir, RequestKind::Previo, Some("dp-pacifico"), &o).map(|p| p.id.as_str()), Ok("dp-pacifico"));
    let err = find(dir, RequestKind::Previo, Some("dp-calao-1"), &o).err().unwrap_or_default();
    assert!(err.contains("¿Quiso decir «dp-callao-1»?"), "{err}");
    let err = find(dir, RequestKind::Previo, Some("msc-peru"), &o).err().unwrap_or_default();
    assert!(err.contains("no es un depósito"), "a line is no depósito: {err}");
    let err = find(dir, RequestKind::Llegada, Some("dp-callao-1"), &o).err().unwrap_or_default();
    assert!(err.contains("no es un naviera, agente o aerolínea") || err.contains("no es un"), "{err}");
}

#[test]
fn find_uses_the_clients_deposito_and_refuses_to_guess_among_several() {
    let w = two_orders();
    let dir = desk().directory;
    // Pacific Foods names its depósito in clients.toml.
    let pf = order(&w, "OC-2026-000001");
    assert_eq!(find(dir, RequestKind::Previo, None, &pf).map(|p| p.id.as_str()), Ok("dp-callao-1"));
    assert_eq!(find(dir, RequestKind::Volante, None, &pf).map(|p| p.id.as_str()), Ok("dp-callao-1"));
    // Andes Textil does not, and two depósitos are registered.
    let at = order(&w, "OC-2026-000002");
    let err = find(dir, RequestKind::Previo, None, &at).err().unwrap_or_default();
    assert!(err.contains("dp-callao-1") && err.contains("dp-pacifico") && err.contains("deposito="), "{err}");
}

#[test]
fn find_finds_the_line_by_the_prefix_of_the_orders_bl_else_the_only_line() {
    let w = two_orders();
    let dir = desk().directory;
    let pf = order(&w, "OC-2026-000001");
    assert_eq!(counterparts::bl_prefixes(&pf), vec!["MEDU".to_string()]);
    assert_eq!(find(dir, RequestKind::Bl, None, &pf).map(|p| p.id.as_str()), Ok("msc-peru"));
    // A MAEU BL: the only line registered issues MEDU BLs — never sent to it.
    let at = order(&w, "OC-2026-000002");
    let err = find(dir, RequestKind::Llegada, None, &at).err().unwrap_or_default();
    assert!(err.contains("prefijo MAEU") && err.contains("msc-peru") && err.contains("naviera="), "{err}");
    assert_eq!(find(dir, RequestKind::Llegada, Some("msc-peru"), &at).map(|p| p.id.as_str()), Ok("msc-peru"));
    // A line that lists no prefixes is the only one: it is asked.
    let mut bare = dir.clone();
    bare.counterparts.retain(|p| p.id != "msc-peru");
    let mut line = dir.counterpart("msc-peru").cloned().unwrap_or_else(|| panic!("msc-peru"));
    line.bl_prefixes.clear();
    bare.counterparts.push(line);
    assert_eq!(find(&bare, RequestKind::Llegada, None, &at).map(|p| p.id.as_str()), Ok("msc-peru"));
    // No counterpart of the kind at all: a clear error.
    let empty = Directory::default();
    let err = find(&empty, RequestKind::Llegada, None, &at).err().unwrap_or_default();
    assert!(err.contains("no hay ningún naviera, agente o aerolínea registrado"), "{err}");
}

#[test]
fn find_never_sends_a_sea_shipment_to_an_airline_nor_an_air_one_to_a_shipping_line() {
    use crate::clients::CounterpartKind;
    let w = two_orders();
    let dir = desk().directory;
    let pf = order(&w, "OC-2026-000001");
    // The only line registered is an airline with no prefixes: a BL's data
    // must not go to it.
    let mut air = dir.clone();
    air.counterparts.retain(|p| !p.kind.is_line());
    let mut latam = dir.counterpart("msc-peru").cloned().unwrap_or_else(|| panic!("msc-peru"));
    (latam.id, latam.kind, latam.name) = ("latam-cargo".into(), CounterpartKind::Aerolinea, "LATAM Cargo".into());
    latam.bl_prefixes.clear();
    latam.addresses = vec!["carga@latam.test".into()];
    air.counterparts.push(latam);
    let err = find(&air, RequestKind::Llegada, None, &pf).err().unwrap_or_default();
    assert!(err.contains("no hay ningún"), "a sea shipment to an airline: {err}");
    // An air shipment (only an AWB) and MSC the only line: not sent to MSC.
    let mut by_air = pf.clone();
    by_air.references = Default::default();
    by_air.references.insert("awb".into(), ["045-12345675".to_string()].into());
    let err = find(dir, RequestKind::Llegada, None, &by_air).err().unwrap_or_default();
    assert!(err.contains("no hay ningún"), "an air shipment to a shipping line: {err}");
    assert_eq!(find(&air, RequestKind::Llegada, None, &by_air).map(|p| p.id.as_str()), Ok("latam-cargo"));
}

#[test]
fn a_deposito_mail_naming_two_clients_orders_outside_any_thread_is_filed_in_neither() {
    let mut w = two_orders();
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#previo OC-2026-000001 fecha=03/12/2026");
    command(&mut w, "2026-12-01T10:05", "c2@cli.test", "#previo OC-2026-000002 deposito=dp-callao-1 fecha=03/12/2026");
    let m = text_mail(
        "Operaciones DT Callao 1 <operaciones@dtcallao1.test>",
        "Programación de previos 03/12",
        "lista@dtcallao1.test",
        "Estimados, programación de previos del 03/12: contenedor CSQU3054383 a las 09:00; el contenedor MSKU1234565 aún no ingresa.\n\nSaludos,\nOperaciones",
    );
    w.mail("2026-12-01T15:00", &m);
    for id in ["OC-2026-000001", "OC-2026-000002"] {
        let o = order(&w, id);
        assert!(
            o.thirdparty.requests.iter().all(|r| r.state == CounterpartState::Pendiente),
            "{id}: answered by a mail about two orders: {:?}",
            o.thirdparty.requests
        );
    }
    assert!(w.sent_of("solicitud_respondida").is_empty());
}

#[test]
fn command_arguments_need_a_retiro_date_refuse_past_dates_and_name_the_key_meant() {
    use super::super::commands::requests::parse_args;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
    let err = parse_args(RequestKind::Retiro, "transporte=tr-rapidosur", today).err().unwrap_or_default();
    assert!(err.contains("falta la fecha del retiro"), "{err}");
    let a = parse_args(RequestKind::Retiro, "fecha=04/12/2026 transporte=tr-rapidosur", today)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.date, chrono::NaiveDate::from_ymd_opt(2026, 12, 4));
    assert_eq!(a.transport.as_deref(), Some("tr-rapidosur"));
    let err = parse_args(RequestKind::Previo, "fecha=30/11/2026", today).err().unwrap_or_default();
    assert!(err.contains("ya pasó"), "{err}");
    let err = parse_args(RequestKind::Previo, "depostio=dp-callao-1", today).err().unwrap_or_default();
    assert!(err.contains("¿Quiso decir «deposito»?"), "{err}");
    let err = parse_args(RequestKind::Llegada, "deposito=dp-callao-1", today).err().unwrap_or_default();
    assert!(err.contains("naviera="), "#llegada names a line, not a depósito: {err}");
    assert_eq!(parse_args(RequestKind::Bl, "", today), Ok(Default::default()));
}

#[test]
fn a_carrier_notice_says_arrived_only_when_it_did() {
    for (text, arrived) in [
        ("La nave MSC LORETO arribó al Callao el 09/12/2026", true),
        ("Les informamos que el buque ya llegó y se encuentra en descarga", true),
        ("Vessel has arrived at Callao, discharge in progress", true),
        ("Término de descarga del contenedor CSQU3054383", true),
        ("ETA 09/12/2026, la nave arribará el martes", false),
        ("Cambio de ETA: nueva fecha estimada de llegada 11/12/2026", false),
        ("Aviso de llegada: la nave llegaría el 09/12", false),
        ("Fecha estimada de arribo: 15/12/2026", false),
        ("La nave aún no ha arribado al Callao", false),
        ("The vessel has not yet arrived", false),
        ("La nave MSC LORETO ya arribo al Callao", true),
    ] {
        assert_eq!(says_arrived(text), arrived, "{text}");
    }
}

#[test]
fn a_previo_goes_to_the_clients_deposito_with_that_orders_data_only() {
    let mut w = two_orders();
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#previo OC-2026-000001 fecha=03/12/2026");
    let sent = w.sent_of("solicitud_previo");
    assert_eq!(sent.len(), 1, "{:?}", w.sent.iter().map(|m| &m.kind).collect::<Vec<_>>());
    assert_eq!(sent[0].to, vec!["operaciones@dtcallao1.test".to_string()]);
    let body = w.body(&sent[0].id);
    for want in ["MEDUHG271461", "CSQU3054383", "Pacific Foods S.A.C.", "20512333797", "03/12/2026", "Buen día"] {
        assert!(body.contains(want), "«{want}» missing in\n{body}");
    }
    for bad in ["MAEU612345678", "MSKU1234565", "Andes", "andestextil", "cvega", "T-0", "#previo", "(s)", "{{", "None"]
    {
        assert!(!body.contains(bad), "«{bad}» in\n{body}");
    }
    let o = order(&w, "OC-2026-000001");
    let r = &o.thirdparty.requests[0];
    assert_eq!(
        (r.kind, r.counterpart.as_str(), r.state),
        (RequestKind::Previo, "dp-callao-1", CounterpartState::Pendiente)
    );
    assert_eq!(r.due_at, lima("2026-12-01T18:00"), "8 business hours from 10:00 (09:00–18:00 days)");
    let t = w.mem.tasks.get(&r.task).unwrap_or_else(|| panic!("no task {}", r.task));
    assert_eq!((t.kind.as_str(), t.due_at, t.is_open()), ("solicitud_previo", Some(r.due_at), true));
    let c = confirmation(&w);
    assert!(c.contains("OK:") && c.contains("Depósito Temporal Callao 1"), "{c}");
}

#[test]
fn a_previo_with_an_unknown_deposito_and_a_retiro_without_date_are_clear_errors() {
    let mut w = two_orders();
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#previo OC-2026-000001 deposito=dp-calao-1");
    let c = confirmation(&w);
    assert!(c.contains("Error") && c.contains("¿Quiso decir «dp-callao-1»?"), "{c}");
    command(&mut w, "2026-12-01T10:05", "c2@cli.test", "#retiro OC-2026-000001 transporte=tr-rapidosur");
    let c = confirmation(&w);
    assert!(c.contains("Error") && c.contains("falta la fecha del retiro"), "{c}");
    assert!(w.sent_of("solicitud_previo").is_empty() && w.sent_of("solicitud_retiro").is_empty());
    assert!(order(&w, "OC-2026-000001").thirdparty.requests.is_empty());
}

/// The depósito's answer, in the thread of the request.
fn answer(w: &World, from: &str, id: &str, extra_headers: &str) -> String {
    let req = w.sent_of("solicitud_previo")[0].clone();
    format!(
        "From: {from}\nTo: ops@cli.test\n{extra_headers}Subject: RE: {}\nMessage-ID: <{id}>\nIn-Reply-To: <{}>\nReferences: <{}>\nDate: Tue, 01 Dec 2026 15:00:00 -0500\nContent-Type: text/plain; charset=utf-8\n\nBuenas tardes,\n\nConfirmamos el previo para el jueves 03/12 a las 09:00, puerta 4.\n\nSaludos cordiales,\nMiguel Torres\nOperaciones\nDepósito Temporal Callao 1 S.A.\nAv. Néstor Gambetta 1234, Callao\n",
        req.subject, req.message_id, req.message_id
    )
}

#[test]
fn the_depositos_answer_is_filed_closes_the_task_and_tells_the_assistant() {
    let mut w = two_orders();
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#previo OC-2026-000001 fecha=03/12/2026");
    let raw = answer(&w, DEPOSITO, "dt1@dtcallao1.test", "");
    let d = w.mail("2026-12-01T15:00", &raw);
    assert!(!d.labels.contains(&"pago".to_string()), "a depósito's signature is no payment: {:?}", d.labels);
    let o = order(&w, "OC-2026-000001");
    let r = &o.thirdparty.requests[0];
    assert_eq!(r.state, CounterpartState::Respondida);
    assert_eq!(w.mem.tasks.get(&r.task).map(|t| t.state), Some(TaskState::Hecha));
    assert!(o.history.iter().any(|e| e.what.contains("Respuesta de Depósito Temporal Callao 1")), "{:?}", o.history);
    let told = w.sent_of("solicitud_respondida");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].to, vec!["asistente2@cli.test".to_string()]);
    assert!(w.body(&told[0].id).contains("puerta 4"));
    assert!(w.sent_of("triage").is_empty() && !w.mem.tasks.values().any(|t| t.kind == "triage"), "no triage");
    // No reminder once answered.
    w.tick("2026-12-01T18:30");
    assert!(w.sent_of("solicitud_recordatorio").is_empty());
}

#[test]
fn a_lookalike_of_the_deposito_changes_no_request() {
    let mut w = two_orders();
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#previo OC-2026-000001 fecha=03/12/2026");
    // A lookalike domain with the depósito's display name and signature.
    let raw = answer(&w, "Depósito Temporal Callao 1 <operaciones@dtcallao1-pe.test>", "fake1@x.test", "");
    w.mail("2026-12-01T15:00", &raw);
    // The registered address, but DMARC failed.
    let raw = answer(
        &w,
        DEPOSITO,
        "fake2@x.test",
        "Authentication-Results: mx.cli.test; dmarc=fail header.from=dtcallao1.test\n",
    );
    w.mail("2026-12-01T15:10", &raw);
    let o = order(&w, "OC-2026-000001");
    let r = &o.thirdparty.requests[0];
    assert_eq!(r.state, CounterpartState::Pendiente);
    assert!(w.mem.tasks.get(&r.task).is_some_and(|t| t.is_open()));
    assert!(w.sent_of("solicitud_respondida").is_empty());
}

#[test]
fn an_unanswered_request_gets_one_reminder_in_its_thread_and_never_a_second() {
    let mut w = two_orders();
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#previo OC-2026-000001 fecha=03/12/2026");
    w.tick("2026-12-01T17:00");
    assert!(w.sent_of("solicitud_recordatorio").is_empty(), "before the deadline");
    w.tick("2026-12-01T18:05");
    let rem = w.sent_of("solicitud_recordatorio");
    assert_eq!(rem.len(), 1);
    assert_eq!(rem[0].to, vec!["operaciones@dtcallao1.test".to_string()]);
    let raw = w.mem.outbox_bytes.get(&rem[0].id).cloned().unwrap_or_default();
    let req = w.sent_of("solicitud_previo")[0].message_id.clone();
    assert!(String::from_utf8_lossy(&raw).contains(&req), "the reminder is in the request's thread");
    assert_eq!(w.sent_of("solicitud_vencida").len(), 1, "the assistant is told");
    assert_eq!(order(&w, "OC-2026-000001").thirdparty.requests[0].state, CounterpartState::Vencida);
    for later in ["2026-12-02T09:00", "2026-12-03T12:00", "2026-12-07T10:00"] {
        w.tick(later);
    }
    assert_eq!(w.sent_of("solicitud_recordatorio").len(), 1, "never a second reminder");
    assert_eq!(w.sent_of("solicitud_vencida").len(), 1);
}

/// A carrier's notice naming Pacific Foods' BL (from a line nobody registered).
fn carrier_notice(w: &mut World, now: &str, id: &str, body: &str) {
    let raw = text_mail("Customer Service <noticias@navieraglobal.test>", "Aviso de llegada BL MEDUHG271461", id, body);
    w.mail(now, &raw);
}

/// The same from the registered line of the BL (MSC, `[[counterpart]]`):
/// only its word (or staff's, or the client's) says the cargo arrived.
fn line_notice(w: &mut World, now: &str, id: &str, body: &str) {
    let raw = text_mail("MSC del Perú <documentacion@mscperu.test>", "Aviso de llegada BL MEDUHG271461", id, body);
    w.mail(now, &raw);
}

#[test]
fn the_desk_asks_the_line_about_arrival_once_when_no_arrival_notice_came() {
    let mut w = two_orders();
    carrier_notice(
        &mut w,
        "2026-12-02T09:00",
        "n1@navieraglobal.test",
        "Estimados, la nave MSC LORETO viaje 611W con BL MEDUHG271461 tiene ETA 09/12/2026.",
    );
    assert_eq!(order(&w, "OC-2026-000001").eta.as_deref(), Some("09/12/2026"));
    w.tick("2026-12-10T10:00");
    assert!(w.sent_of("solicitud_llegada").is_empty(), "ETA 09/12 end of day + 12 h is 10/12 11:59");
    w.tick("2026-12-10T12:30");
    let asked = w.sent_of("solicitud_llegada");
    assert_eq!(asked.len(), 1, "asked once");
    assert_eq!(asked[0].to, vec!["documentacion@mscperu.test".to_string()], "the line of the MEDU prefix");
    let body = w.body(&asked[0].id);
    assert!(body.contains("MEDUHG271461") && body.contains("aún no hemos recibido el aviso de llegada"), "{body}");
    assert!(!body.contains("MAEU612345678"), "{body}");
    w.tick("2026-12-11T12:30");
    w.tick("2026-12-14T12:30");
    assert_eq!(w.sent_of("solicitud_llegada").len(), 1, "never twice");
}

#[test]
fn no_arrival_question_when_the_arrival_notice_came_first() {
    let mut w = two_orders();
    carrier_notice(&mut w, "2026-12-02T09:00", "n1@navieraglobal.test", "Estimados, BL MEDUHG271461: ETA 09/12/2026.");
    // An unregistered sender's "arrived" changes no request.
    carrier_notice(
        &mut w,
        "2026-12-09T15:00",
        "n3@navieraglobal.test",
        "Estimados, la nave con BL MEDUHG271461 arribó hoy al Callao.",
    );
    assert!(order(&w, "OC-2026-000001").thirdparty.arrived_at.is_none());
    line_notice(
        &mut w,
        "2026-12-09T16:00",
        "n2@mscperu.test",
        "Estimados, la nave con BL MEDUHG271461 arribó hoy al Callao.",
    );
    assert!(order(&w, "OC-2026-000001").thirdparty.arrived_at.is_some());
    w.tick("2026-12-10T12:30");
    w.tick("2026-12-11T12:30");
    assert!(w.sent_of("solicitud_llegada").is_empty());
}

#[test]
fn no_volante_two_business_days_after_arrival_asks_the_deposito_once() {
    let mut w = two_orders();
    // Thursday 10 December; Friday 11 is one business day after.
    line_notice(
        &mut w,
        "2026-12-10T10:00",
        "n2@mscperu.test",
        "Estimados, la nave con BL MEDUHG271461 arribó hoy al Callao.",
    );
    w.tick("2026-12-11T12:00");
    assert!(w.sent_of("solicitud_volante").is_empty(), "one business day only");
    w.tick("2026-12-14T10:30");
    let asked = w.sent_of("solicitud_volante");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].to, vec!["operaciones@dtcallao1.test".to_string()]);
    w.tick("2026-12-15T10:30");
    assert_eq!(w.sent_of("solicitud_volante").len(), 1, "once");
}

#[test]
fn an_order_without_requests_is_stored_as_before() {
    let w = two_orders();
    let o = order(&w, "OC-2026-000002");
    let json = serde_json::to_string(&o).unwrap_or_default();
    assert!(!json.contains("thirdparty"), "an empty field is not written: old records keep their bytes");
}

#[test]
fn an_answer_naming_the_orders_bl_outside_the_thread_is_the_answer_and_an_auto_reply_is_not() {
    let mut w = two_orders();
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#previo OC-2026-000001 fecha=03/12/2026");
    // The depósito's out-of-office, in the thread: answers nothing.
    let req = w.sent_of("solicitud_previo")[0].clone();
    let ooo = format!(
        "From: {DEPOSITO}\nTo: ops@cli.test\nSubject: Respuesta automática: {}\nMessage-ID: <ooo1@dtcallao1.test>\nIn-Reply-To: <{}>\nAuto-Submitted: auto-replied\nDate: Tue, 01 Dec 2026 10:01:00 -0500\nContent-Type: text/plain; charset=utf-8\n\nEstaré fuera de la oficina hasta el lunes.\n",
        req.subject, req.message_id
    );
    w.mail("2026-12-01T10:01", &ooo);
    assert_eq!(order(&w, "OC-2026-000001").thirdparty.requests[0].state, CounterpartState::Pendiente);
    // A new mail (no thread) that names the BL: the answer.
    let raw = text_mail(
        DEPOSITO,
        "Previo programado BL MEDUHG271461",
        "dt5@dtcallao1.test",
        "Estimados, el previo del BL MEDUHG271461 queda programado para el 03/12 a las 10:00.\n\nSaludos,\nDepósito Temporal Callao 1",
    );
    w.mail("2026-12-01T12:00", &raw);
    let o = order(&w, "OC-2026-000001");
    assert_eq!(o.thirdparty.requests[0].state, CounterpartState::Respondida);
    assert_eq!(o.thirdparty.requests[0].answer.as_deref(), Some("dt5@dtcallao1.test"));
    assert!(!o.message_ids.iter().any(|m| m.contains("dtcallao1")), "the client's thread keeps only its own mail");
}

#[test]
fn a_counterpart_writing_about_an_order_it_was_not_asked_about_is_history_only() {
    let mut w = two_orders();
    let before = order(&w, "OC-2026-000002");
    // The other depósito writes about Andes Textil's container, unasked.
    let raw = text_mail(
        "Previos <previos@almacenpacifico.test>",
        "Ingreso de contenedor MSKU1234565",
        "ap1@almacenpacifico.test",
        "Buenos días, les informamos que el contenedor MSKU1234565 ingresó a nuestro almacén.\n\nAtentamente,\nAlmacén Portuario del Pacífico",
    );
    let d = w.mail("2026-12-01T11:00", &raw);
    let after = order(&w, "OC-2026-000002");
    assert!(after.history.len() > before.history.len(), "filed: {:?}", d.outcome);
    assert!(after.history.iter().any(|e| e.what.contains("Correo de Almacén Portuario del Pacífico")));
    assert_eq!((after.stage.as_str(), &after.eta), (before.stage.as_str(), &before.eta));
    assert!(after.thirdparty.requests.is_empty());
    assert!(!w.mem.tasks.values().any(|t| t.kind.starts_with("triage")), "no triage of a counterpart's filed mail");
    // Pacific Foods' order is untouched.
    assert_eq!(order(&w, "OC-2026-000001").history.len(), order(&two_orders(), "OC-2026-000001").history.len());
}

#[test]
fn a_retiro_goes_to_the_deposito_and_the_transport_named_and_a_bl_request_to_the_line_of_the_prefix() {
    let mut w = two_orders();
    command(
        &mut w,
        "2026-12-01T10:00",
        "c1@cli.test",
        "#retiro OC-2026-000001 fecha=04/12/2026 transporte=tr-rapidosur\n#bl OC-2026-000001",
    );
    let retiro = w.sent_of("solicitud_retiro");
    assert_eq!(retiro.len(), 1, "{}", confirmation(&w));
    assert_eq!(retiro[0].to, vec!["operaciones@dtcallao1.test".to_string(), "despacho@rapidosur.test".to_string()]);
    let body = w.body(&retiro[0].id);
    assert!(body.contains("04/12/2026") && body.contains("Transportes Rápido del Sur"), "{body}");
    let bl = w.sent_of("solicitud_bl");
    assert_eq!(bl.len(), 1);
    assert_eq!(bl[0].to, vec!["documentacion@mscperu.test".to_string()]);
    let o = order(&w, "OC-2026-000001");
    let kinds: Vec<RequestKind> = o.thirdparty.requests.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![RequestKind::Retiro, RequestKind::Bl]);
    assert_eq!(o.thirdparty.requests[0].transport.as_deref(), Some("tr-rapidosur"));
    assert_eq!(o.thirdparty.requests[1].due_at, lima("2026-12-02T17:00"), "16 business hours for a BL");
    // A transport company is no depósito, and a depósito is no transport company.
    command(
        &mut w,
        "2026-12-01T10:10",
        "c2@cli.test",
        "#retiro OC-2026-000001 fecha=04/12/2026 transporte=dp-pacifico",
    );
    assert!(confirmation(&w).contains("no es una empresa de transporte"), "{}", confirmation(&w));
}

#[test]
fn an_automatic_question_with_no_line_to_ask_is_one_task_for_the_assistant() {
    let mut w = two_orders();
    // Andes Textil's MAEU BL: the only line registered issues MEDU BLs.
    let raw = text_mail(
        "Customer Service <noticias@navieraglobal.test>",
        "Aviso BL MAEU612345678",
        "n7@navieraglobal.test",
        "Estimados, BL MAEU612345678: ETA 09/12/2026.",
    );
    w.mail("2026-12-02T09:00", &raw);
    for now in ["2026-12-10T12:30", "2026-12-11T12:30", "2026-12-14T12:30"] {
        w.tick(now);
    }
    assert!(w.sent_of("solicitud_llegada").is_empty(), "never to the wrong line");
    let tasks: Vec<_> = w.mem.tasks.values().filter(|t| t.kind == "solicitud_sin_contraparte").collect();
    assert_eq!(tasks.len(), 1, "once");
    assert!(tasks[0].summary.contains("#llegada OC-2026-000002 naviera="), "{}", tasks[0].summary);
    assert_eq!(tasks[0].assignee, "asistente1@cli.test");
    // The staff member names the line: the request goes.
    command(&mut w, "2026-12-14T13:00", "c1@cli.test", "#llegada OC-2026-000002 naviera=msc-peru");
    assert_eq!(w.sent_of("solicitud_llegada").len(), 1, "{}", confirmation(&w));
}

#[test]
fn an_html_only_outlook_answer_is_filed_without_the_quoted_request() {
    let mut w = two_orders();
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#previo OC-2026-000001");
    let req = w.sent_of("solicitud_previo")[0].clone();
    let raw = format!(
        "From: {DEPOSITO}\nTo: ops@cli.test\nSubject: RE: {}\nMessage-ID: <dt8@dtcallao1.test>\nIn-Reply-To: <{mid}>\nReferences: <{mid}>\nDate: Tue, 01 Dec 2026 16:00:00 -0500\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body><div class=\"WordSection1\"><p class=\"MsoNormal\">Buenas tardes:</p><p class=\"MsoNormal\">El previo queda programado para el viernes 04/12 a las 08:30, almacén B.</p><p class=\"MsoNormal\">Saludos,<br>Miguel Torres<br>Depósito Temporal Callao 1 S.A.</p><div id=\"divRplyFwdMsg\"><hr><b>De:</b> Operaciones CLI &lt;ops@cli.test&gt;<br><b>Enviado:</b> martes, 1 de diciembre de 2026 10:00<br><b>Asunto:</b> {}</div><div><p>Buen día, estimados de Depósito Temporal Callao 1:</p><p>Nuestra referencia: OC-2026-000001</p></div></div></body></html>\n",
        req.subject,
        req.subject,
        mid = req.message_id
    );
    let d = w.mail("2026-12-01T16:00", &raw);
    assert!(!d.labels.contains(&"pago".to_string()), "{:?}", d.labels);
    let o = order(&w, "OC-2026-000001");
    assert_eq!(o.thirdparty.requests[0].state, CounterpartState::Respondida, "{:?}", d.outcome);
    let told = w.sent_of("solicitud_respondida");
    let body = w.body(&told[0].id);
    assert!(body.contains("04/12 a las 08:30"), "{body}");
    assert!(
        !body.contains("Nuestra referencia") && !body.contains("estimados de"),
        "the quoted request is not repeated:\n{body}"
    );
}

#[test]
fn an_arrival_question_long_overdue_is_not_sent_after_an_upgrade_or_an_outage() {
    let mut w = two_orders();
    carrier_notice(&mut w, "2026-12-02T09:00", "n1@navieraglobal.test", "Estimados, BL MEDUHG271461: ETA 09/12/2026.");
    // The desk looks again only a month later (stopped, or just upgraded).
    w.tick("2027-01-11T10:00");
    assert!(w.sent_of("solicitud_llegada").is_empty(), "a question a month late helps nobody");
    w.tick("2027-01-12T10:00");
    assert!(w.sent_of("solicitud_llegada").is_empty());
}
