//! The file for liquidation and the volantes (issue 17, items 3 and 6), on
//! the embedded default (Maildir in, `.eml` out, sled) with `--now`: the
//! ZIP opened and compared byte for byte, the mails read back as the staff
//! member reads them.

mod support;

use std::io::Read;

use support::*;

fn run_once(inst: &Instance, now: &str) {
    let out = inst.run(&["--now", now, "run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A mail with PDF attachments (name, bytes), the way Outlook sends them.
fn mail_with(from: &str, subject: &str, id: &str, date: &str, body: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    );
    for (name, bytes) in files {
        m.push_str(&format!(
            "--b\r\nContent-Type: application/pdf; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            generate::b64(bytes)
        ));
    }
    m.push_str("--b--\r\n");
    m.into_bytes()
}

fn text_mail(from: &str, subject: &str, id: &str, date: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// The three files Pacific Foods sends: the invoice, the BL, and the
/// corrected invoice under the same name.
struct Files {
    invoice: Vec<u8>,
    bl: Vec<u8>,
    invoice2: Vec<u8>,
}

/// Pacific Foods' order OC-2026-000001: invoice and BL at 09:00, a
/// corrected invoice of the same name at 11:00.
fn pacific_order(inst: &Instance) -> Files {
    let f = Files {
        invoice: generate::pdf(&["COMMERCIAL INVOICE", "Invoice No. PF-88812", "Total USD 18,400.00"]),
        bl: generate::pdf(&[
            "BILL OF LADING MEDUHG271461",
            "Consignee: PACIFIC FOODS S.A.C. RUC 20512333797",
            "Container MSCU7654329 40HC",
            "No. of packages: 1200 CARTONS",
            "Gross weight: 18,450.50 KGS",
            "Port of discharge CALLAO",
        ]),
        invoice2: generate::pdf(&["COMMERCIAL INVOICE", "Invoice No. PF-88812", "Total USD 18,350.00 (corrected)"]),
    };
    inst.deliver(
        "01-docs.eml",
        &mail_with(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "Documentos embarque conservas BL MEDUHG271461",
            "pf1@pacificfoods.test",
            "Tue, 01 Dec 2026 09:00:00 -0500",
            "Buenos días,\r\n\r\nAdjunto la factura y el BL MEDUHG271461 del embarque de conservas.\r\n\r\nSaludos,\r\nLucía Paredes\r\nPacific Foods S.A.C.",
            &[("Factura PF-88812.pdf", &f.invoice), ("BL MEDUHG271461.pdf", &f.bl)],
        ),
    );
    run_once(inst, "2026-12-01T09:00:00-05:00");
    inst.deliver(
        "02-docs.eml",
        &mail_with(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "RE: Documentos embarque conservas BL MEDUHG271461",
            "pf2@pacificfoods.test",
            "Tue, 01 Dec 2026 11:00:00 -0500",
            "Hola,\r\n\r\nPerdón, la factura tenía un error en el total. Va la corregida (mismo nombre).\r\n\r\nLucía",
            &[("Factura PF-88812.pdf", &f.invoice2)],
        ),
    );
    run_once(inst, "2026-12-01T11:00:00-05:00");
    f
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap_or_else(|e| panic!("not a ZIP: {e}"));
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap_or_else(|e| panic!("{e}"));
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap_or_else(|e| panic!("{e}"));
            (f.name().map(|n| n.to_string()).unwrap_or_else(|e| panic!("{e}")), b)
        })
        .collect()
}

fn member<'a>(members: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    members
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_slice())
        .unwrap_or_else(|| panic!("no {name} in {:?}", members.iter().map(|m| &m.0).collect::<Vec<_>>()))
}

/// The file holds every document by its original name (the second
/// same-named one as `… (2).pdf`), byte for byte, and an index listing them.
fn the_file_is_complete(members: &[(String, Vec<u8>)], f: &Files) {
    assert_eq!(member(members, "Factura PF-88812.pdf"), f.invoice.as_slice());
    assert_eq!(member(members, "Factura PF-88812 (2).pdf"), f.invoice2.as_slice());
    assert_eq!(member(members, "BL MEDUHG271461.pdf"), f.bl.as_slice());
    let html = String::from_utf8_lossy(member(members, "indice.html")).into_owned();
    for want in [
        "<th>Documento</th><th>Tipo</th><th>De</th><th>Recibido</th><th>Tamaño</th>",
        ">Factura PF-88812 (2).pdf</a></td><td>Factura comercial</td><td>lparedes@pacificfoods.test</td><td>01/12/2026 11:00</td>",
        ">BL MEDUHG271461.pdf</a></td><td>Documento de transporte (BL / AWB)</td>",
        "<h2>Historial</h2>",
        "<br>BL: MEDUHG271461<br>Contenedor: MSCU7654329",
        "Orden abierta con 2 documentos",
    ] {
        assert!(html.contains(want), "«{want}» not in the index:\n{html}");
    }
    let csv = String::from_utf8_lossy(member(members, "indice.csv")).into_owned();
    assert!(csv.starts_with("\u{feff}DOCUMENTO,TIPO,DE,RECIBIDO,BYTES"), "{csv}");
    assert!(
        csv.contains(&format!(
            "Factura PF-88812 (2).pdf,Factura comercial,lparedes@pacificfoods.test,01/12/2026 11:00,{},",
            f.invoice2.len()
        )),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 4, "a header and three documents: {csv}");
    let history = String::from_utf8_lossy(member(members, "historial.txt")).into_owned();
    assert!(history.contains("01/12/2026 09:00  Orden abierta con 2 documentos"), "{history}");
}

#[test]
fn the_export_zip_holds_every_document_by_name_and_never_overwrites() {
    let inst = Instance::new();
    let f = pacific_order(&inst);
    let zip = inst.path().join("Expediente OC-2026-000001.zip");
    let zip_arg = zip.display().to_string();
    let out =
        inst.run(&["--now", "2026-12-02T10:00:00-05:00", "orders", "export", "OC-2026-000001", "--zip", &zip_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("OC-2026-000001: 3 documents"), "{}", stdout(&out));
    let bytes = std::fs::read(&zip).unwrap_or_else(|e| panic!("{e}"));
    the_file_is_complete(&unzip(&bytes), &f);
    // A second export to the same file is refused, and the file stays as it was.
    let again =
        inst.run(&["--now", "2026-12-02T10:05:00-05:00", "orders", "export", "OC-2026-000001", "--zip", &zip_arg]);
    assert!(!again.status.success(), "overwrote {zip_arg}");
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&zip).unwrap_or_default(), bytes);
    // An unknown order: a clear error, no file.
    let none = inst.path().join("none.zip");
    let missing = inst.run(&["orders", "export", "OC-2026-000099", "--zip", &none.display().to_string()]);
    assert!(!missing.status.success() && stderr(&missing).contains("OC-2026-000099"), "{}", stderr(&missing));
    assert!(!none.exists());
}

/// The ZIPs attached to the outbox's mails: (recipients, file name, bytes, text).
fn zips_in_outbox(inst: &Instance) -> Vec<(Vec<String>, String, Vec<u8>, String)> {
    use mail_parser::{MessageParser, MimeHeaders};
    let mut out = Vec::new();
    for (file, raw) in inst.outbox_files() {
        let m = MessageParser::default().parse(raw.as_bytes()).unwrap_or_else(|| panic!("{file}: unparseable"));
        let to: Vec<String> =
            m.to().map(|a| a.iter().filter_map(|x| x.address().map(str::to_string)).collect()).unwrap_or_default();
        for a in m.attachments() {
            let zip = a.content_type().is_some_and(|c| c.subtype() == Some("zip"));
            if zip {
                out.push((
                    to.clone(),
                    a.attachment_name().unwrap_or("").to_string(),
                    a.contents().to_vec(),
                    m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                ));
            }
        }
    }
    out
}

#[test]
fn expediente_mails_the_zip_to_the_staff_member_who_asked_and_to_nobody_else() {
    let inst = Instance::new();
    let f = pacific_order(&inst);
    // A client cannot ask for it.
    inst.deliver(
        "03-client.eml",
        &text_mail(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "Expediente",
            "pf3@pacificfoods.test",
            "Tue, 01 Dec 2026 12:00:00 -0500",
            "#expediente OC-2026-000001\r\n\r\nLucía",
        ),
    );
    run_once(&inst, "2026-12-01T12:00:00-05:00");
    assert!(zips_in_outbox(&inst).is_empty(), "a client got the file");
    // The executive asks.
    inst.deliver(
        "04-staff.eml",
        &text_mail(
            "Carla Vega <cvega@cli.test>",
            "Liquidación Pacific Foods",
            "c1@cli.test",
            "Tue, 01 Dec 2026 16:00:00 -0500",
            "#expediente OC-2026-000001\r\n\r\nGracias,\r\nCarla Vega\r\nEjecutiva de cuentas",
        ),
    );
    run_once(&inst, "2026-12-01T16:00:00-05:00");
    let zips = zips_in_outbox(&inst);
    assert_eq!(zips.len(), 1, "one mail with the ZIP: {:?}", zips.iter().map(|z| (&z.0, &z.1)).collect::<Vec<_>>());
    let (to, name, bytes, text) = &zips[0];
    assert_eq!(to, &vec!["cvega@cli.test".to_string()]);
    assert_eq!(name, "Expediente OC-2026-000001.zip");
    the_file_is_complete(&unzip(bytes), &f);
    for want in ["Buen día", "OC-2026-000001", "Pacific Foods", "3 documentos", "indice.csv", "Atentamente"] {
        assert!(text.contains(want), "«{want}» not in:\n{text}");
    }
    for bad in ["{{", "(s)", "null", "T-0"] {
        assert!(!text.contains(bad), "«{bad}» in:\n{text}");
    }
}

#[test]
fn an_expediente_over_the_attachment_limit_says_so_with_the_command() {
    let inst = Instance::new();
    pacific_order(&inst);
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    assert!(config.contains("max_attachment_bytes = 41943040"), "the shipped config changed");
    // Small enough that the ZIP of three PDFs is over it, large enough for the PDFs themselves.
    inst.write("config.toml", &config.replacen("max_attachment_bytes = 41943040", "max_attachment_bytes = 1500", 1));
    inst.deliver(
        "03-staff.eml",
        &text_mail(
            "Carla Vega <cvega@cli.test>",
            "Liquidación",
            "c1@cli.test",
            "Tue, 01 Dec 2026 16:00:00 -0500",
            "#expediente OC-2026-000001",
        ),
    );
    run_once(&inst, "2026-12-01T16:00:00-05:00");
    assert!(zips_in_outbox(&inst).is_empty(), "a ZIP over the limit went");
    let mails = read_outbox(&inst);
    let big = mails
        .iter()
        .find(|m| m.subject.contains("demasiado grande"))
        .unwrap_or_else(|| panic!("no mail: {:?}", mails.iter().map(|m| &m.subject).collect::<Vec<_>>()));
    assert_eq!(big.to, vec!["cvega@cli.test".to_string()]);
    let text = unqp(&big.text);
    assert!(text.contains("buzon orders export OC-2026-000001 --zip \"Expediente OC-2026-000001.zip\""), "{text}");
}

/// Neptunia's volante for the order's BL, with the container given.
fn neptunia_volante(container: &str) -> Vec<u8> {
    neptunia_volante_for(container, "PACIFIC FOODS S.A.C.      RUC: 20512333797")
}

fn neptunia_volante_for(container: &str, consignee: &str) -> Vec<u8> {
    generate::pdf(&[
        "NEPTUNIA S.A.",
        "DEPOSITO TEMPORAL - R.U.C. 20100010136",
        "VOLANTE DE DESPACHO",
        "Nro. de Volante: 0012-0045821",
        "Fecha de emision: 03/12/2026 10:42",
        &format!("Consignatario: {consignee}"),
        "Nave: MSC LORETO   Viaje: 611W",
        "B/L: MEDUHG271461",
        &format!("Contenedor(es): {container} / 40HC"),
        "Bultos: 1,200 CAJAS     Peso Bruto: 18,450.50 KG",
        "Este volante no es valido sin el sello del deposito.",
    ])
}

/// The client forwards the depósito's volante (Outlook's "RV:").
fn volante_arrives(inst: &Instance, container: &str) {
    let volante = neptunia_volante(container);
    inst.deliver(
        "05-volante.eml",
        &mail_with(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "RV: VOLANTE DE DESPACHO - BL MEDUHG271461",
            "pf5@pacificfoods.test",
            "Thu, 03 Dec 2026 11:00:00 -0500",
            "Hola,\r\n\r\nLes reenvío el volante que nos mandó Neptunia.\r\n\r\nSaludos,\r\nLucía\r\n\r\n-----Mensaje original-----\r\nDe: Neptunia Operaciones\r\nEnviado el: jueves, 3 de diciembre de 2026 10:45\r\nAsunto: VOLANTE DE DESPACHO - BL MEDUHG271461\r\n\r\nSe adjunta volante.",
            &[("VOLANTE DE DESPACHO 0012-0045821.pdf", &volante)],
        ),
    );
    run_once(inst, "2026-12-03T11:00:00-05:00");
}

fn volante_tasks(inst: &Instance) -> Vec<serde_json::Value> {
    inst.json(&["tasks", "list", "--json"]).into_iter().filter(|t| t["kind"] == "volante_discrepancia").collect()
}

#[test]
fn a_volante_with_a_wrong_container_is_a_task_with_both_values() {
    let inst = Instance::new();
    pacific_order(&inst);
    volante_arrives(&inst, "MSCU1234566");
    let tasks = volante_tasks(&inst);
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let t = &tasks[0];
    assert_eq!(t["order"], "OC-2026-000001");
    assert_eq!(t["assignee"], "asistente2@cli.test", "Pacific Foods' assistant");
    let summary = t["summary"].as_str().unwrap_or("");
    assert!(summary.contains("Contenedor: en el volante MSCU1234566, en la orden MSCU7654329"), "{summary}");
    assert!(summary.contains("Volante 0012-0045821"), "{summary}");
    assert!(!summary.contains("Bultos") && !summary.contains("BL:"), "only what differs: {summary}");
    let order = &inst.json(&["orders", "show", "OC-2026-000001", "--json"])[0];
    let containers = &order["references"]["container"];
    assert_eq!(containers, &serde_json::json!(["MSCU7654329"]), "the volante's container is not the order's");
    assert!(order["documents"].as_array().is_some_and(|d| d.iter().any(|d| d["kind"] == "volante")), "{order}");
    // The assistant is told at once, with the two values.
    let notice = read_outbox(&inst)
        .into_iter()
        .find(|m| m.to == ["asistente2@cli.test"] && unqp(&m.text).contains("MSCU1234566"))
        .unwrap_or_else(|| panic!("no notice to the assistant"));
    assert!(unqp(&notice.text).contains("en la orden MSCU7654329"), "{}", notice.text);
}

#[test]
fn a_matching_volante_is_accepted_in_the_history() {
    let inst = Instance::new();
    pacific_order(&inst);
    volante_arrives(&inst, "MSCU7654329");
    assert!(volante_tasks(&inst).is_empty());
    let order = &inst.json(&["orders", "show", "OC-2026-000001", "--json"])[0];
    let history: Vec<&str> =
        order["history"].as_array().into_iter().flatten().filter_map(|h| h["what"].as_str()).collect();
    assert!(
        history.contains(&"Volante 0012-0045821 conforme (BL, Contenedor, RUC del consignatario, Bultos, Peso bruto)"),
        "{history:?}"
    );
}

#[test]
fn a_volante_staff_forward_with_another_clients_ruc_stays_with_its_order_and_is_flagged() {
    let inst = Instance::new();
    pacific_order(&inst);
    // The depósito wrote Andes Textil's RUC on Pacific Foods' volante; the
    // assistant forwards the depósito's mail to the desk.
    let volante = neptunia_volante_for("MSCU7654329", "ANDES TEXTIL S.A.C.      RUC: 20601234565");
    inst.deliver(
        "06-fwd.eml",
        &mail_with(
            "Rosa Quispe <asistente2@cli.test>",
            "RV: VOLANTE DE DESPACHO 0012-0045821",
            "a2fwd@cli.test",
            "Thu, 03 Dec 2026 12:00:00 -0500",
            "Para el expediente.\r\n\r\nRosa\r\n\r\n-----Mensaje original-----\r\nDe: Operaciones Neptunia <operaciones@neptunia.test>\r\nEnviado el: jueves, 3 de diciembre de 2026 11:50\r\nPara: Rosa Quispe <asistente2@cli.test>\r\nAsunto: VOLANTE DE DESPACHO 0012-0045821\r\n\r\nEstimados, se adjunta volante de despacho del BL MEDUHG271461.\r\n\r\nAtte.\r\nOperaciones Neptunia",
            &[("VOLANTE DE DESPACHO 0012-0045821.pdf", &volante)],
        ),
    );
    run_once(&inst, "2026-12-03T12:00:00-05:00");
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders.len(), 1, "no order opened for Andes Textil: {orders:?}");
    let tasks = volante_tasks(&inst);
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let summary = tasks[0]["summary"].as_str().unwrap_or("");
    assert!(summary.contains("RUC del consignatario: en el volante 20601234565, en la orden 20512333797"), "{summary}");
    assert_eq!(tasks[0]["order"], "OC-2026-000001");
}

/// The daemon this test started, stopped (SIGTERM, by its pid) however the test ends.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

#[test]
fn the_export_zip_works_through_the_running_daemon() {
    use std::process::{Command, Stdio};
    let inst = Instance::new();
    let f = pacific_order(&inst);
    let daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_buzon"))
            .current_dir(inst.path())
            .args(["run"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn: {e}")),
    );
    let start = std::time::Instant::now();
    // The store is the daemon's once `status` says it runs: export asks over its socket.
    // (Until its socket listens, `status` may fail: the store is locked but nobody answers yet.)
    let running = || {
        let out = inst.run(&["status", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok_and(|v| v["daemon"] == "running")
    };
    while !running() {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "the daemon did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let zip = inst.path().join("via-daemon.zip");
    let out = inst.run(&["orders", "export", "OC-2026-000001", "--zip", &zip.display().to_string()]);
    drop(daemon);
    assert!(out.status.success(), "{}", stderr(&out));
    the_file_is_complete(&unzip(&std::fs::read(&zip).unwrap_or_default()), &f);
}

/// The registered depósito (a `[[counterpart]]` of clients.toml) mails the
/// volante itself: it is filed by its BL into the order and checked like a
/// forwarded one — a wrong container is a task, the right one is accepted.
#[test]
fn a_volante_the_deposito_mails_itself_is_checked_against_its_order() {
    for (container, flagged) in [("MSCU1234566", true), ("MSCU7654329", false)] {
        let inst = Instance::new();
        pacific_order(&inst);
        let volante = neptunia_volante(container);
        inst.deliver(
            "05-volante.eml",
            &mail_with(
                "Operaciones DT Callao 1 <operaciones@dtcallao1.test>",
                "VOLANTE DE DESPACHO - BL MEDUHG271461",
                "dt1@dtcallao1.test",
                "Thu, 03 Dec 2026 10:45:00 -0500",
                "Estimados:\r\n\r\nSe adjunta el volante de despacho del BL MEDUHG271461.\r\n\r\nSaludos cordiales,\r\nOperaciones\r\nDepósito Temporal Callao 1 S.A.\r\n",
                &[("VOLANTE DE DESPACHO 0012-0045821.pdf", &volante)],
            ),
        );
        run_once(&inst, "2026-12-03T11:00:00-05:00");
        let order = &inst.json(&["orders", "show", "OC-2026-000001", "--json"])[0];
        let docs = order["documents"].as_array().cloned().unwrap_or_default();
        assert!(
            docs.iter().any(|d| d["kind"] == "volante" && d["from"] == "operaciones@dtcallao1.test"),
            "filed in the order as a volante, from the depósito: {order}"
        );
        let tasks = volante_tasks(&inst);
        if flagged {
            assert_eq!(tasks.len(), 1, "{tasks:?}");
            let summary = tasks[0]["summary"].as_str().unwrap_or("");
            assert!(summary.contains("en el volante MSCU1234566, en la orden MSCU7654329"), "{summary}");
        } else {
            assert!(tasks.is_empty(), "{tasks:?}");
            let history = order["history"].to_string();
            assert!(history.contains("Volante 0012-0045821 conforme"), "{history}");
        }
        let triage: Vec<_> = inst
            .json(&["tasks", "list", "--json"])
            .into_iter()
            .filter(|t| t["kind"].as_str().is_some_and(|k| k.starts_with("triage")))
            .collect();
        assert!(triage.is_empty(), "the depósito's volante needs no triage: {triage:?}");
    }
}
