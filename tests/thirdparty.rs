//! Requests to third parties (issue 17, items 1–2) on the embedded default
//! with `--now`: a staff member's `#previo` reaches the client's depósito
//! with that order's data only, the depósito's answer closes the task, an
//! unanswered request is reminded once, the desk asks the line about an
//! arrival by itself (once), and nobody else can pass for the depósito.

mod support;

use support::*;

fn run_once(inst: &Instance, now: &str) {
    let out = inst.run(&["--now", now, "run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn of_kind<'a>(mails: &'a [Out], prefix: &str) -> Vec<&'a Out> {
    mails.iter().filter(|m| m.file.starts_with(prefix)).collect()
}

fn files_of(mails: &[Out]) -> Vec<&String> {
    mails.iter().map(|m| &m.file).collect()
}

fn pdf_mail(from: &str, subject: &str, id: &str, date: &str, body: &str, file: &str, pdf: &[&str]) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        generate::b64(&generate::pdf(pdf))
    )
    .into_bytes()
}

fn text_mail(from: &str, subject: &str, id: &str, date: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\n{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Pacific Foods' OC-2026-000001 (its depósito is dp-callao-1 in the
/// shipped clients file) and Andes Textil's OC-2026-000002, opened on
/// Tuesday 1 December 2026 at 09:00.
fn two_orders(inst: &Instance) {
    inst.deliver(
        "01-pacific.eml",
        &pdf_mail(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "Documentos embarque conservas BL MEDUHG271461",
            "pf1@pacificfoods.test",
            "Tue, 01 Dec 2026 08:50:00 -0500",
            "Buenos días,\r\n\r\nAdjunto la factura y el BL MEDUHG271461 del embarque de conservas, contenedor CSQU3054383.\r\n\r\nSaludos,\r\nLucía Paredes\r\nPacific Foods S.A.C.",
            "Factura y BL.pdf",
            &["COMMERCIAL INVOICE", "Invoice No. PF-88812", "BILL OF LADING MEDUHG271461", "CONTAINER CSQU3054383"],
        ),
    );
    inst.deliver(
        "02-andes.eml",
        &pdf_mail(
            "Patricia Huamán <phuaman@andestextil.test>",
            "Documentos embarque telas BL MAEU612345678",
            "at1@andestextil.test",
            "Tue, 01 Dec 2026 08:55:00 -0500",
            "Buenos días,\r\n\r\nAdjunto la factura y el BL MAEU612345678, contenedor MSKU1234565.\r\n\r\nAtte.\r\nPatricia Huamán\r\nAndes Textil S.A.C.",
            "Factura AT-5521.pdf",
            &["COMMERCIAL INVOICE", "Invoice No. AT-5521", "BILL OF LADING MAEU612345678", "CONTAINER MSKU1234565"],
        ),
    );
    run_once(inst, "2026-12-01T09:00:00-05:00");
}

fn staff(inst: &Instance, name: &str, id: &str, date: &str, body: &str) {
    inst.deliver(name, &text_mail("Carla Vega <cvega@cli.test>", "Coordinaciones", id, date, "", body));
}

/// The previo request of OC-2026-000001, as sent.
fn previo(inst: &Instance) -> Out {
    staff(
        inst,
        "10-previo.eml",
        "c1@cli.test",
        "Tue, 01 Dec 2026 10:00:00 -0500",
        "Hola,\r\n\r\n#previo OC-2026-000001 deposito=dp-callao-1 fecha=03/12/2026\r\n\r\nGracias\r\nCarla",
    );
    run_once(inst, "2026-12-01T10:00:00-05:00");
    let mails = read_outbox(inst);
    let sent = of_kind(&mails, "solicitud-OC-2026-000001-1-previo");
    assert_eq!(sent.len(), 1, "{:?}", files_of(&mails));
    sent[0].clone()
}

/// The depósito's answer in the request's thread (Outlook-like, signature).
fn depositos_answer(from: &str, id: &str, req: &Out, headers: &str) -> Vec<u8> {
    let headers = format!("In-Reply-To: {mid}\r\nReferences: {mid}\r\n{headers}", mid = req.message_id_header());
    text_mail(
        from,
        &format!("RE: {}", req.subject),
        id,
        "Tue, 01 Dec 2026 15:10:00 -0500",
        &headers,
        "Buenas tardes,\r\n\r\nConfirmamos el previo para el jueves 03/12 a las 09:00 en la puerta 4. Favor presentarse con el DNI del despachador.\r\n\r\nSaludos cordiales,\r\n\r\nMiguel Torres\r\nJefe de Operaciones\r\nDepósito Temporal Callao 1 S.A.\r\nAv. Néstor Gambetta 1234, Callao\r\n\r\nEste correo y sus anexos son confidenciales.",
    )
}

trait Mid {
    fn message_id_header(&self) -> String;
}

impl Mid for Out {
    fn message_id_header(&self) -> String {
        format!("<{}>", self.message_id.trim_matches(['<', '>']))
    }
}

/// `THIRDPARTY_DUMP=<dir>`: write the outbox as read, to proofread the mails.
fn dump(inst: &Instance) {
    if let Ok(dir) = std::env::var("THIRDPARTY_DUMP") {
        for m in read_outbox(inst) {
            let text = format!("To: {:?}\nSubject: {}\n\n{}", m.to, m.subject, m.text);
            let _ = std::fs::write(format!("{dir}/{}.txt", m.file), text);
        }
    }
}

fn confirmations(inst: &Instance) -> String {
    let mails = read_outbox(inst);
    mails
        .iter()
        .filter(|m| m.to.contains(&"cvega@cli.test".to_string()))
        .map(|m| m.text.clone())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[test]
fn a_previo_reaches_the_right_deposito_with_that_orders_data_and_its_answer_closes_the_task() {
    let inst = Instance::new();
    two_orders(&inst);
    let req = previo(&inst);
    assert_eq!(req.to, vec!["operaciones@dtcallao1.test".to_string()]);
    let all = format!("{}\n{}", req.subject, req.text);
    for want in
        ["MEDUHG271461", "CSQU3054383", "Pacific Foods S.A.C.", "20512333797", "03/12/2026", "Buen día", "Atentamente"]
    {
        assert!(all.contains(want), "«{want}» missing in\n{all}");
    }
    for bad in [
        "MAEU612345678",
        "MSKU1234565",
        "Andes",
        "andestextil",
        "Carla",
        "cvega",
        "T-0",
        "#previo",
        "(s)",
        "{{",
        "None",
        "null",
    ] {
        assert!(!all.contains(bad), "«{bad}» in the depósito's mail:\n{all}");
    }
    let c = confirmations(&inst);
    assert!(c.contains("OK:") && c.contains("Depósito Temporal Callao 1"), "{c}");

    inst.deliver(
        "20-answer.eml",
        &depositos_answer("Miguel Torres <operaciones@dtcallao1.test>", "dt1@dtcallao1.test", &req, ""),
    );
    run_once(&inst, "2026-12-01T15:10:00-05:00");
    let mails = read_outbox(&inst);
    let told = of_kind(&mails, "solicitud-OC-2026-000001-1-respondida");
    assert_eq!(told.len(), 1, "{:?}", files_of(&mails));
    assert_eq!(told[0].to, vec!["asistente2@cli.test".to_string()]);
    assert!(told[0].text.contains("puerta 4") && told[0].text.contains("quedó cerrada"), "{}", told[0].text);
    let shown = stdout(&inst.run(&["orders", "show", "OC-2026-000001"]));
    assert!(shown.contains("Respuesta de Depósito Temporal Callao 1"), "{shown}");
    assert!(
        shown.contains("Solicitud a tercero: previo a Depósito Temporal Callao 1") && shown.contains("respondida"),
        "{shown}"
    );
    // Answered: no reminder at the deadline, no triage of the answer.
    run_once(&inst, "2026-12-01T18:30:00-05:00");
    let mails = read_outbox(&inst);
    assert!(of_kind(&mails, "solicitud-OC-2026-000001-1-recordatorio").is_empty(), "{:?}", files_of(&mails));
    dump(&inst);
}

#[test]
fn an_unanswered_request_is_reminded_once_in_its_thread_and_not_twice() {
    let inst = Instance::new();
    two_orders(&inst);
    let req = previo(&inst);
    run_once(&inst, "2026-12-01T17:30:00-05:00");
    assert!(of_kind(&read_outbox(&inst), "solicitud-OC-2026-000001-1-recordatorio").is_empty(), "not before 18:00");
    run_once(&inst, "2026-12-01T18:05:00-05:00");
    let mails = read_outbox(&inst);
    let rem = of_kind(&mails, "solicitud-OC-2026-000001-1-recordatorio");
    assert_eq!(rem.len(), 1, "{:?}", files_of(&mails));
    assert_eq!(rem[0].to, vec!["operaciones@dtcallao1.test".to_string()]);
    assert!(rem[0].raw.contains(req.message_id.trim_matches(['<', '>'])), "in the request's thread");
    assert!(rem[0].text.contains("MEDUHG271461") && !rem[0].text.contains("MAEU612345678"), "{}", rem[0].text);
    let notice = of_kind(&mails, "solicitud-OC-2026-000001-1-vencida");
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].to, vec!["asistente2@cli.test".to_string()]);
    for later in ["2026-12-02T09:30:00-05:00", "2026-12-03T18:30:00-05:00", "2026-12-09T10:00:00-05:00"] {
        run_once(&inst, later);
    }
    let mails = read_outbox(&inst);
    assert_eq!(of_kind(&mails, "solicitud-OC-2026-000001-1-recordatorio").len(), 1, "never a second reminder");
    assert_eq!(of_kind(&mails, "solicitud-OC-2026-000001-1-vencida").len(), 1);
    dump(&inst);
}

#[test]
fn someone_claiming_to_be_the_deposito_changes_nothing() {
    let inst = Instance::new();
    two_orders(&inst);
    let req = previo(&inst);
    // A lookalike domain with the depósito's name and signature.
    inst.deliver(
        "20-fake.eml",
        &depositos_answer(
            "Depósito Temporal Callao 1 <operaciones@dtcallao1-pe.test>",
            "f1@dtcallao1-pe.test",
            &req,
            "",
        ),
    );
    // The registered address, but DMARC failed at our MTA (`authserv_id` of the shipped config).
    let ar = "Authentication-Results: mx.cli.test; dmarc=fail header.from=dtcallao1.test\r\n";
    inst.deliver(
        "21-spoof.eml",
        &depositos_answer("Miguel Torres <operaciones@dtcallao1.test>", "f2@evil.test", &req, ar),
    );
    run_once(&inst, "2026-12-01T15:20:00-05:00");
    let mails = read_outbox(&inst);
    assert!(of_kind(&mails, "solicitud-OC-2026-000001-1-respondida").is_empty(), "{:?}", files_of(&mails));
    // Still waiting: the reminder goes at the deadline.
    run_once(&inst, "2026-12-01T18:05:00-05:00");
    let mails = read_outbox(&inst);
    assert_eq!(of_kind(&mails, "solicitud-OC-2026-000001-1-recordatorio").len(), 1, "{:?}", files_of(&mails));
}

#[test]
fn a_retiro_without_date_and_a_previo_with_an_unknown_deposito_are_clear_errors() {
    let inst = Instance::new();
    two_orders(&inst);
    staff(
        &inst,
        "10-bad.eml",
        "c9@cli.test",
        "Tue, 01 Dec 2026 10:00:00 -0500",
        "#retiro OC-2026-000001 transporte=tr-rapidosur\r\n#previo OC-2026-000001 deposito=dp-calao-1\r\n",
    );
    run_once(&inst, "2026-12-01T10:00:00-05:00");
    let c = confirmations(&inst);
    assert!(c.contains("falta la fecha del retiro"), "{c}");
    assert!(c.contains("dp-calao-1") && c.contains("dp-callao-1"), "the near id is named: {c}");
    let mails = read_outbox(&inst);
    assert!(of_kind(&mails, "solicitud-").is_empty(), "{:?}", files_of(&mails));
}

fn carrier(inst: &Instance, name: &str, id: &str, date: &str, body: &str) {
    notice(inst, "Customer Service <customerservice@navieraglobal.test>", name, id, date, body);
}

/// The registered line of the BL (MSC, a `[[counterpart]]`): only its word
/// (or staff's, or the client's) says the cargo arrived.
fn line(inst: &Instance, name: &str, id: &str, date: &str, body: &str) {
    notice(inst, "MSC del Perú <documentacion@mscperu.test>", name, id, date, body);
}

fn notice(inst: &Instance, from: &str, name: &str, id: &str, date: &str, body: &str) {
    inst.deliver(name, &text_mail(from, "Aviso BL MEDUHG271461", id, date, "", body));
}

#[test]
fn the_desk_asks_about_the_arrival_once_and_not_when_the_arrival_notice_came() {
    // No arrival notice: asked once, 12 hours after the ETA's day.
    let inst = Instance::new();
    two_orders(&inst);
    carrier(
        &inst,
        "05-eta.eml",
        "n1@navieraglobal.test",
        "Wed, 02 Dec 2026 09:00:00 -0500",
        "Estimados clientes,\r\n\r\nLa nave MSC LORETO viaje 611W con el BL MEDUHG271461 tiene ETA 09/12/2026.\r\n\r\nSaludos,\r\nCustomer Service",
    );
    run_once(&inst, "2026-12-02T09:00:00-05:00");
    run_once(&inst, "2026-12-10T10:00:00-05:00");
    assert!(of_kind(&read_outbox(&inst), "solicitud-OC-2026-000001").is_empty());
    run_once(&inst, "2026-12-10T12:30:00-05:00");
    run_once(&inst, "2026-12-11T12:30:00-05:00");
    let mails = read_outbox(&inst);
    let asked = of_kind(&mails, "solicitud-OC-2026-000001-1-llegada");
    assert_eq!(asked.len(), 1, "{:?}", files_of(&mails));
    assert_eq!(asked[0].to, vec!["documentacion@mscperu.test".to_string()]);
    assert!(asked[0].text.contains("aún no hemos recibido el aviso de llegada"), "{}", asked[0].text);
    assert!(!asked[0].text.contains("MAEU612345678") && !asked[0].text.contains("Andes"), "{}", asked[0].text);
    assert_eq!(of_kind(&mails, "solicitud-").iter().filter(|m| m.file.ends_with("llegada.eml")).count(), 1);
    dump(&inst);

    // The arrival notice came first: no question.
    let inst = Instance::new();
    two_orders(&inst);
    carrier(
        &inst,
        "05-eta.eml",
        "n1@navieraglobal.test",
        "Wed, 02 Dec 2026 09:00:00 -0500",
        "Estimados clientes,\r\n\r\nLa nave MSC LORETO viaje 611W con el BL MEDUHG271461 tiene ETA 09/12/2026.",
    );
    run_once(&inst, "2026-12-02T09:00:00-05:00");
    line(
        &inst,
        "06-arribo.eml",
        "n2@mscperu.test",
        "Wed, 09 Dec 2026 16:00:00 -0500",
        "Estimados clientes,\r\n\r\nLes informamos que la nave MSC LORETO viaje 611W arribó hoy al Callao. BL MEDUHG271461.",
    );
    run_once(&inst, "2026-12-09T16:00:00-05:00");
    run_once(&inst, "2026-12-10T12:30:00-05:00");
    run_once(&inst, "2026-12-11T12:30:00-05:00");
    let mails = read_outbox(&inst);
    assert!(of_kind(&mails, "solicitud-OC-2026-000001-1-llegada").is_empty(), "{:?}", files_of(&mails));
}

#[test]
fn no_volante_after_arrival_asks_the_deposito_once_and_a_volante_received_asks_nothing() {
    let inst = Instance::new();
    two_orders(&inst);
    line(
        &inst,
        "06-arribo.eml",
        "n2@mscperu.test",
        "Thu, 10 Dec 2026 10:00:00 -0500",
        "Estimados clientes,\r\n\r\nLa nave con el BL MEDUHG271461 arribó hoy al Callao.",
    );
    run_once(&inst, "2026-12-10T10:00:00-05:00");
    run_once(&inst, "2026-12-11T12:00:00-05:00");
    assert!(
        !of_kind(&read_outbox(&inst), "solicitud-").iter().any(|m| m.file.contains("volante")),
        "one business day only"
    );
    run_once(&inst, "2026-12-14T10:30:00-05:00");
    run_once(&inst, "2026-12-15T10:30:00-05:00");
    let mails = read_outbox(&inst);
    let asked = of_kind(&mails, "solicitud-OC-2026-000001-");
    let volantes: Vec<&&Out> = asked.iter().filter(|m| m.file.contains("volante")).collect();
    assert_eq!(volantes.len(), 1, "{:?}", files_of(&mails));
    assert_eq!(volantes[0].to, vec!["operaciones@dtcallao1.test".to_string()]);
    dump(&inst);

    // The depósito sent the volante the day after arrival: nothing asked.
    let inst = Instance::new();
    two_orders(&inst);
    line(
        &inst,
        "06-arribo.eml",
        "n2@mscperu.test",
        "Thu, 10 Dec 2026 10:00:00 -0500",
        "Estimados clientes,\r\n\r\nLa nave con el BL MEDUHG271461 arribó hoy al Callao.",
    );
    run_once(&inst, "2026-12-10T10:00:00-05:00");
    inst.deliver(
        "07-volante.eml",
        &pdf_mail(
            "Miguel Torres <operaciones@dtcallao1.test>",
            "Volante BL MEDUHG271461",
            "dt9@dtcallao1.test",
            "Fri, 11 Dec 2026 09:00:00 -0500",
            "Buenos días,\r\n\r\nAdjuntamos el volante del BL MEDUHG271461, contenedor CSQU3054383.\r\n\r\nSaludos,\r\nDepósito Temporal Callao 1",
            "volante.pdf",
            &["VOLANTE DE DESPACHO", "BL MEDUHG271461", "CONTENEDOR CSQU3054383"],
        ),
    );
    run_once(&inst, "2026-12-11T09:00:00-05:00");
    run_once(&inst, "2026-12-14T10:30:00-05:00");
    let mails = read_outbox(&inst);
    assert!(
        !of_kind(&mails, "solicitud-OC-2026-000001-").iter().any(|m| m.file.contains("volante")),
        "{:?}",
        files_of(&mails)
    );
    let shown = stdout(&inst.run(&["orders", "show", "OC-2026-000001"]));
    assert!(shown.contains("volante.pdf"), "the volante is filed in the order: {shown}");
}
