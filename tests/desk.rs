//! The desk on the embedded default: a Maildir of realistic Spanish mails in,
//! `.eml` files out, a real sled store, the real binary.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::*;

const NOW: &str = "2026-12-01T10:00:00-05:00";

fn scenario(name: &str) -> Vec<u8> {
    std::fs::read(shared().join("corpus/scenarios").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn run_once(inst: &Instance, now: &str) {
    let out = inst.run(&["--now", now, "run", "--once"]);
    assert!(out.status.success(), "run --once failed: {}", stderr(&out));
}

#[test]
fn documents_in_two_parts_end_in_one_order_with_the_right_missing_list() {
    if skip_without_shared("documents_in_two_parts_end_in_one_order_with_the_right_missing_list") {
        return;
    }
    let inst = Instance::new();
    inst.deliver("1.eml", &scenario("01-docs-invoice-packing.eml"));
    run_once(&inst, NOW);
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["missing"], serde_json::json!(["documento_transporte"]), "{}", orders[0]);
    inst.deliver("2.eml", &scenario("02-docs-hbl-followup.eml"));
    run_once(&inst, "2026-12-01T10:05:00-05:00");
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders.len(), 1, "the follow-up must not open a second order");
    let o = &orders[0];
    assert_eq!(o["id"], "OC-2026-000001");
    assert_eq!(o["client"], "andestextil");
    assert_eq!(o["missing"], serde_json::json!([]));
    assert_eq!(o["stage"], "documentos completos");
    let kinds: BTreeSet<&str> =
        o["documents"].as_array().into_iter().flatten().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["factura_comercial", "lista_empaque", "documento_transporte"]));
    // Every document is kept on disk, content-addressed, where `orders show` says.
    for d in o["documents"].as_array().into_iter().flatten() {
        let path = d["path"].as_str().unwrap_or_default();
        let p = if std::path::Path::new(path).is_absolute() { path.into() } else { inst.path().join(path) };
        assert!(p.is_file(), "{path}");
        assert!(path.ends_with(d["sha256"].as_str().unwrap_or("?")), "{path}");
    }
    let acks: Vec<_> = inst.outbox_files().into_iter().filter(|(n, _)| n.contains("acuse_documentos")).collect();
    assert_eq!(acks.len(), 2, "each documents mail is acknowledged");
    let second = acks.iter().map(|(_, t)| unqp(t)).find(|t| t.contains("Hemos agregado")).unwrap_or_default();
    assert!(second.contains("OC-2026-000001"), "{second}");
    assert!(
        second.contains("In-Reply-To: <179582269108.21175.12232447648033900760.hold2@andestextil.test>"),
        "{second}"
    );
    assert!(second.contains("Auto-Submitted: auto-replied"));
    assert!(second.contains("X-Auto-Response-Suppress: All"));
    assert!(second.contains("documentación requerida está completa"), "{second}");
}

#[test]
fn a_status_request_gets_its_clients_orders_and_nothing_of_another_client() {
    if skip_without_shared("a_status_request_gets_its_clients_orders_and_nothing_of_another_client") {
        return;
    }
    let inst = Instance::new();
    inst.deliver("1.eml", &scenario("01-docs-invoice-packing.eml"));
    inst.deliver("3.eml", &scenario("03-docs-air-permit.eml"));
    run_once(&inst, NOW);
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders.len(), 2);
    let id_of = |client: &str| {
        orders.iter().find(|o| o["client"] == client).and_then(|o| o["id"].as_str()).unwrap_or_default().to_string()
    };
    let (andes, pacific) = (id_of("andestextil"), id_of("pacificfoods"));
    inst.deliver("5.eml", b"From: Patricia <phuaman@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Consulta\r\nMessage-ID: <st1@andestextil.test>\r\n\r\nBuenas tardes, \xc2\xbfcu\xc3\xa1l es el status de mi carga?\r\n");
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let status: Vec<String> =
        inst.outbox_files().into_iter().filter(|(n, _)| n.contains("-estado-")).map(|(_, t)| unqp(&t)).collect();
    assert_eq!(status.len(), 1);
    assert!(status[0].contains(&andes), "{}", status[0]);
    assert!(!status[0].contains(&pacific), "another client's order leaked: {}", status[0]);
    assert!(!status[0].contains("145-54321094"), "{}", status[0]);
}

#[test]
fn a_status_request_from_an_unknown_or_unverified_sender_gets_no_order_data() {
    if skip_without_shared("a_status_request_from_an_unknown_or_unverified_sender_gets_no_order_data") {
        return;
    }
    let inst = Instance::new();
    inst.deliver("1.eml", &scenario("01-docs-invoice-packing.eml"));
    run_once(&inst, NOW);
    // Unknown sender asking about Andes' shipment.
    inst.deliver("x.eml", b"From: Curioso <curioso@otra.test>\r\nTo: ops@cli.test\r\nSubject: Estado\r\nMessage-ID: <x1@otra.test>\r\n\r\n\xc2\xbfCu\xc3\xa1l es el status de la carga de Andes Textil? Contenedor HLXU1234561.\r\n");
    // A forged Andes address whose DMARC failed at our MTA.
    inst.deliver("y.eml", b"From: Patricia <phuaman@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Estado urgente\r\nMessage-ID: <y1@evil.test>\r\nAuthentication-Results: mx.cli.test; spf=fail; dmarc=fail header.from=andestextil.test\r\n\r\n\xc2\xbfCu\xc3\xa1l es el status de mi carga?\r\n");
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    for (name, text) in inst.outbox_files() {
        let t = unqp(&text);
        if t.contains("To: curioso@otra.test") || name.contains("estado_generico") {
            assert!(!t.contains("OC-2026-000001"), "order data leaked in {name}:\n{t}");
        }
    }
    // Reversed by the trust issue: the stranger gets the generic answer, the
    // forged (DMARC failed) address nothing automatic at all.
    let generic: Vec<String> =
        inst.outbox_files().into_iter().filter(|(n, _)| n.contains("estado_generico")).map(|(_, t)| t).collect();
    assert_eq!(generic.len(), 1, "a polite generic reply to the stranger only");
    assert!(generic[0].contains("To: curioso@otra.test"), "{}", generic[0]);
    assert!(
        !generic[0].contains("Curioso") && !generic[0].contains("Estado"),
        "nothing of theirs echoed: {}",
        generic[0]
    );
    assert!(!inst.outbox_files().iter().any(|(n, _)| n.contains("-estado-")), "no status summary at all");
    let tasks = inst.json(&["tasks", "list", "--json"]);
    assert_eq!(tasks.iter().filter(|t| t["kind"] == "estado_sin_verificar").count(), 2, "a person looks at both");
}

#[test]
fn a_reclamo_is_escalated_with_its_business_hours_due_time() {
    if skip_without_shared("a_reclamo_is_escalated_with_its_business_hours_due_time") {
        return;
    }
    let inst = Instance::new();
    inst.deliver("7.eml", &scenario("07-reclamo-sobreestadia.eml"));
    // Friday 27 Nov 2026 17:00 Lima: 1 h Fri + 9 Mon + 9 Tue + 5 Wed → Wed 2 Dec 14:00.
    run_once(&inst, "2026-11-27T17:00:00-05:00");
    let r = inst.json(&["reclamos", "list", "--json"]);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["due_at"], "2026-12-02T14:00:00-05:00");
    assert_eq!(r[0]["received_at"], "2026-11-27T17:00:00-05:00");
    assert_eq!(r[0]["state"], "escalado");
    assert_eq!(r[0]["client"], "andestextil");
    let files = inst.outbox_files();
    let esc = files.iter().find(|(n, _)| n.contains("reclamo_escalamiento")).map(|(_, t)| unqp(t)).unwrap_or_default();
    assert!(
        esc.contains("To: supervision@cli.test, cvega@cli.test")
            || (esc.contains("supervision@cli.test") && esc.contains("cvega@cli.test")),
        "{esc}"
    );
    assert!(esc.contains("02/12/2026 14:00"), "{esc}");
    assert!(esc.contains("nadie nos da respuesta"), "what they wrote: {esc}");
    let ack = files.iter().find(|(n, _)| n.contains("reclamo_acuse")).map(|(_, t)| unqp(t)).unwrap_or_default();
    assert!(ack.contains("R-000001") && ack.contains("To: phuaman@andestextil.test"), "{ack}");
    // A reply in the thread of the acknowledgement is added to the same reclamo.
    let ack_id = ack.lines().find_map(|l| l.strip_prefix("Message-ID: ")).unwrap_or_default().trim().to_string();
    let follow = format!(
        "From: Patricia <phuaman@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: RE: Sobreestad\u{ed}a [R-000001]\r\nMessage-ID: <f2@andestextil.test>\r\nIn-Reply-To: {ack_id}\r\nReferences: {ack_id}\r\n\r\nSigue sin respuesta y es inaceptable.\r\n"
    );
    inst.deliver("8.eml", follow.as_bytes());
    run_once(&inst, "2026-11-30T09:30:00-05:00");
    let r = inst.json(&["reclamos", "list", "--json"]);
    assert_eq!(r.len(), 1, "added to the open reclamo, not a new one: {r:?}");
}

fn corpus_with_flag(flag: &str, n: usize) -> Vec<std::path::PathBuf> {
    let index = std::fs::read_to_string(shared().join("corpus/real/INDEX.tsv")).unwrap_or_default();
    index
        .lines()
        .filter(|l| l.split('\t').nth(3).is_some_and(|f| f.split(',').any(|x| x == flag)))
        .filter_map(|l| l.split('\t').next())
        .map(|p| shared().join("corpus/real").join(p))
        .take(n)
        .collect()
}

#[test]
fn out_of_office_bounces_and_list_mail_from_the_real_corpus_get_no_reply() {
    if skip_without_shared("out_of_office_bounces_and_list_mail_from_the_real_corpus_get_no_reply") {
        return;
    }
    let inst = Instance::new();
    let mut picked = Vec::new();
    for flag in ["auto_reply", "bounce_dsn", "mailing_list", "auto_submitted_header", "bounce_nondsn"] {
        picked.extend(corpus_with_flag(flag, 8));
    }
    // Make every sender a registered contact of a client, so that only the
    // loop guard stands between them and a reply.
    let mut contacts = BTreeSet::new();
    for (i, p) in picked.iter().enumerate() {
        let raw = std::fs::read(p).unwrap_or_default();
        let mail = buzon::mail::parse(&raw, &buzon::mail::ParseOptions::default());
        let from = mail.from_address().to_string();
        if buzon::config::valid_address(&from) && !from.contains('"') {
            contacts.insert(from);
        }
        inst.deliver(&format!("c{i}.eml"), &raw);
    }
    assert!(picked.len() >= 30 && contacts.len() >= 10, "{} mails, {} senders", picked.len(), contacts.len());
    let list: Vec<String> = contacts.iter().map(|c| format!("\"{c}\"")).collect();
    let mut clients = std::fs::read_to_string(inst.path().join("clients.toml")).unwrap_or_default();
    clients.push_str(&format!(
        "\n[[client]]\nid = \"corpus\"\nname = \"Corpus S.A.\"\nruc = \"20131380951\"\ncontacts = [{}]\nexecutive = \"cvega@cli.test\"\nassistant = \"asistente1@cli.test\"\n",
        list.join(", ")
    ));
    inst.write("clients.toml", &clients);
    run_once(&inst, NOW);
    let processed = files(&inst.path().join("var/maildir/cur")).len();
    assert_eq!(processed, picked.len(), "every mail processed");
    for (name, text) in inst.outbox_files() {
        let to = text.lines().find_map(|l| l.strip_prefix("To: ")).unwrap_or_default().to_ascii_lowercase();
        for c in &contacts {
            assert!(!to.contains(c.as_str()), "{name} answers an automatic mail from {c}");
        }
    }
}

#[test]
fn running_once_twice_sends_nothing_twice() {
    if skip_without_shared("running_once_twice_sends_nothing_twice") {
        return;
    }
    let inst = Instance::new();
    for f in
        ["01-docs-invoice-packing.eml", "04-estado-levante.eml", "06-reclamo-multa.eml", "09-proforma-exportacion.eml"]
    {
        inst.deliver(f, &scenario(f));
    }
    run_once(&inst, NOW);
    let first = inst.outbox_files();
    let orders = inst.json(&["orders", "list", "--json"]).len();
    let tasks = inst.json(&["tasks", "list", "--json"]).len();
    assert!(first.len() >= 4, "{first:?}");
    // The same mails again (a source that redelivers), and a second run.
    for f in
        ["01-docs-invoice-packing.eml", "04-estado-levante.eml", "06-reclamo-multa.eml", "09-proforma-exportacion.eml"]
    {
        inst.deliver(&format!("again-{f}"), &scenario(f));
    }
    run_once(&inst, "2026-12-01T10:10:00-05:00");
    run_once(&inst, "2026-12-01T10:20:00-05:00");
    assert_eq!(inst.outbox_files(), first, "nothing sent twice");
    assert_eq!(inst.json(&["orders", "list", "--json"]).len(), orders);
    assert_eq!(inst.json(&["tasks", "list", "--json"]).len(), tasks);
    let outbox = inst.json(&["outbox", "list", "--json"]);
    assert!(outbox.iter().all(|m| m["state"] == "enviado"), "{outbox:?}");
}

#[test]
fn automatic_replies_to_one_sender_are_rate_limited() {
    let inst = Instance::new();
    for i in 0..12 {
        let m = format!(
            "From: Patricia <phuaman@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Consulta {i}\r\nMessage-ID: <rl{i}@andestextil.test>\r\n\r\n\u{bf}Cu\u{e1}l es el status de mi carga? ({i})\r\n"
        );
        inst.deliver(&format!("{i:02}.eml"), m.as_bytes());
    }
    run_once(&inst, NOW);
    let replies = inst.outbox_files().iter().filter(|(_, t)| t.contains("To: phuaman@andestextil.test")).count();
    assert_eq!(replies, 5, "replies_per_sender_hour = 5");
}

#[test]
fn a_document_that_cannot_be_read_is_kept_and_becomes_a_task() {
    let inst = Instance::new();
    let m = "From: Patricia <phuaman@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Documentos\r\nMessage-ID: <bad1@andestextil.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"q\"\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nAdjunto la factura comercial.\r\n--q\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"Factura 77.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCmJyb2tlbg==\r\n--q--\r\n";
    inst.deliver("bad.eml", m.as_bytes());
    run_once(&inst, NOW);
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders.len(), 1);
    let doc = &orders[0]["documents"][0];
    assert_eq!(doc["kind"], "factura_comercial");
    assert!(doc["unreadable"].as_str().is_some_and(|s| s.contains("pdf_")), "{doc}");
    assert!(
        doc["path"].as_str().is_some_and(|p| std::path::Path::new(p).is_file() || inst.path().join(p).is_file()),
        "kept: {doc}"
    );
    // An unreadable invoice does not count as received.
    assert!(orders[0]["missing"].as_array().is_some_and(|m| m.iter().any(|k| k == "factura_comercial")));
    let tasks = inst.json(&["tasks", "list", "--json"]);
    assert!(tasks.iter().any(|t| t["kind"] == "documento_ilegible" && t["order"] == orders[0]["id"]), "{tasks:?}");
}

#[test]
fn the_shared_scenarios_go_through_the_desk() {
    if skip_without_shared("the_shared_scenarios_go_through_the_desk") {
        return;
    }
    let inst = Instance::new();
    for p in files(&shared().join("corpus/scenarios")).into_iter().filter(|p| p.extension().is_some_and(|e| e == "eml"))
    {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        inst.deliver(&name, &std::fs::read(&p).unwrap_or_default());
    }
    run_once(&inst, NOW);
    let tasks = inst.json(&["tasks", "list", "--json"]);
    let alert = |kind: &str| tasks.iter().find(|t| t["kind"] == kind).cloned().unwrap_or(Value::Null);
    assert_eq!(alert("alerta_tributos")["due_at"], "2026-12-04T18:00:00-05:00", "{tasks:?}");
    assert_eq!(alert("alerta_tributos")["client"], "pacificfoods");
    assert_eq!(alert("alerta_regularizacion")["due_at"], "2026-12-07T18:00:00-05:00");
    let orders = inst.json(&["orders", "list", "--json"]);
    let andes = orders.iter().find(|o| o["client"] == "andestextil").cloned().unwrap_or(Value::Null);
    assert_eq!(andes["eta"], "2026-12-09", "the carrier's ETA change is filed in the order: {andes}");
    // The vacation auto-reply gets nothing.
    assert!(!inst.outbox_files().iter().any(|(_, t)| t.contains("hold14")), "no answer to the out-of-office");
}

#[test]
fn the_follow_up_processed_first_still_ends_in_one_order() {
    if skip_without_shared("the_follow_up_processed_first_still_ends_in_one_order") {
        return;
    }
    let inst = Instance::new();
    inst.deliver("b.eml", &scenario("02-docs-hbl-followup.eml"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    inst.deliver("a.eml", &scenario("01-docs-invoice-packing.eml"));
    run_once(&inst, NOW);
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["documents"].as_array().map(Vec::len), Some(3));
    assert_eq!(orders[0]["missing"], serde_json::json!([]));
}

/// A mail with one PDF attachment.
fn with_pdf(from: &str, subject: &str, id: &str, body: &str, file: &str, pdf_lines: &[&str]) -> Vec<u8> {
    use std::fmt::Write as _;
    let pdf = generate::pdf(pdf_lines);
    let mut b64 = String::new();
    for chunk in
        base64_chunks(&pdf).as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>()
    {
        let _ = writeln!(b64, "{chunk}");
    }
    format!(
        "From: {from}\r\nTo: ops@cli.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Tue, 01 Dec 2026 09:00:00 -0500\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\nContent-Type: application/pdf; name=\"{file}\"\r\nContent-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}--b1--\r\n"
    )
    .into_bytes()
}

fn base64_chunks(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            s.push(if k <= c.len() { T[((v >> (18 - 6 * k)) & 63) as usize] as char } else { '=' });
        }
    }
    s
}

#[test]
fn a_suppliers_draft_bl_that_is_also_a_carrier_notice_keeps_the_bl_and_sets_the_eta() {
    // Two labels, one order: the documents handler files the BL, the carrier
    // handler sets the ETA. Each used to save the order as it was before the
    // mail, and the last save won: the BL was acknowledged and then lost.
    let inst = Instance::new();
    inst.deliver(
        "1.eml",
        &with_pdf(
            "Patricia Huamán <phuaman@andestextil.test>",
            "Documentos embarque",
            "c1@andestextil.test",
            "Buenos días, adjunto la factura comercial.",
            "Factura AT-5521.pdf",
            &["COMMERCIAL INVOICE AT-5521"],
        ),
    );
    run_once(&inst, NOW);
    inst.deliver(
        "2.eml",
        &with_pdf(
            "Li Wei <li@guangzhoufabrics.test>",
            "Pre-alerta [OC-2026-000001] draft BL MEDUHG271461",
            "g1@guangzhoufabrics.test",
            "Dear team, pre-alerta: please find attached the draft BL. ETA 20/12/2026.",
            "Draft BL MEDUHG271461.pdf",
            &["BILL OF LADING", "MEDUHG271461"],
        ),
    );
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders.len(), 1, "{orders:?}");
    let o = &orders[0];
    let kinds: BTreeSet<&str> =
        o["documents"].as_array().into_iter().flatten().filter_map(|d| d["kind"].as_str()).collect();
    assert!(kinds.contains("documento_transporte"), "the BL is kept: {o}");
    assert_eq!(o["eta"], "2026-12-20", "and the ETA set: {o}");
}
