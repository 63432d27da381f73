//! Closing the file and extraordinary services (issue 17, items 4 and 5),
//! on the embedded default with `--now`: the outbox mails read back as the
//! staff member, the assistant and the executive would read them.

mod support;

use support::*;

fn run_once(inst: &Instance, now: &str) {
    let out = inst.run(&["--now", now, "run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn pdf_part(file: &str, lines: &[&str]) -> String {
    format!(
        "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        generate::b64(&generate::pdf(lines))
    )
}

/// A mail with PDFs: (file name, text lines) each.
fn pdf_mail(from: &str, subject: &str, id: &str, date: &str, body: &str, pdfs: &[(&str, &[&str])]) -> Vec<u8> {
    let parts: String = pdfs.iter().map(|(f, l)| pdf_part(f, l)).collect();
    format!(
        "From: {from}\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n{parts}--b--\r\n"
    )
    .into_bytes()
}

/// A staff member's Outlook mail (HTML only, with a signature and disclaimer).
fn staff(inst: &Instance, name: &str, id: &str, date: &str, commands: &[&str]) {
    let lines: String = commands.iter().map(|c| format!("<p class=MsoNormal>{c}</p>")).collect();
    let raw = format!(
        "From: Carla Vega <cvega@cli.test>\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: Comandos\r\nDate: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><div class=WordSection1>{lines}<p class=MsoNormal>&nbsp;</p><p class=MsoNormal>Saludos,<br>Carla Vega<br>Ejecutiva de cuenta | CLI Gestiones</p><p style='font-size:8pt;color:gray'>Este mensaje es confidencial y para uso exclusivo de su destinatario.</p></div></body></html>\r\n"
    );
    inst.deliver(name, raw.as_bytes());
}

/// Pacific Foods' order OC-2026-000001: its invoice and BL, 1 Dec 09:00.
fn pacific_order(inst: &Instance) {
    inst.deliver(
        "01-docs.eml",
        &pdf_mail(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "Documentos embarque conservas BL MEDUHG271461",
            "pf1@pacificfoods.test",
            "Tue, 01 Dec 2026 09:00:00 -0500",
            "Buenos días,\r\n\r\nAdjunto la factura y el BL MEDUHG271461 del embarque de conservas.\r\n\r\nSaludos,\r\nLucía Paredes\r\nPacific Foods S.A.C.",
            &[
                ("Factura PF-88812.pdf", &["COMMERCIAL INVOICE", "Invoice No. PF-88812"]),
                ("BL MEDUHG271461.pdf", &["BILL OF LADING MEDUHG271461", "Port of loading: Miami"]),
            ],
        ),
    );
    run_once(inst, "2026-12-01T09:00:00-05:00");
}

fn order(inst: &Instance, id: &str) -> serde_json::Value {
    inst.json(&["orders", "show", id, "--json"]).into_iter().next().unwrap_or_else(|| panic!("no order {id}"))
}

fn of_kind<'a>(mails: &'a [Out], prefix: &str) -> Vec<&'a Out> {
    mails.iter().filter(|m| m.file.starts_with(prefix)).collect()
}

fn confirmation_of(inst: &Instance, id: &str) -> String {
    let mails = read_outbox(inst);
    mails
        .iter()
        .find(|m| m.raw.contains(&format!("In-Reply-To: <{id}>")))
        .map(|m| m.text.clone())
        .unwrap_or_else(|| panic!("no confirmation of {id}"))
}

#[test]
fn archivar_is_refused_with_what_the_file_misses_then_forced_with_who_and_what() {
    let inst = Instance::new();
    pacific_order(&inst);
    staff(&inst, "02-arch.eml", "c1@cli.test", "Tue, 01 Dec 2026 10:00:00 -0500", &["#archivar OC-2026-000001"]);
    run_once(&inst, "2026-12-01T10:00:00-05:00");
    let o = order(&inst, "OC-2026-000001");
    assert_eq!(o["closed"], false, "{o}");
    assert_eq!(o["stage"], "abierta");
    let c = confirmation_of(&inst, "c1@cli.test");
    for want in [
        "no se archivó la orden OC-2026-000001",
        "DAM",
        "Volante de despacho",
        "Levante autorizado",
        "Liquidación de tributos pagada",
        "#archivar OC-2026-000001 forzar",
    ] {
        assert!(c.contains(want), "«{want}» missing:\n{c}");
    }
    for present in ["Factura comercial", "Documento de transporte"] {
        assert!(!c.contains(present), "«{present}» is in the file, yet listed:\n{c}");
    }
    // `#estado … archivada` obeys the same check.
    staff(
        &inst,
        "03-estado.eml",
        "c2@cli.test",
        "Tue, 01 Dec 2026 10:10:00 -0500",
        &["#estado OC-2026-000001 archivada"],
    );
    run_once(&inst, "2026-12-01T10:10:00-05:00");
    assert_eq!(order(&inst, "OC-2026-000001")["closed"], false);
    let c = confirmation_of(&inst, "c2@cli.test");
    assert!(c.contains("no se archivó") && c.contains("Volante de despacho"), "{c}");
    // Forced: archived, and the history says who and what was missing (staff-only).
    staff(
        &inst,
        "04-forzar.eml",
        "c3@cli.test",
        "Tue, 01 Dec 2026 10:20:00 -0500",
        &["#archivar OC-2026-000001 forzar"],
    );
    run_once(&inst, "2026-12-01T10:20:00-05:00");
    let o = order(&inst, "OC-2026-000001");
    assert_eq!((o["closed"].as_bool(), o["stage"].as_str()), (Some(true), Some("archivada")), "{o}");
    let forced = o["history"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["what"].as_str().is_some_and(|w| w.contains("forzada por cvega@cli.test")))
        .unwrap_or_else(|| panic!("no record of who forced it: {}", o["history"]));
    assert_eq!(forced["internal"], true, "{forced}");
    assert!(
        forced["what"].as_str().is_some_and(|w| w.contains("Volante de despacho") && w.contains("DAM")),
        "{forced}"
    );
    assert!(confirmation_of(&inst, "c3@cli.test").contains("expediente incompleto"));
}

#[test]
fn an_order_whose_file_is_complete_is_archived() {
    let inst = Instance::new();
    pacific_order(&inst);
    // An export: its closing list is DAM, invoice, BL and packing list.
    staff(&inst, "02-reg.eml", "c1@cli.test", "Tue, 01 Dec 2026 09:30:00 -0500", &["#regimen OC-2026-000001 40"]);
    run_once(&inst, "2026-12-01T09:30:00-05:00");
    inst.deliver(
        "03-docs.eml",
        &pdf_mail(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "RE: Documentos embarque conservas BL MEDUHG271461",
            "pf2@pacificfoods.test",
            "Wed, 02 Dec 2026 11:00:00 -0500",
            "Buenos días,\r\n\r\nLes paso la lista de empaque y la DAM que nos faltaba.\r\n\r\nSaludos,\r\nLucía",
            &[
                ("Packing list PF-88812.pdf", &["PACKING LIST", "BL MEDUHG271461"]),
                ("DAM 118-2026-40-004512.pdf", &["DECLARACION ADUANERA DE MERCANCIAS", "DAM 118-2026-40-004512"]),
            ],
        ),
    );
    run_once(&inst, "2026-12-02T11:00:00-05:00");
    let o = order(&inst, "OC-2026-000001");
    assert_eq!(o["archive_missing"], serde_json::json!([]), "the file is not complete: {o}");
    staff(&inst, "04-arch.eml", "c2@cli.test", "Wed, 02 Dec 2026 12:00:00 -0500", &["#archivar OC-2026-000001"]);
    run_once(&inst, "2026-12-02T12:00:00-05:00");
    let o = order(&inst, "OC-2026-000001");
    assert_eq!((o["closed"].as_bool(), o["stage"].as_str()), (Some(true), Some("archivada")), "{o}");
    assert!(confirmation_of(&inst, "c2@cli.test").contains("archivada con el expediente completo"));
}

#[test]
fn the_weekly_list_goes_to_the_clients_assistant_once_a_week_with_only_incomplete_retired_or_invoiced_orders() {
    let inst = Instance::new();
    pacific_order(&inst);
    // A second Pacific Foods order, still at its start.
    inst.deliver(
        "02-docs.eml",
        &pdf_mail(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "Documentos embarque aceite BL MEDUHG271999",
            "pf3@pacificfoods.test",
            "Tue, 01 Dec 2026 09:30:00 -0500",
            "Buenos días,\r\n\r\nAdjunto la factura del embarque de aceite, BL MEDUHG271999.\r\n\r\nSaludos,\r\nLucía",
            &[("Factura PF-88900.pdf", &["COMMERCIAL INVOICE", "Invoice No. PF-88900", "BL MEDUHG271999"])],
        ),
    );
    run_once(&inst, "2026-12-01T09:30:00-05:00");
    staff(
        &inst,
        "03-ret.eml",
        "c1@cli.test",
        "Wed, 02 Dec 2026 10:00:00 -0500",
        &["#estado OC-2026-000001 retirada", "#cerrar OC-2026-000001"],
    );
    run_once(&inst, "2026-12-02T10:00:00-05:00");
    // `#cerrar` goes through the closing list too: refused with what is missing.
    let o = order(&inst, "OC-2026-000001");
    assert_eq!(o["closed"].as_bool(), Some(false), "#cerrar of an incomplete file is refused: {o}");
    let refused = read_outbox(&inst)
        .into_iter()
        .filter(|m| m.to == ["cvega@cli.test"])
        .map(|m| m.text)
        .find(|t| t.contains("no se cerró la orden OC-2026-000001"))
        .unwrap_or_else(|| panic!("no refusal of #cerrar"));
    assert!(refused.contains("#cerrar OC-2026-000001 forzar"), "{refused}");
    staff(&inst, "04-cer.eml", "c2@cli.test", "Wed, 02 Dec 2026 10:10:00 -0500", &["#cerrar OC-2026-000001 forzar"]);
    run_once(&inst, "2026-12-02T10:10:00-05:00");
    let o = order(&inst, "OC-2026-000001");
    assert_eq!(
        (o["closed"].as_bool(), o["stage"].as_str()),
        (Some(true), Some("retirada")),
        "#cerrar … forzar closes, no archive: {o}"
    );
    assert!(o["history"].to_string().contains("Cerrada con el expediente incompleto, forzada por"), "{o}");
    run_once(&inst, "2026-12-07T08:00:00-05:00");
    assert!(of_kind(&read_outbox(&inst), "archivo-").is_empty(), "before Monday 08:30");
    run_once(&inst, "2026-12-07T08:30:00-05:00");
    run_once(&inst, "2026-12-07T16:00:00-05:00");
    run_once(&inst, "2026-12-09T10:00:00-05:00");
    let mails = read_outbox(&inst);
    let lists = of_kind(&mails, "archivo-");
    assert_eq!(lists.len(), 1, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    let l = lists[0];
    assert_eq!(l.to, vec!["asistente2@cli.test".to_string()], "Pacific Foods' assistant");
    for want in [
        "Buen día",
        "OC-2026-000001",
        "Pacific Foods S.A.C.",
        "retirada",
        "Faltan:",
        "Volante de despacho",
        "Atentamente",
    ] {
        assert!(l.text.contains(want), "«{want}» missing:\n{}", l.text);
    }
    assert!(!l.text.contains("OC-2026-000002"), "an order at its start is listed:\n{}", l.text);
    for bad in ["{{", "null", "(s)", "liquidacion", "documento_transporte"] {
        assert!(!l.text.contains(bad), "«{bad}» in:\n{}", l.text);
    }
    assert!(l.raw.contains("text/html"), "an HTML table too");
    // The next week it comes again (the file is still incomplete).
    run_once(&inst, "2026-12-14T08:45:00-05:00");
    assert_eq!(of_kind(&read_outbox(&inst), "archivo-").len(), 2);
}

/// The CSV attached to an outbox mail, decoded.
fn csv_attachment(m: &Out) -> (String, String) {
    use mail_parser::{MessageParser, MimeHeaders};
    let parsed = MessageParser::default().parse(m.raw.as_bytes()).unwrap_or_else(|| panic!("unparseable"));
    let a = parsed
        .attachments()
        .find(|a| a.attachment_name().is_some_and(|n| n.ends_with(".csv")))
        .unwrap_or_else(|| panic!("no CSV attached to {}", m.file));
    (a.attachment_name().unwrap_or("").to_string(), String::from_utf8_lossy(a.contents()).into_owned())
}

#[test]
fn an_out_of_hours_command_is_an_extra_listed_in_the_executives_monthly_report_and_an_in_hours_one_is_not() {
    let inst = Instance::new();
    pacific_order(&inst);
    staff(&inst, "02-eta.eml", "c1@cli.test", "Tue, 01 Dec 2026 11:00:00 -0500", &["#eta OC-2026-000001 15/12/2026"]);
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    assert_eq!(order(&inst, "OC-2026-000001")["extras"], serde_json::json!([]), "in hours: no extra");
    // Saturday morning: the vessel and the ETA, in one mail.
    staff(
        &inst,
        "03-sab.eml",
        "c2@cli.test",
        "Sat, 05 Dec 2026 10:00:00 -0500",
        &["#nave OC-2026-000001 MSC LORETO 611W", "#eta OC-2026-000001 16/12/2026"],
    );
    run_once(&inst, "2026-12-05T10:00:00-05:00");
    let x = order(&inst, "OC-2026-000001")["extras"].clone();
    assert_eq!(x.as_array().map(Vec::len), Some(1), "one per mail: {x}");
    assert_eq!(x[0]["kind"], "fuera_de_horario");
    assert_eq!(x[0]["by"], "cvega@cli.test");
    assert!(x[0]["reason"].as_str().is_some_and(|r| r.contains("sábado 05/12/2026 10:00")), "{x}");
    // December's report: Monday 4 January 2027 (1 January is a holiday).
    run_once(&inst, "2027-01-01T10:00:00-05:00");
    assert!(of_kind(&read_outbox(&inst), "extras-").is_empty(), "not on a holiday");
    run_once(&inst, "2027-01-04T09:00:00-05:00");
    run_once(&inst, "2027-01-04T15:00:00-05:00");
    let mails = read_outbox(&inst);
    let r = of_kind(&mails, "extras-");
    assert_eq!(r.len(), 1, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    assert_eq!(r[0].to, vec!["jrojas@cli.test".to_string()], "Pacific Foods' executive");
    assert!(r[0].subject.contains("diciembre de 2026"), "{}", r[0].subject);
    for want in ["Buen día", "glosa 10110", "OC-2026-000001", "Pacific Foods S.A.C.", "Atentamente"] {
        assert!(r[0].text.contains(want), "«{want}» missing:\n{}", r[0].text);
    }
    let (name, csv) = csv_attachment(r[0]);
    assert_eq!(name, "servicios-extraordinarios-2026-12.csv");
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows[0], "\u{feff}ORDEN,CLIENTE,FECHA,MOTIVO,REGISTRADO POR", "{csv:?}");
    assert_eq!(rows.len(), 2, "only the Saturday command: {csv:?}");
    assert!(rows[1].starts_with("OC-2026-000001,Pacific Foods S.A.C.,05/12/2026 10:00,"), "{}", rows[1]);
    assert!(rows[1].contains("#nave") && rows[1].ends_with(",cvega@cli.test"), "{}", rows[1]);
    // The command line lists the same rows, the same bytes in CSV.
    let out = inst.run(&["extras", "--month", "2026-12", "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), csv);
    let out = inst.run(&["extras", "--month", "2026-13"]);
    assert!(!out.status.success(), "a bad month is refused");
}

#[test]
fn a_request_out_of_the_clients_agreed_services_is_recorded() {
    let inst = Instance::new();
    let text = std::fs::read_to_string(root().join("clients.toml")).unwrap_or_default();
    let anchor = "partners = [\"miamiforwarding.test\"]\n";
    assert!(text.contains(anchor), "the shipped clients file changed");
    inst.write(
        "clients.toml",
        &text.replacen(anchor, &format!("{anchor}servicios = [\"importacion\", \"previo\"]\n"), 1),
    );
    pacific_order(&inst);
    staff(&inst, "02-eta.eml", "c1@cli.test", "Tue, 01 Dec 2026 10:00:00 -0500", &["#eta OC-2026-000001 15/12/2026"]);
    run_once(&inst, "2026-12-01T10:00:00-05:00");
    assert_eq!(order(&inst, "OC-2026-000001")["extras"], serde_json::json!([]), "an import is in its scope");
    staff(&inst, "03-reg.eml", "c2@cli.test", "Tue, 01 Dec 2026 10:30:00 -0500", &["#regimen OC-2026-000001 40"]);
    run_once(&inst, "2026-12-01T10:30:00-05:00");
    staff(&inst, "04-eta.eml", "c3@cli.test", "Tue, 01 Dec 2026 11:00:00 -0500", &["#eta OC-2026-000001 16/12/2026"]);
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let x = order(&inst, "OC-2026-000001")["extras"].clone();
    assert_eq!(x.as_array().map(Vec::len), Some(1), "once per service: {x}");
    assert_eq!(x[0]["kind"], "fuera_de_alcance");
    let why = x[0]["reason"].as_str().unwrap_or("");
    assert!(why.contains("Exportación") && why.contains("Pacific Foods S.A.C."), "{why}");
    let out = inst.run(&["extras", "--month", "2026-12", "--format", "json"]);
    assert!(out.status.success() && stdout(&out).contains("fuera_de_alcance"), "{}", stdout(&out));
    // Requests to third parties are services of their own: a previo is
    // agreed, a pickup (retiro) is not.
    staff(&inst, "05-previo.eml", "c4@cli.test", "Tue, 01 Dec 2026 11:30:00 -0500", &["#previo OC-2026-000001"]);
    run_once(&inst, "2026-12-01T11:30:00-05:00");
    assert_eq!(order(&inst, "OC-2026-000001")["extras"].as_array().map(Vec::len), Some(1), "a previo is agreed");
    staff(
        &inst,
        "06-retiro.eml",
        "c5@cli.test",
        "Tue, 01 Dec 2026 12:00:00 -0500",
        &["#retiro OC-2026-000001 fecha=04/12/2026 transporte=tr-rapidosur"],
    );
    run_once(&inst, "2026-12-01T12:00:00-05:00");
    let x = order(&inst, "OC-2026-000001")["extras"].clone();
    assert_eq!(x.as_array().map(Vec::len), Some(2), "the retiro is out of scope: {x}");
    assert!(x[1]["reason"].as_str().is_some_and(|r| r.contains("Retiro de la carga")), "{x}");
    // A client who agreed to exports only sends an import's documents: the
    // new order is out of scope from the start, asked for by the client.
    let inst = Instance::new();
    inst.write("clients.toml", &text.replacen(anchor, &format!("{anchor}servicios = [\"exportacion\"]\n"), 1));
    pacific_order(&inst);
    let x = order(&inst, "OC-2026-000001")["extras"].clone();
    assert_eq!(x.as_array().map(Vec::len), Some(1), "{x}");
    assert_eq!(
        (x[0]["kind"].as_str(), x[0]["by"].as_str()),
        (Some("fuera_de_alcance"), Some("lparedes@pacificfoods.test"))
    );
    assert!(x[0]["reason"].as_str().is_some_and(|r| r.contains("Importación")), "{x}");
}

#[test]
fn rules_check_reports_an_unknown_closing_regime_or_item_and_an_unknown_service_at_its_line() {
    let inst = Instance::new();
    let rules = std::fs::read_to_string(root().join("rules/checklists.toml")).unwrap_or_default();
    inst.write(
        "rules/checklists.toml",
        &format!("{rules}\n[[closing]]\nregime = \"77\"\nrequired = [\"dam\"]\n\n[[closing]]\nregime = \"30\"\nrequired = [\"volantes\"]\n"),
    );
    let out = inst.run(&["rules", "check"]);
    assert!(!out.status.success());
    let err = format!("{}{}", stdout(&out), stderr(&out));
    assert!(err.contains("checklists.toml:") && err.contains("closing 77: unknown regime"), "{err}");
    assert!(err.contains("unknown item `volantes`") && err.contains("«volante»"), "{err}");
    let inst = Instance::new();
    let text = std::fs::read_to_string(root().join("clients.toml")).unwrap_or_default();
    let anchor = "partners = [\"miamiforwarding.test\"]\n";
    inst.write(
        "clients.toml",
        &text.replacen(anchor, &format!("{anchor}servicios = [\"importacion\", \"retiros\"]\n"), 1),
    );
    let out = inst.run(&["rules", "check"]);
    assert!(!out.status.success());
    let err = format!("{}{}", stdout(&out), stderr(&out));
    assert!(err.contains("clients.toml:") && err.contains("retiros"), "{err}");
    let inst = Instance::new();
    let config = std::fs::read_to_string(root().join("config.toml")).unwrap_or_default();
    assert!(config.contains("closing_list_day = \"lunes\""), "the shipped config changed");
    inst.write("config.toml", &config.replacen("closing_list_day = \"lunes\"", "closing_list_day = \"lunez\"", 1));
    let out = inst.run(&["rules", "check"]);
    assert!(!out.status.success());
    let err = format!("{}{}", stdout(&out), stderr(&out));
    assert!(err.contains("config.toml:") && err.contains("closing_list_day `lunez` is not a weekday"), "{err}");
}
