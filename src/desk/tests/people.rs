//! What people read, and what they can undo (issue 14), as table tests:
//! the way back for reclamos and tasks, client-facing resolutions,
//! near-miss values, every open task in a digest, the supervisors' digest,
//! imported mail as history.

use super::super::model::{ReclamoState, TaskState};
use super::*;

const STAFF: &str = "Carla Vega <cvega@cli.test>";
const ANDES: &str = "Patricia Huamán <phuaman@andestextil.test>";

fn command(w: &mut World, now: &str, id: &str, body: &str) -> String {
    w.mail(now, &text_mail(STAFF, "Comandos", id, body));
    let c = w.sent_of("confirmacion_comando");
    let last = c.last().unwrap_or_else(|| panic!("no confirmation"));
    w.body(&last.id)
}

/// A reclamo R-000001 of Andes Textil, received Tuesday 1 December 10:00.
fn with_reclamo() -> World {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail(
            ANDES,
            "Demora en el despacho",
            "r1@andestextil.test",
            "Es inaceptable la demora; les hago responsables.",
        ),
    );
    assert!(w.mem.reclamos.contains_key("R-000001"));
    w
}

#[test]
fn resolutions_reach_the_client_only_with_cliente() {
    // (command, state after, mails to the client, what the confirmation says)
    let cases = [
        ("#resuelto R-000001 Llamé a la naviera", ReclamoState::Resuelto, 0, "OK: reclamo R-000001 resuelto"),
        (
            "#resuelto R-000001 Nota: la naviera asume. cliente: La naviera asume la sobreestadía; no se le cobrará.",
            ReclamoState::Resuelto,
            1,
            "respuesta enviada a phuaman@andestextil.test",
        ),
        ("#noesreclamo R-000001 Era una consulta de tarifas", ReclamoState::Descartado, 0, "OK"),
        ("#noesreclamo R-000001", ReclamoState::Escalado, 0, "indique el motivo"),
    ];
    for (cmd, state, to_client, says) in cases {
        let mut w = with_reclamo();
        let conf = command(&mut w, "2026-12-01T11:00", "c1@cli.test", cmd);
        let r = &w.mem.reclamos["R-000001"];
        assert_eq!(r.state, state, "{cmd}: {conf}");
        assert!(conf.contains(says), "{cmd}: {conf}");
        let sent = w.sent_of("reclamo_resuelto");
        assert_eq!(sent.len(), to_client, "{cmd}");
        if let Some(m) = sent.first() {
            let body = w.body(&m.id);
            assert_eq!(m.to, vec!["phuaman@andestextil.test".to_string()]);
            assert!(body.contains("no se le cobrará") && !body.contains("Nota: la naviera"), "{body}");
            assert!(body.contains("Buen día, Patricia Huamán:"), "{body}");
        }
        if state == ReclamoState::Descartado {
            assert!(!r.state.counts(), "out of the SLA figures");
        }
    }
}

#[test]
fn reabrir_reopens_reclamos_and_tasks() {
    let mut w = with_reclamo();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#resuelto R-000001 Resuelto por teléfono");
    assert_eq!(w.mem.reclamos["R-000001"].state, ReclamoState::Resuelto);
    let conf = command(&mut w, "2026-12-01T11:05", "c2@cli.test", "#reabrir R-000001");
    assert!(w.mem.reclamos["R-000001"].is_open(), "{conf}");
    assert!(w.mem.reclamos["R-000001"].history.iter().any(|h| h.what.contains("eabiert")), "the history says so");

    w.mail(
        "2026-12-01T11:10",
        &text_mail(
            ANDES,
            "Cotización",
            "p1@andestextil.test",
            "¿Me pueden enviar una cotización para el desaduanaje de un contenedor de 40'?",
        ),
    );
    let (tid, _) = w
        .mem
        .tasks
        .iter()
        .find(|(_, t)| t.kind == "proforma")
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap_or_else(|| panic!("no proforma task"));
    command(&mut w, "2026-12-01T11:20", "c3@cli.test", &format!("#hecho {tid}"));
    assert_eq!(w.mem.tasks[&tid].state, TaskState::Hecha);
    let conf = command(&mut w, "2026-12-01T11:30", "c4@cli.test", &format!("#reabrir {tid}"));
    assert_eq!(w.mem.tasks[&tid].state, TaskState::Pendiente, "{conf}");
}

#[test]
fn near_miss_values_are_suggested() {
    let cases = [
        ("#estado OC-2026-000001 levnte", "¿Quiso decir «levante»?"),
        ("#estado OC-2026-000001 numerado", "¿Quiso decir «numerada»?"),
    ];
    for (cmd, hint) in cases {
        let mut w = with_reclamo();
        w.mail(
            "2026-12-01T10:05",
            &mail_with_pdf(
                ANDES,
                "Documentos",
                "a1@andestextil.test",
                "Adjunto la factura.",
                "Factura AT-5521.pdf",
                "COMMERCIAL INVOICE",
            ),
        );
        let conf = command(&mut w, "2026-12-01T11:00", "c1@cli.test", cmd);
        assert!(conf.contains(hint), "{cmd}: {conf}");
    }
}

#[test]
fn every_open_task_reaches_its_assistants_digest_and_the_supervisors_get_theirs() {
    let mut w = with_reclamo();
    w.mail(
        "2026-12-01T10:10",
        &text_mail(
            ANDES,
            "Cotización",
            "p1@andestextil.test",
            "¿Me pueden enviar una cotización para el desaduanaje de un contenedor de 40'?",
        ),
    );
    let task = w.mem.tasks.values().find(|t| t.kind == "proforma").cloned().unwrap_or_else(|| panic!("no proforma"));
    assert_eq!(task.due_at, None);
    w.tick("2026-12-01T15:00");
    let digest = w
        .sent_of("resumen_asistente")
        .into_iter()
        .find(|m| m.to.contains(&task.assignee))
        .cloned()
        .unwrap_or_else(|| panic!("no digest for {}", task.assignee));
    let body = w.body(&digest.id);
    assert!(body.contains(&task.id), "the undated task is listed: {body}");
    assert!(body.contains("Andes Textil S.A.C."), "client names, not ids: {body}");
    assert!(!body.contains("andestextil,"), "{body}");
    let raw = String::from_utf8_lossy(&w.mem.outbox_bytes[&digest.id]).into_owned();
    assert!(raw.contains("text/html") && raw.contains("text/plain"), "HTML with a text alternative");

    // The supervisors' digest, the next morning: the open reclamo with its
    // clock (today's 08:00 one went out late, at the first tick).
    let before = w.sent_of("resumen_supervision").len();
    w.tick("2026-12-02T08:00");
    let all = w.sent_of("resumen_supervision");
    assert_eq!(all.len(), before + 1, "{:?}", w.sent.iter().map(|m| &m.kind).collect::<Vec<_>>());
    let sup = &all[before..];
    assert!(sup[0].to.contains(&"supervision@cli.test".to_string()), "{:?}", sup[0].to);
    let body = w.body(&sup[0].id);
    assert!(body.contains("R-000001") && body.contains("h útiles"), "{body}");
    // Once per slot.
    w.tick("2026-12-02T08:30");
    assert_eq!(w.sent_of("resumen_supervision").len(), before + 1);
}

#[test]
fn imported_mail_is_history_nothing_escalates_for_the_past() {
    let f = &*FIXTURE;
    let cases = [
        // (Date of the mail, reclamo state after, steps scheduled in the future)
        ("Mon, 03 Aug 2026 10:00:00 -0500", ReclamoState::Importado),
        ("Tue, 01 Dec 2026 09:00:00 -0500", ReclamoState::Abierto),
    ];
    for (date, state) in cases {
        let raw = text_mail(
            ANDES,
            "Reclamo por demora",
            "old1@andestextil.test",
            "Es inaceptable la demora; les hago responsables.",
        )
        .replace("Tue, 01 Dec 2026 09:00:00 -0500", date)
        .replace('\n', "\r\n");
        let mail = crate::mail::parse(raw.as_bytes(), &crate::mail::ParseOptions::default());
        let sender = f.directory.sender(mail.from_address());
        let class = crate::rules::classify(
            &f.rules,
            &mail,
            crate::rules::Facts::of(&mail, sender.role(), &|a| f.directory.sender(a).role()),
        );
        let now = lima("2026-12-01T10:00");
        let at = super::super::history::written_at(mail.date.as_deref(), now);
        let mem = Memory::default();
        let arrival =
            super::super::Arrival { mail: &mail, class: &class, kept: &[], raw: raw.as_bytes(), imported: true };
        let mut d = super::super::decide_with(&desk(), &mem, &arrival, at).unwrap_or_else(|e| panic!("{e}"));
        super::super::history::as_history(&mut d, &desk(), at, now);
        assert!(!d.effects.iter().any(|e| matches!(e, super::super::Effect::Queue { .. })), "{date}: nothing is sent");
        let r = d
            .effects
            .iter()
            .find_map(|e| match e {
                super::super::Effect::SaveReclamo(r) => Some(r.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{date}: no reclamo"));
        assert_eq!(r.received_at, at, "{date}: received when it was written");
        if state == ReclamoState::Importado {
            assert_eq!(r.state, state, "{date}");
        } else {
            assert!(r.is_open(), "{date}: recent mail stays open, its clock from its Date: {:?}", r.state);
            assert_eq!(r.due_at, lima("2026-12-03T15:00"), "{date}: 24 business hours from its Date");
        }
        let mut w = World { mem, sent: Vec::new() };
        w.take(d);
        // Two days later nothing escalates the old one; the new one runs its clock.
        w.tick("2026-12-03T10:00");
        let escalations = w.sent.iter().filter(|m| m.kind.contains("reclamo")).count();
        if state == ReclamoState::Importado {
            assert_eq!(escalations, 0, "{date}: {:?}", w.sent.iter().map(|m| &m.kind).collect::<Vec<_>>());
        }
    }
}

/// `#deshacer` in a reply to a confirmation puts back what its commands
/// changed (stage, ETA, vessel), once; a second one says it was undone.
#[test]
fn deshacer_reverts_stage_eta_and_vessel_once() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &mail_with_pdf(
            ANDES,
            "Documentos",
            "a1@andestextil.test",
            "Adjunto la factura.",
            "Factura AT-5521.pdf",
            "COMMERCIAL INVOICE",
        ),
    );
    let before = w.mem.orders["OC-2026-000001"].clone();
    command(
        &mut w,
        "2026-12-01T11:00",
        "c1@cli.test",
        "#estado OC-2026-000001 numerada\n#eta OC-2026-000001 15/12/2026\n#nave OC-2026-000001 MSC LORETO 611W",
    );
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!((o.stage.as_str(), o.eta.as_deref()), ("numerada", Some("15/12/2026")));
    let conf = w.sent_of("confirmacion_comando").last().map(|m| m.message_id.clone()).unwrap_or_default();
    let undo = |w: &mut World, id: &str, now: &str| {
        let raw = text_mail(STAFF, "Re: Comandos", id, "#deshacer\n\nCarla")
            .replace("Message-ID:", &format!("In-Reply-To: <{conf}>\nReferences: <{conf}>\nMessage-ID:"));
        w.mail(now, &raw);
        let c = w.sent_of("confirmacion_comando");
        w.body(&c.last().map(|m| m.id.clone()).unwrap_or_default())
    };
    let said = undo(&mut w, "u1@cli.test", "2026-12-01T11:10");
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.stage, before.stage, "{said}");
    assert_eq!(o.eta, before.eta, "{said}");
    assert_eq!(o.vessel, before.vessel, "{said}");
    assert!(o.history.len() > before.history.len(), "the history keeps the command and its undoing");
    let again = undo(&mut w, "u2@cli.test", "2026-12-01T11:20");
    assert!(again.contains("ya") || again.contains("deshecho"), "{again}");
    assert_eq!(w.mem.orders["OC-2026-000001"].stage, before.stage);
}

/// A mail the parser can make nothing of still tells the assistant where it
/// is: no empty sender, no empty «».
#[test]
fn a_triage_task_for_an_unreadable_mail_says_where_it_is() {
    let mut w = World::default();
    w.mail("2026-12-01T10:00", "\u{1}\u{2}garbage without headers\n\n\u{0}\u{0}");
    let t = w.mem.tasks.values().find(|t| t.kind.starts_with("triage")).cloned();
    let t = t.unwrap_or_else(|| panic!("no triage task: {:?}", w.mem.tasks));
    assert!(!t.summary.contains("de : ") && !t.summary.contains("«»"), "{}", t.summary);
    assert!(t.summary.contains("sin remitente") || t.summary.contains("sin asunto"), "{}", t.summary);
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        "From: <>\nTo: ops@cli.test\nMessage-ID: <x1@nowhere.test>\nContent-Type: text/plain\n\nhola\n",
    );
    assert!(!w.mem.tasks.is_empty(), "a person is told");
    for t in w.mem.tasks.values() {
        assert!(!t.summary.contains("de : ") && !t.summary.contains("«»"), "{}", t.summary);
        assert!(t.summary.contains("remitente ilegible") && t.summary.contains("sin asunto"), "{}", t.summary);
        assert_eq!(t.message_id.as_deref(), Some("x1@nowhere.test"), "the mail is found by its Message-ID");
    }
}

/// `#deshacer` after `#mover`: the document is back in its order.
#[test]
fn deshacer_puts_a_moved_document_back() {
    let mut w = World::default();
    for (i, (subject, file)) in
        [("Embarque A", "Factura AT-1.pdf"), ("Embarque B", "Lista de empaque B.pdf")].iter().enumerate()
    {
        w.mail(
            &format!("2026-12-01T10:0{i}"),
            &mail_with_pdf(
                ANDES,
                subject,
                &format!("m{i}@andestextil.test"),
                "Adjunto.",
                file,
                if i == 0 { "COMMERCIAL INVOICE" } else { "PACKING LIST" },
            ),
        );
    }
    assert_eq!(w.mem.orders.len(), 2, "{:?}", w.mem.orders.keys().collect::<Vec<_>>());
    let docs = |w: &World, id: &str| w.mem.orders[id].documents.iter().map(|d| d.name.clone()).collect::<Vec<_>>();
    let (one, two) = (docs(&w, "OC-2026-000001"), docs(&w, "OC-2026-000002"));
    let said =
        command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#mover OC-2026-000001 Factura AT-1.pdf OC-2026-000002");
    assert!(docs(&w, "OC-2026-000002").contains(&"Factura AT-1.pdf".to_string()), "{said}");
    let conf = w.sent_of("confirmacion_comando").last().map(|m| m.message_id.clone()).unwrap_or_default();
    let raw = text_mail(STAFF, "Re: Comandos", "u1@cli.test", "#deshacer")
        .replace("Message-ID:", &format!("In-Reply-To: <{conf}>\nMessage-ID:"));
    w.mail("2026-12-01T11:10", &raw);
    assert_eq!(docs(&w, "OC-2026-000001"), one);
    assert_eq!(docs(&w, "OC-2026-000002"), two);
}
