//! What people read, and what they can undo (issue 14): the outbox mails
//! read back as a client, an assistant and a supervisor would; the way back
//! for staff commands and outgoing mail; the CLI's lists.

mod support;

use support::*;

const NOW: &str = "2026-12-01T10:00:00-05:00";

fn run_once(inst: &Instance, now: &str) {
    let out = inst.run(&["--now", now, "run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn of_kind<'a>(mails: &'a [Out], kind: &str) -> Vec<&'a Out> {
    mails.iter().filter(|m| m.file.contains(kind)).collect()
}

fn deliver_examples(inst: &Instance) {
    for p in files(&root().join("examples/maildir/new")) {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        inst.deliver(&name, &std::fs::read(&p).unwrap_or_default());
    }
}

fn text_mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {subject}\r\nDate: Tue, 01 Dec 2026 10:30:00 -0500\r\nMessage-ID: <{id}>\r\n{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

#[test]
fn the_example_desks_mail_reads_as_spanish_people_write_it() {
    let inst = Instance::new();
    deliver_examples(&inst);
    run_once(&inst, "2026-12-01T11:30:00-05:00");
    let mails = read_outbox(&inst);
    assert!(mails.len() >= 10, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    for m in &mails {
        let text = &m.text;
        for bad in [
            "CONTAINER:",
            "INVOICE:",
            "BL_NUMBER",
            "(s)",
            "Estimado(a)",
            "pdf_unreadable",
            "failed parsing",
            "1 reclamos",
            "1 documentos",
            "1 órdenes",
        ] {
            assert!(!text.contains(bad), "{}: «{bad}» in\n{text}", m.file);
        }
        // No client's RUC is offered as a shipment reference.
        for ruc in ["20601234565", "20512333797", "20131312955"] {
            assert!(!text.contains(ruc), "{}: RUC {ruc} in\n{text}", m.file);
        }
        assert!(!m.subject.contains("Re: Re:") && !m.subject.contains("RE:"), "{}", m.subject);
    }
    // The example's staff command succeeds, and the client hears it in its name.
    let conf = of_kind(&mails, "confirmacion_comando");
    assert_eq!(conf.len(), 1);
    assert!(conf[0].text.contains("OK: reclamo R-000002 resuelto"), "{}", conf[0].text);
    assert!(!conf[0].text.contains("Error"), "{}", conf[0].text);
    let resolved = of_kind(&mails, "reclamo_resuelto");
    assert_eq!(resolved.len(), 1, "the text after cliente: reaches the client");
    assert_eq!(resolved[0].to, vec!["phuaman@andestextil.test".to_string()]);
    assert!(resolved[0].text.starts_with("Buen día, Patricia Huamán:"), "{}", resolved[0].text);
    assert!(resolved[0].text.contains("no se le facturarán"), "{}", resolved[0].text);
    assert!(!resolved[0].text.contains("asumimos la sobreestadía"), "the internal note stays internal");
    // Acknowledgements greet the person, never the company.
    for m in of_kind(&mails, "acuse_documentos") {
        assert!(!m.text.contains("Andes Textil S.A.C.:") && !m.text.contains("Estimado"), "{}", m.text);
        assert!(m.text.starts_with("Buen día, "), "{}", m.text);
    }
    // The payment notice carries the voucher it is about.
    let pago = of_kind(&mails, "aviso_pago");
    assert_eq!(pago.len(), 1);
    assert!(
        pago[0].attachments.iter().any(|(ct, n)| ct == "application/pdf" && n == "constancia.pdf"),
        "{:?}",
        pago[0].attachments
    );
    assert!(pago[0].text.contains("van en este correo"), "{}", pago[0].text);
    // The triage task carries the original mail, unencoded, with what it is.
    let triage = of_kind(&mails, "task-T-000001-nueva");
    assert_eq!(triage.len(), 1, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    let t = triage[0];
    assert!(t.attachments.iter().any(|(ct, _)| ct == "message/rfc822"), "{:?}", t.attachments);
    let part = t.raw.split("Content-Type: message/rfc822").nth(1).unwrap_or("");
    assert!(
        part.contains("Content-Transfer-Encoding: 7bit") || part.contains("Content-Transfer-Encoding: 8bit"),
        "{part}"
    );
    assert!(t.text.contains("Siniestro en la carga") && t.text.contains("Message-ID:"), "{}", t.text);
    assert!(!t.text.contains("«»") && !t.text.contains("de : "), "{}", t.text);
}

#[test]
fn three_round_trips_keep_one_re_and_one_tag() {
    let inst = Instance::new();
    inst.deliver(
        "1.eml",
        &std::fs::read(shared().join("corpus/scenarios/01-docs-invoice-packing.eml")).unwrap_or_default(),
    );
    run_once(&inst, NOW);
    let prefixes = ["RE: ", "RV: Re: ", "Fwd: AW: RE: "];
    for (i, prefix) in prefixes.iter().enumerate() {
        let mails = read_outbox(&inst);
        let last = mails
            .iter()
            .filter(|m| m.to.iter().any(|t| t.ends_with("andestextil.test")))
            .max_by_key(|m| {
                std::fs::metadata(inst.path().join("var/outbox").join(&m.file)).and_then(|x| x.modified()).ok()
            })
            .cloned()
            .unwrap_or_else(|| panic!("no answer to the client"));
        let subject = format!("{prefix}{}", last.subject);
        inst.deliver(
            &format!("r{i}.eml"),
            &text_mail(
                "Patricia Huamán <phuaman@andestextil.test>",
                &subject,
                &format!("rt{i}@andestextil.test"),
                &format!("In-Reply-To: <{}>\r\nReferences: <{}>\r\n", last.message_id, last.message_id),
                "Buenos días, ¿me confirman en qué estado está el despacho de este embarque?\r\n\r\nSaludos,\r\nPatricia",
            ),
        );
        run_once(&inst, &format!("2026-12-01T1{}:00:00-05:00", i + 1));
    }
    let mails = read_outbox(&inst);
    let answers: Vec<&Out> = mails.iter().filter(|m| m.to.iter().any(|t| t.ends_with("andestextil.test"))).collect();
    assert!(answers.len() >= 4, "{:?}", answers.iter().map(|m| (&m.file, &m.subject)).collect::<Vec<_>>());
    for m in answers {
        let s = &m.subject;
        let re = s.matches("Re:").count()
            + s.matches("RE:").count()
            + s.matches("RV:").count()
            + s.matches("Fwd:").count()
            + s.matches("AW:").count();
        assert!(re <= 1, "{s}");
        assert_eq!(s.matches("[OC-").count(), 1, "{s}");
    }
}

#[test]
fn a_status_question_about_an_unknown_container_names_no_order_and_gives_a_person_a_task() {
    let inst = Instance::new();
    inst.deliver(
        "1.eml",
        &std::fs::read(shared().join("corpus/scenarios/01-docs-invoice-packing.eml")).unwrap_or_default(),
    );
    run_once(&inst, NOW);
    inst.deliver(
        "q.eml",
        &text_mail(
            "Patricia Huamán <phuaman@andestextil.test>",
            "Status contenedor MSKU1234565",
            "q1@andestextil.test",
            "",
            "Buenas tardes,\r\n¿me confirman el status de mi carga? Es el contenedor MSKU1234565. Quedo atenta.\r\n\r\nPatricia Huamán\r\nJefa de Logística | Andes Textil S.A.C.",
        ),
    );
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let mails = read_outbox(&inst);
    let nf = of_kind(&mails, "estado_no_encontrado");
    assert_eq!(nf.len(), 1, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    assert!(nf[0].text.contains("MSKU1234565"), "says what was looked for: {}", nf[0].text);
    assert!(!nf[0].text.contains("OC-2026") && !nf[0].subject.contains("OC-2026"), "{}\n{}", nf[0].subject, nf[0].text);
    assert!(of_kind(&mails, "-estado-").iter().all(|m| !m.file.contains("q1")), "no other order's status");
    let tasks = inst.json(&["tasks", "list", "--json"]);
    assert!(
        tasks.iter().any(|t| t["summary"].as_str().is_some_and(|s| s.contains("MSKU1234565"))),
        "a person is told: {tasks:?}"
    );
}

#[test]
fn an_english_supplier_gets_the_english_acknowledgement() {
    let inst = Instance::new();
    // Pacific Foods' registered domain writes in English (a supplier's clerk).
    let pdf = generate::pdf(&["COMMERCIAL INVOICE", "Invoice No. PF-88812", "FOB Miami"]);
    let raw = format!(
        "From: John Miller <jmiller@pacificfoods.test>\r\nTo: ops@cli.test\r\nSubject: Commercial invoice for shipment\r\nDate: Tue, 01 Dec 2026 09:00:00 -0500\r\nMessage-ID: <en1@pacificfoods.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\nplease find attached the commercial invoice for the shipment. Let us know if you need anything else.\r\nBest regards,\r\nJohn\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"Invoice PF-88812.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        generate::b64(&pdf)
    );
    inst.deliver("en.eml", raw.as_bytes());
    run_once(&inst, NOW);
    let mails = read_outbox(&inst);
    let ack = of_kind(&mails, "acuse_documentos");
    assert_eq!(ack.len(), 1, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    let t = &ack[0].text;
    assert!(t.contains("Commercial invoice") || t.contains("commercial invoice"), "{t}");
    assert!(!t.contains("Hemos") && !t.contains("Atentamente"), "English, not Spanish: {t}");
}

#[test]
fn the_assistants_digest_lists_an_undated_proforma_task_in_html_and_text() {
    let inst = Instance::new();
    inst.deliver(
        "9.eml",
        &std::fs::read(shared().join("corpus/scenarios/09-proforma-exportacion.eml")).unwrap_or_default(),
    );
    run_once(&inst, NOW);
    let tasks = inst.json(&["tasks", "list", "--json"]);
    let proforma = tasks.iter().find(|t| t["kind"] == "proforma").unwrap_or_else(|| panic!("{tasks:?}"));
    assert!(proforma["due_at"].is_null());
    let who = proforma["assignee"].as_str().unwrap_or("").to_string();
    let id = proforma["id"].as_str().unwrap_or("").to_string();
    let digests = inst.json(&["--now", "2026-12-01T15:00:00-05:00", "digest", "preview", "--to", &who, "--json"]);
    let d = digests.iter().find(|d| d["kind"] == "asistente").unwrap_or_else(|| panic!("{digests:?}"));
    let undated = d["digest"]["sin_fecha"].as_array().cloned().unwrap_or_default();
    assert!(undated.iter().any(|l| l["id"] == id.as_str()), "{d}");
    assert!(d["text"].as_str().is_some_and(|t| t.contains(&id)), "{d}");
    assert!(d["html"].as_str().is_some_and(|h| h.contains("<table") && h.contains(&id)), "{d}");
}

/// Two orders of one client merged by a staff command, then `#deshacer` in
/// a reply to the confirmation: both orders are back as they were.
#[test]
fn deshacer_in_a_reply_to_the_confirmation_restores_a_merge() {
    let inst = Instance::new();
    inst.deliver("a.eml", &generate::mail(0).1);
    inst.deliver("b.eml", &generate::mail(2).1);
    run_once(&inst, NOW);
    let before = inst.json(&["orders", "list", "--json"]);
    assert_eq!(before.len(), 2);
    let cmd =
        |id: &str, extra: &str, body: &str| text_mail("Carla Vega <cvega@cli.test>", "Re: comando", id, extra, body);
    inst.deliver("c.eml", &cmd("m1@cli.test", "", "#fusionar OC-2026-000001 OC-2026-000002"));
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let merged = inst.json(&["orders", "list", "--json"]);
    let second = merged.iter().find(|o| o["id"] == "OC-2026-000002").cloned().unwrap_or_default();
    assert_eq!(second["closed"], true, "{second}");
    let conf = read_outbox(&inst)
        .into_iter()
        .find(|m| m.file.contains("confirmacion_comando"))
        .unwrap_or_else(|| panic!("no confirmation"));
    assert!(conf.text.contains("#deshacer"), "{}", conf.text);
    inst.deliver(
        "u.eml",
        &cmd(
            "u1@cli.test",
            &format!("In-Reply-To: <{}>\r\nReferences: <{}>\r\n", conf.message_id, conf.message_id),
            "#deshacer\r\n\r\nCarla",
        ),
    );
    run_once(&inst, "2026-12-01T11:10:00-05:00");
    let after = inst.json(&["orders", "list", "--json"]);
    for id in ["OC-2026-000001", "OC-2026-000002"] {
        let o = after.iter().find(|o| o["id"] == id).cloned().unwrap_or_default();
        let b = before.iter().find(|o| o["id"] == id).cloned().unwrap_or_default();
        assert_eq!(o["closed"], false, "{o}");
        assert_eq!(o["documents"], b["documents"], "{id}: its documents are its own again");
        assert!(
            o["history"].to_string().contains("eshecho") || o["history"].to_string().contains("deshac"),
            "the history keeps it: {o}"
        );
    }
    // Once only.
    inst.deliver("u2.eml", &cmd("u2@cli.test", &format!("In-Reply-To: <{}>\r\n", conf.message_id), "#deshacer"));
    run_once(&inst, "2026-12-01T11:20:00-05:00");
    let again = inst.json(&["orders", "list", "--json"]);
    assert_eq!(again.iter().filter(|o| o["closed"] == false).count(), 2);
}

/// An outbox whose SMTP server is down: `outbox hold --all` holds what is
/// pending, `run --once` then exits 0 (held mail waits by a person's
/// choice), a held mail is not sent when the server is back, and `release`
/// sends it; `cancel` never sends, and records who and why.
#[test]
fn held_mail_is_not_sent_until_released_and_cancelled_mail_never() {
    let inst = Instance::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = closed.local_addr().map(|a| a.port()).unwrap_or(1);
    drop(closed);
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    let files_outbox = "[outbox]\nkind = \"files\"              # \"files\" | \"smtp\"\npath = \"var/outbox\"         # one RFC 5322 .eml per outgoing mail";
    assert!(config.contains(files_outbox), "the shipped config's outbox section");
    let smtp =
        format!("[outbox]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_seconds = 2");
    inst.write("config.toml", &config.replace(files_outbox, &smtp));
    inst.deliver(
        "7.eml",
        &std::fs::read(shared().join("corpus/scenarios/07-reclamo-sobreestadia.eml")).unwrap_or_default(),
    );
    inst.deliver(
        "1.eml",
        &std::fs::read(shared().join("corpus/scenarios/01-docs-invoice-packing.eml")).unwrap_or_default(),
    );
    let out = inst.run(&["--now", NOW, "run", "--once"]);
    assert!(!out.status.success(), "mail waits unsent: non-zero");
    let pending: Vec<String> = inst
        .json(&["outbox", "list", "--json", "--open"])
        .iter()
        .map(|m| m["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(pending.len() >= 3, "{pending:?}");
    let held = inst.run(&["outbox", "hold", "--all", "--why", "regla de reclamos en revisión", "--by", "it"]);
    assert!(held.status.success(), "{}", stderr(&held));
    assert!(stdout(&held).contains(&format!("{} held", pending.len())), "{}", stdout(&held));
    let out = inst.run(&["--now", "2026-12-01T10:05:00-05:00", "run", "--once"]);
    assert!(out.status.success(), "held mail does not make run --once fail: {}", stderr(&out));
    let status = inst.status_json();
    assert!(status.to_string().contains("held") || status.to_string().contains("retenid"), "{status}");
    let table = stdout(&inst.run(&["outbox", "list"]));
    assert!(table.lines().next().is_some_and(|h| h.starts_with("ID") && h.contains("ESTADO")), "{table}");
    assert!(table.contains("retenido por it"), "{table}");

    // The server is back (the files sink stands for it): held mail stays.
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    inst.write("config.toml", &config.replace(&smtp, files_outbox));
    run_once(&inst, "2026-12-01T10:10:00-05:00");
    assert!(
        inst.outbox_files().is_empty(),
        "held mail was sent: {:?}",
        inst.outbox_files().iter().map(|f| &f.0).collect::<Vec<_>>()
    );

    let (cancel, rest) = pending.split_first().unwrap_or_else(|| panic!("pending"));
    let c = inst.run(&["outbox", "cancel", cancel, "--why", "respuesta equivocada", "--by", "supervisora"]);
    assert!(c.status.success(), "{}", stderr(&c));
    let r = inst.run(&["outbox", "release", "--all", "--by", "it"]);
    assert!(r.status.success(), "{}", stderr(&r));
    run_once(&inst, "2026-12-01T10:15:00-05:00");
    let sent: Vec<String> = inst.outbox_files().into_iter().map(|(n, _)| n).collect();
    for id in rest {
        assert!(sent.iter().any(|n| n.starts_with(id.as_str())), "{id} released and sent: {sent:?}");
    }
    assert!(!sent.iter().any(|n| n.starts_with(cancel.as_str())), "{cancel} cancelled yet sent");
    let all = inst.json(&["outbox", "list", "--json"]);
    let cancelled = all.iter().find(|m| m["id"] == cancel.as_str()).cloned().unwrap_or_default();
    assert_eq!(cancelled["state"], "cancelado", "{cancelled}");
    assert_eq!(cancelled["cancelled"]["by"], "supervisora", "{cancelled}");
    assert_eq!(cancelled["cancelled"]["why"], "respuesta equivocada", "{cancelled}");
    // Cancelled is final.
    let again = inst.run(&["outbox", "release", cancel]);
    assert!(!again.status.success(), "{}", stdout(&again));
}

#[test]
fn lists_print_a_header_aligned_columns_csv_with_bom_and_filter() {
    let inst = Instance::new();
    deliver_examples(&inst);
    run_once(&inst, "2026-12-01T11:30:00-05:00");
    let table = stdout(&inst.run(&["tasks", "list"]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("TAREA") && lines[0].contains("VENCE") && lines[0].contains("CLIENTE"), "{table}");
    // Aligned: every row's second column starts where the header's does.
    let col = lines[0].find("ESTADO").unwrap_or(0);
    for l in &lines[1..] {
        assert_eq!(l.chars().take(col).count(), col, "{l}");
        assert!(l.chars().nth(col).is_some_and(|c| c != ' ') && l.chars().nth(col - 1) == Some(' '), "{table}");
    }
    assert!(table.contains("sin fecha") && table.contains("04/12/2026 18:00"), "Lima time to the minute: {table}");
    assert!(!table.contains("T18:00") && !table.contains("UTC"), "{table}");

    let csv = stdout(&inst.run(&["reclamos", "list", "--format", "csv"]));
    assert!(csv.starts_with("\u{feff}RECLAMO,ESTADO,CLIENTE"), "{csv}");
    assert!(csv.contains("\r\n") && csv.contains("Sobreestadía"), "{csv}");

    let json = inst.json(&["orders", "list", "--format", "json", "--client", "andestextil"]);
    assert!(!json.is_empty() && json.iter().all(|o| o["client"] == "andestextil"), "{json:?}");
    assert!(json.iter().all(|o| o["client_name"] == "Andes Textil S.A.C."));
    let by_name = inst.json(&["orders", "list", "--json", "--client", "pacific"]);
    assert!(!by_name.is_empty() && by_name.iter().all(|o| o["client"] == "pacificfoods"), "{by_name:?}");
    let mine = inst.json(&["tasks", "list", "--json", "--assignee", "asistente2@cli.test"]);
    assert!(!mine.is_empty() && mine.iter().all(|t| t["assignee"] == "asistente2@cli.test"), "{mine:?}");
    let open = inst.json(&["reclamos", "list", "--json", "--open"]);
    assert!(open.iter().all(|r| r["state"] != "resuelto"), "{open:?}");
    assert!(inst.json(&["tasks", "list", "--json", "--since", "2026-12-02"]).is_empty());
    assert!(!inst.json(&["tasks", "list", "--json", "--since", "01/12/2026"]).is_empty());

    let shown = stdout(&inst.run(&["reclamos", "show", "R-000002"]));
    assert!(shown.contains("Historia:") && shown.contains("resuelto"), "{shown}");
    let task = stdout(&inst.run(&["tasks", "show", "T-000001"]));
    assert!(task.contains("Correo:") && task.contains("buzon reprocess"), "{task}");
}

#[test]
fn orders_export_writes_the_documents_under_their_original_names() {
    let inst = Instance::new();
    inst.deliver("a.eml", &generate::mail(0).1);
    run_once(&inst, NOW);
    let shown = stdout(&inst.run(&["orders", "show", "OC-2026-000001"]));
    assert!(shown.contains("Factura INV-2026-00000.pdf"), "{shown}");
    let dir = inst.path().join("export");
    let out = inst.run(&["orders", "export", "OC-2026-000001", "--to", &dir.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Factura INV-2026-00000.pdf".to_string()), "{names:?}");
    let pdf = std::fs::read(dir.join("Factura INV-2026-00000.pdf")).unwrap_or_default();
    assert!(pdf.starts_with(b"%PDF"), "the document itself");
    // Again: nothing is overwritten.
    let out = inst.run(&["orders", "export", "OC-2026-000001", "--to", &dir.display().to_string()]);
    assert!(out.status.success());
    assert!(dir.join("Factura INV-2026-00000 (2).pdf").exists());
}

#[test]
fn reprocess_sends_a_triaged_mail_through_the_desk_again_once() {
    let inst = Instance::new();
    inst.deliver(
        "t.eml",
        b"From: Usuario 9 <usuario9@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Hola\r\nMessage-ID: <suelto@andestextil.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBuenos dias, les escribo por lo conversado ayer con Carla.\r\n",
    );
    run_once(&inst, NOW);
    let tasks = inst.json(&["tasks", "list", "--json"]);
    let t = tasks.iter().find(|t| t["kind"] == "triage").cloned().unwrap_or_else(|| panic!("{tasks:?}"));
    let id = t["id"].as_str().unwrap_or("").to_string();
    assert_eq!(t["original_kept"], true, "{t}");
    let out = inst.run(&["--now", "2026-12-01T10:30:00-05:00", "reprocess", &id, "--by", "it"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tasks = inst.json(&["tasks", "list", "--json"]);
    let old = tasks.iter().find(|x| x["id"] == id.as_str()).cloned().unwrap_or_default();
    assert_eq!(old["state"], "anulada", "{old}");
    assert!(old["history"].to_string().contains("Reprocesado por it"), "{old}");
    assert_eq!(tasks.len(), 2, "it went through the desk again (triage again, no rule changed): {tasks:?}");
    let again = inst.run(&["--now", "2026-12-01T10:40:00-05:00", "reprocess", &id]);
    assert!(!again.status.success(), "once only");
    assert!(stderr(&again).contains("once"), "{}", stderr(&again));
}

#[test]
fn rules_check_and_test_answer_in_json_too() {
    let inst = Instance::new();
    let check = inst.json(&["rules", "check", "--json"]);
    assert_eq!(check[0]["ok"], true, "{check:?}");
    assert!(check[0]["languages"].as_array().is_some_and(|l| l.iter().any(|x| x == "en")), "{check:?}");
    assert!(check[0]["templates"].as_u64().is_some_and(|n| n >= 16), "{check:?}");
    let test = inst.json(&["rules", "test", "--json"]);
    assert_eq!(test[0]["failed"], 0, "{test:?}");
    assert!(test[0]["passed"].as_u64().is_some_and(|n| n > 50), "{test:?}");
    // A broken template: not ok, with where and why.
    inst.write("rules/templates/estado.txt.j2", "Hola {{ cliente.nombre }\n");
    let out = inst.run(&["rules", "check", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(stdout(&out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)));
    assert_eq!(v["ok"], false);
    assert!(v["errors"][0]["file"].as_str().is_some_and(|f| f.contains("estado")), "{v}");
}

/// With the daemon running, `reprocess` and the outbox commands go through
/// its socket: the daemon's committer does the reprocess within moments.
#[test]
fn reprocess_and_outbox_commands_reach_the_running_daemon() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let inst = Instance::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_buzon"))
        .current_dir(inst.path())
        .args(["run"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(inst.path().join("daemon.log")).map(Stdio::from).unwrap_or(Stdio::null()))
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let wait_for = |what: &str, cond: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !cond() {
            assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    inst.deliver(
        "t.eml",
        b"From: Usuario 9 <usuario9@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Hola\r\nMessage-ID: <suelto2@andestextil.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBuenos dias, les escribo por lo conversado ayer con Carla.\r\n",
    );
    wait_for("the triage task", &|| inst.json(&["tasks", "list", "--json"]).iter().any(|t| t["kind"] == "triage"));
    let out = inst.run(&["reprocess", "T-000001", "--by", "it"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("running daemon"), "{}", stdout(&out));
    wait_for("the reprocess", &|| {
        inst.json(&["tasks", "list", "--json"]).iter().any(|t| t["id"] == "T-000001" && t["state"] == "anulada")
    });
    wait_for("the notice sent", &|| !inst.outbox_files().is_empty());
    let sent = inst.json(&["outbox", "list", "--json"]);
    let id = sent.iter().find(|m| m["state"] == "enviado").and_then(|m| m["id"].as_str()).unwrap_or("").to_string();
    let hold = inst.run(&["outbox", "hold", &id]);
    assert!(!hold.status.success(), "a sent mail cannot be held: {}", stdout(&hold));
    assert!(child.try_wait().ok().flatten().is_none(), "the daemon runs on");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

/// A mail put aside (over `max_message_bytes`) goes through the desk again
/// with `reprocess NAME` once the limit is fixed, and leaves the quarantine;
/// an original over `max_attachment_bytes` is named by its Message-ID in
/// the task notice, not attached.
#[test]
fn a_quarantined_mail_is_reprocessed_by_name_and_a_large_original_is_named_not_attached() {
    let inst = Instance::new();
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    let limits = "[store]\nmax_message_bytes = 1500\n";
    let small = config.replace("[store]\n", limits);
    assert_ne!(small, config, "the shipped config has a [store] section");
    inst.write("config.toml", &small);
    let filler = "Les escribo por lo conversado ayer con Carla sobre la mercadería.\r\n".repeat(30);
    inst.deliver(
        "big.eml",
        format!("From: Usuario 9 <usuario9@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Hola\r\nMessage-ID: <grande@andestextil.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBuenos dias,\r\n{filler}")
            .as_bytes(),
    );
    run_once(&inst, NOW);
    assert!(inst.json(&["tasks", "list", "--json"]).is_empty());
    let status = inst.status_json();
    assert_eq!(status["quarantined"], 1, "{status}");
    let name = status["quarantine"][0]["name"].as_str().unwrap_or("").to_string();
    assert!(!name.is_empty(), "status names it: {status}");
    // The limit raised; attachments still limited to 1 KB: the original is too large to attach.
    inst.write(
        "config.toml",
        &config
            .replace("[store]\n", "[store]\nmax_message_bytes = 1000000\n")
            .replace("max_attachment_bytes = 41943040", "max_attachment_bytes = 1024"),
    );
    let out = inst.run(&["--now", "2026-12-01T10:30:00-05:00", "reprocess", &name, "--by", "it"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("taken out of quarantine"), "{}", stdout(&out));
    let tasks = inst.json(&["tasks", "list", "--json"]);
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(inst.status_json()["quarantined"], 0);
    let again = inst.run(&["--now", "2026-12-01T10:40:00-05:00", "reprocess", &name]);
    assert!(!again.status.success(), "once only");
    run_once(&inst, "2026-12-01T10:45:00-05:00");
    let notice =
        read_outbox(&inst).into_iter().find(|m| m.file.contains("nueva")).unwrap_or_else(|| panic!("no notice"));
    assert!(notice.attachments.iter().all(|(ct, _)| ct != "message/rfc822"), "{:?}", notice.attachments);
    assert!(
        notice.text.contains("grande@andestextil.test") && notice.text.contains("No va adjunto"),
        "{}",
        notice.text
    );
}

/// Going live with `import_existing = true` on a mailbox with months of
/// mail: the mail is history. A months-old reclamo and an old unclassified
/// mail are recorded closed as imported, a recent reclamo keeps its clock
/// from its Date, nothing is sent, and two days later nothing escalates
/// for the past.
#[test]
fn going_live_imports_old_mail_as_history_and_nothing_escalates_for_the_past() {
    use std::time::Duration;
    use support::stack::{Daemon, Stack, daemon_log, processed, wait_until};
    let Some(stack) = Stack::start("people import") else { return };
    let now = chrono::Utc::now();
    let date = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono::FixedOffset::west_opt(5 * 3600).unwrap_or_else(|| panic!("tz"))).to_rfc2822()
    };
    let mail = |id: &str, subject: &str, when: String, body: &str| {
        format!("From: Patricia Huamán <phuaman@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: {subject}\r\nDate: {when}\r\nMessage-ID: <{id}@andestextil.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").into_bytes()
    };
    let old = date(now - chrono::Duration::days(120));
    let recent = date(now - chrono::Duration::hours(2));
    stack.lmtp_deliver(
        "phuaman@andestextil.test",
        "ops@cli.test",
        &[
            mail(
                "viejo-reclamo",
                "Reclamo por demora",
                old.clone(),
                "Es inaceptable la demora en el despacho; les hago responsables.",
            ),
            mail("viejo-hola", "Hola", old, "Buenos dias, les escribo por lo conversado ayer con Carla."),
            mail(
                "nuevo-reclamo",
                "Reclamo por sobreestadía",
                recent,
                "Es inaceptable: nos cobran sobreestadía y nadie responde. Les hago responsables.",
            ),
        ],
    );
    let inst = stack.shadow_instance("import_existing = true\nprocessed_folder = \"Importados\"");
    {
        let _d = Daemon::start(&inst);
        assert!(wait_until(Duration::from_secs(30), || processed(&inst) == 3), "{}", daemon_log(&inst));
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(inst.outbox_files().is_empty(), "an import sends nothing");
    let reclamos = inst.json(&["reclamos", "list", "--json"]);
    assert_eq!(reclamos.len(), 2, "{reclamos:?}");
    let by_subject = |s: &str| reclamos.iter().find(|r| r["subject"] == s).cloned().unwrap_or_default();
    let (viejo, nuevo) = (by_subject("Reclamo por demora"), by_subject("Reclamo por sobreestadía"));
    assert_eq!(viejo["state"], "importado", "{viejo}");
    let received = |r: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(r["received_at"].as_str().unwrap_or("")).map(|d| d.to_utc()).unwrap_or(now)
    };
    assert!(now - received(&viejo) > chrono::Duration::days(100), "received when it was written: {viejo}");
    assert!(nuevo["state"] == "abierto" || nuevo["state"] == "escalado", "{nuevo}");
    assert!(now - received(&nuevo) >= chrono::Duration::minutes(110), "its clock runs from its Date: {nuevo}");
    let tasks = inst.json(&["tasks", "list", "--json"]);
    let triage = tasks.iter().find(|t| t["kind"] == "triage").cloned().unwrap_or_else(|| panic!("{tasks:?}"));
    assert_eq!(triage["state"], "importada", "{triage}");
    // Two days later: the recent reclamo is overdue and escalates; the old one never does.
    let later = (now + chrono::Duration::days(2)).to_rfc3339();
    {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_buzon"))
            .current_dir(inst.path())
            .args(["--now", &later, "reclamos", "list", "--json", "--open"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let open: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
        assert_eq!(open.len(), 1, "only the recent reclamo is open: {open:?}");
    }
    let viejo_id = viejo["id"].as_str().unwrap_or("").to_string();
    let digest = inst.json(&["--now", &later, "digest", "preview", "--to", "supervision@cli.test", "--json"]);
    let text = digest.iter().map(|d| d["text"].as_str().unwrap_or("").to_string()).collect::<String>();
    assert!(!text.contains(&viejo_id), "the imported reclamo is no overdue work: {text}");
}
