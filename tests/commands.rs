//! Staff steer the desk by email: commands from staff addresses only.

mod support;

use support::*;

const NOW: &str = "2026-12-01T10:00:00-05:00";

fn run_once(inst: &Instance, now: &str) {
    let out = inst.run(&["--now", now, "run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The text of the (first) command confirmation the desk wrote.
fn confirmation(inst: &Instance) -> String {
    inst.outbox_files()
        .into_iter()
        .find(|(n, _)| n.contains("confirmacion_comando"))
        .map(|(_, t)| unqp(&t))
        .unwrap_or_default()
}

fn mail(from: &str, id: &str, body: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: ops@cli.test\r\nSubject: comando\r\nMessage-ID: <{id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").into_bytes()
}

#[test]
fn staff_commands_change_the_desk_and_are_confirmed() {
    if skip_without_shared("staff_commands_change_the_desk_and_are_confirmed") {
        return;
    }
    let inst = Instance::new();
    inst.deliver(
        "1.eml",
        &std::fs::read(shared().join("corpus/scenarios/01-docs-invoice-packing.eml")).unwrap_or_default(),
    );
    inst.deliver(
        "7.eml",
        &std::fs::read(shared().join("corpus/scenarios/07-reclamo-sobreestadia.eml")).unwrap_or_default(),
    );
    run_once(&inst, NOW);
    inst.deliver(
        "c.eml",
        &mail(
            "Carla Vega <cvega@cli.test>",
            "cmd1@cli.test",
            "#resuelto R-000001 Se coordinó con la naviera y asumimos la sobreestadía\n#estado OC-2026-000001 numerada dam=118-2026-10-012345\n#eta OC-2026-000001 15/12/2026\n#estado OC-2026-999999 levante\n#hecho T-999999",
        ),
    );
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let r = inst.json(&["reclamos", "list", "--json"]);
    assert_eq!(r[0]["state"], "resuelto");
    assert_eq!(r[0]["resolution"], "Se coordinó con la naviera y asumimos la sobreestadía");
    let o = &inst.json(&["orders", "list", "--json"])[0];
    assert_eq!(o["stage"], "numerada");
    assert_eq!(o["eta"], "2026-12-15", "RFC 3339 full-date in JSON");
    assert!(o["references"]["dam"].as_array().is_some_and(|d| d.iter().any(|v| v == "118-2026-10-012345")), "{o}");
    assert!(
        o["history"]
            .as_array()
            .is_some_and(|h| h.iter().any(|e| e["what"].as_str().is_some_and(|w| w.contains("por cvega@cli.test")))),
        "recorded in the history"
    );
    let conf = confirmation(&inst);
    assert!(conf.contains("To: cvega@cli.test"), "{conf}");
    assert!(conf.contains("OK: reclamo R-000001 resuelto"), "{conf}");
    assert!(conf.contains("OK: orden OC-2026-000001 en etapa"), "{conf}");
    assert!(conf.contains("no existe la orden OC-2026-999999"), "{conf}");
    assert!(conf.contains("no existe la tarea T-999999"), "{conf}");
}

#[test]
fn a_command_from_a_non_staff_address_is_refused_and_changes_nothing() {
    if skip_without_shared("a_command_from_a_non_staff_address_is_refused_and_changes_nothing") {
        return;
    }
    let inst = Instance::new();
    inst.deliver(
        "7.eml",
        &std::fs::read(shared().join("corpus/scenarios/07-reclamo-sobreestadia.eml")).unwrap_or_default(),
    );
    run_once(&inst, NOW);
    // A client, and a forged staff address whose DMARC failed.
    inst.deliver(
        "x.eml",
        &mail("Patricia <phuaman@andestextil.test>", "x1@andestextil.test", "#resuelto R-000001 ya está"),
    );
    let forged = "From: Carla Vega <cvega@cli.test>\r\nTo: ops@cli.test\r\nSubject: comando\r\nMessage-ID: <f1@evil.test>\r\nAuthentication-Results: mx.cli.test; dmarc=fail header.from=cli.test\r\n\r\n#resuelto R-000001 ya está\r\n";
    inst.deliver("y.eml", forged.as_bytes());
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let r = inst.json(&["reclamos", "list", "--json"]);
    assert_eq!(r[0]["state"], "escalado", "nothing changed: {r:?}");
    assert!(!inst.outbox_files().iter().any(|(n, _)| n.contains("confirmacion_comando")));
}

/// Outbox ids, digests aside (they have their own test; the supervisors'
/// daily digest too).
fn kinds(inst: &Instance) -> Vec<String> {
    all_ids(inst).into_iter().filter(|k| !k.starts_with("digest-") && !k.starts_with("supervisor-digest-")).collect()
}

fn all_ids(inst: &Instance) -> Vec<String> {
    inst.json(&["outbox", "list", "--json"]).iter().map(|m| m["id"].as_str().unwrap_or_default().to_string()).collect()
}

/// The overstay reclamo of the scenarios, received Friday 26 June 2026 16:30
/// (Monday 29 June is a holiday).
fn reclamo_on_friday_before_a_holiday() -> Instance {
    let inst = Instance::new();
    inst.deliver(
        "7.eml",
        &std::fs::read(shared().join("corpus/scenarios/07-reclamo-sobreestadia.eml")).unwrap_or_default(),
    );
    run_once(&inst, "2026-06-26T16:30:00-05:00");
    inst
}

#[test]
fn reclamo_warnings_and_overdue_escalation_fire_once_each_and_stop_when_resolved() {
    if skip_without_shared("reclamo_warnings_and_overdue_escalation_fire_once_each_and_stop_when_resolved") {
        return;
    }
    // Due Thursday 2 July 13:30.
    let inst = reclamo_on_friday_before_a_holiday();
    assert_eq!(inst.json(&["reclamos", "list", "--json"])[0]["due_at"], "2026-07-02T13:30:00-05:00");
    let base = kinds(&inst).len();
    run_once(&inst, "2026-06-29T12:00:00-05:00"); // holiday
    assert_eq!(kinds(&inst).len(), base);
    run_once(&inst, "2026-07-01T10:31:00-05:00");
    run_once(&inst, "2026-07-01T10:45:00-05:00"); // again: nothing new
    let after50 = kinds(&inst);
    assert_eq!(after50.len(), base + 1);
    assert!(after50.iter().any(|k| k == "reclamo-R-000001-aviso50"), "{after50:?}");
    run_once(&inst, "2026-07-02T11:10:00-05:00");
    run_once(&inst, "2026-07-02T13:31:00-05:00");
    run_once(&inst, "2026-07-03T09:00:00-05:00");
    let all = kinds(&inst);
    assert_eq!(all.len(), base + 3, "{all:?}");
    let overdue =
        inst.outbox_files().into_iter().find(|(n, _)| n.contains("vencido")).map(|(_, t)| unqp(&t)).unwrap_or_default();
    assert!(overdue.contains("gerencia@cli.test") && overdue.contains("supervision@cli.test"), "{overdue}");
    assert!(overdue.contains("venci=C3=B3") || overdue.contains("venció"), "{overdue}");
    // Resolved by a staff command: nothing more, ever.
    inst.deliver(
        "c.eml",
        &mail("Carla Vega <cvega@cli.test>", "res@cli.test", "#resuelto R-000001 Asumimos los gastos."),
    );
    run_once(&inst, "2026-07-03T10:00:00-05:00");
    let n = kinds(&inst).len();
    run_once(&inst, "2026-07-10T10:00:00-05:00");
    assert_eq!(kinds(&inst).len(), n);
}

#[test]
fn a_new_warning_setting_reschedules_the_open_reclamos() {
    if skip_without_shared("a_new_warning_setting_reschedules_the_open_reclamos") {
        return;
    }
    let inst = reclamo_on_friday_before_a_holiday();
    let base = kinds(&inst).len();
    // Scheduled at 50 % (Wed 10:30); the desk now wants a warning at 25 %:
    // 6 business hours = 1.5 on Friday + 4.5 on Tuesday (Monday 29 is a holiday).
    let config = std::fs::read_to_string(inst.path().join("config.toml")).unwrap_or_default();
    inst.write("config.toml", &config.replace("reclamo_hours = 24", "reclamo_hours = 24\nreclamo_warnings = [25]"));
    run_once(&inst, "2026-06-30T13:29:00-05:00");
    assert_eq!(kinds(&inst).len(), base, "{:?}", kinds(&inst));
    run_once(&inst, "2026-06-30T13:31:00-05:00");
    let all = kinds(&inst);
    assert_eq!(all.len(), base + 1, "{all:?}");
    assert!(all.iter().any(|k| k == "reclamo-R-000001-aviso25"), "{all:?}");
    run_once(&inst, "2026-07-01T10:31:00-05:00"); // the old 50 % instant: nothing
    assert_eq!(kinds(&inst).len(), base + 1);
}

#[test]
fn after_an_outage_only_the_overdue_escalation_is_sent() {
    if skip_without_shared("after_an_outage_only_the_overdue_escalation_is_sent") {
        return;
    }
    let inst = reclamo_on_friday_before_a_holiday();
    let base = kinds(&inst).len();
    // Down until after the due time: no stale warnings, one overdue mail.
    run_once(&inst, "2026-07-06T09:00:00-05:00");
    let all = kinds(&inst);
    assert_eq!(all.len(), base + 1, "{all:?}");
    assert!(all.iter().any(|k| k == "reclamo-R-000001-vencido"));
}

fn digests(inst: &Instance) -> Vec<String> {
    all_ids(inst).into_iter().filter(|k| k.starts_with("digest-")).collect()
}

#[test]
fn the_0830_digest_is_sent_once_even_after_an_outage_and_never_when_empty() {
    if skip_without_shared("the_0830_digest_is_sent_once_even_after_an_outage_and_never_when_empty") {
        return;
    }
    let inst = Instance::new();
    // Monday 30 Nov 2026, before the first digest: a reclamo for Andes (asistente1).
    inst.deliver(
        "7.eml",
        &std::fs::read(shared().join("corpus/scenarios/07-reclamo-sobreestadia.eml")).unwrap_or_default(),
    );
    run_once(&inst, "2026-11-30T07:50:00-05:00");
    assert!(digests(&inst).is_empty());
    // Down from 08:00 to 09:00, restarted at 09:00: the 08:30 digest goes out, once.
    run_once(&inst, "2026-11-30T09:00:00-05:00");
    run_once(&inst, "2026-11-30T09:30:00-05:00");
    let d = digests(&inst);
    assert_eq!(
        d,
        vec!["digest-asistente1@cli.test-2026-11-30-08-30".to_string()],
        "only asistente1 has something: {d:?}"
    );
    let body = inst
        .outbox_files()
        .into_iter()
        .find(|(n, _)| n.contains("digest-asistente1"))
        .map(|(_, t)| unqp(&t))
        .unwrap_or_default();
    assert!(body.contains("RECLAMOS ABIERTOS") && body.contains("R-000001"), "{body}");
    // The afternoon slot.
    run_once(&inst, "2026-11-30T15:01:00-05:00");
    assert_eq!(digests(&inst).len(), 2);
    // Saturday: no digest.
    run_once(&inst, "2026-12-05T09:00:00-05:00");
    assert_eq!(digests(&inst).len(), 2);
    // Preview renders without sending.
    let out = inst.run(&["--now", "2026-11-30T16:00:00-05:00", "digest", "preview", "--to", "asistente1@cli.test"]);
    assert!(stdout(&out).contains("R-000001"), "{}", stdout(&out));
    assert_eq!(digests(&inst).len(), 2);
}

#[test]
fn an_alert_task_carries_its_deadline_and_reminds_before_it_once_each() {
    if skip_without_shared("an_alert_task_carries_its_deadline_and_reminds_before_it_once_each") {
        return;
    }
    let inst = Instance::new();
    // Tributos pendientes, fecha límite 04/12/2026; reminders 2 and 1 days before (rules/checklists.toml).
    inst.deliver(
        "12.eml",
        &std::fs::read(shared().join("corpus/scenarios/12-alerta-pago-tributos.eml")).unwrap_or_default(),
    );
    run_once(&inst, "2026-12-01T10:39:00-05:00");
    let t = &inst.json(&["tasks", "list", "--json"])[0];
    assert_eq!(t["due_at"], "2026-12-04T18:00:00-05:00");
    let reminders = |inst: &Instance| kinds(inst).into_iter().filter(|k| k.starts_with("task-")).collect::<Vec<_>>();
    assert!(reminders(&inst).is_empty());
    run_once(&inst, "2026-12-02T09:05:00-05:00");
    run_once(&inst, "2026-12-02T12:00:00-05:00");
    assert_eq!(reminders(&inst), vec!["task-T-000001-recordatorio2".to_string()]);
    run_once(&inst, "2026-12-03T09:00:00-05:00");
    assert_eq!(reminders(&inst).len(), 2);
    // Done by a staff command: no overdue notice.
    inst.deliver("h.eml", &mail("Carla Vega <cvega@cli.test>", "done@cli.test", "#hecho T-000001"));
    run_once(&inst, "2026-12-03T10:00:00-05:00");
    run_once(&inst, "2026-12-07T10:00:00-05:00");
    assert_eq!(reminders(&inst).len(), 2);
    assert_eq!(inst.json(&["tasks", "list", "--json"])[0]["state"], "hecha");
}

#[test]
fn a_weekly_status_summary_goes_once_a_week_and_only_with_open_orders() {
    if skip_without_shared("a_weekly_status_summary_goes_once_a_week_and_only_with_open_orders") {
        return;
    }
    let inst = Instance::new();
    let weekly = |inst: &Instance| all_ids(inst).into_iter().filter(|k| k.starts_with("status-")).collect::<Vec<_>>();
    // Andes Textil: weekly, Monday 09:00, to phuaman@andestextil.test (clients.toml). No orders yet.
    run_once(&inst, "2026-11-30T09:30:00-05:00");
    assert!(weekly(&inst).is_empty(), "nothing open, nothing sent");
    inst.deliver(
        "1.eml",
        &std::fs::read(shared().join("corpus/scenarios/01-docs-invoice-packing.eml")).unwrap_or_default(),
    );
    run_once(&inst, "2026-12-01T10:00:00-05:00");
    assert!(weekly(&inst).is_empty(), "this week's slot was already taken (empty)");
    run_once(&inst, "2026-12-07T09:05:00-05:00");
    run_once(&inst, "2026-12-07T15:00:00-05:00");
    run_once(&inst, "2026-12-08T09:05:00-05:00");
    assert_eq!(weekly(&inst), vec!["status-andestextil-2026-W50".to_string()]);
    let body = inst
        .outbox_files()
        .into_iter()
        .find(|(n, _)| n.starts_with("status-"))
        .map(|(_, t)| unqp(&t))
        .unwrap_or_default();
    assert!(body.contains("To: phuaman@andestextil.test") && body.contains("OC-2026-000001"), "{body}");
    // Closed: no more summaries.
    inst.deliver("c.eml", &mail("Carla Vega <cvega@cli.test>", "close@cli.test", "#cerrar OC-2026-000001 forzar"));
    run_once(&inst, "2026-12-10T10:00:00-05:00");
    run_once(&inst, "2026-12-14T09:05:00-05:00");
    assert_eq!(weekly(&inst).len(), 1);
}

#[test]
fn document_review_warns_the_assistant_then_escalates_to_the_executive_until_reviewed() {
    if skip_without_shared("document_review_warns_the_assistant_then_escalates_to_the_executive_until_reviewed") {
        return;
    }
    let inst = Instance::new();
    let review = |inst: &Instance| all_ids(inst).into_iter().filter(|k| k.starts_with("review-")).collect::<Vec<_>>();
    inst.deliver(
        "1.eml",
        &std::fs::read(shared().join("corpus/scenarios/01-docs-invoice-packing.eml")).unwrap_or_default(),
    );
    // Tue 1 Dec 10:00 + 48 business hours (8 and 9 Dec are holidays): 8+9+9+9+9 → Thu 10 Dec 13:00.
    run_once(&inst, "2026-12-01T10:00:00-05:00");
    assert_eq!(inst.json(&["orders", "list", "--json"])[0]["review_due"], "2026-12-10T13:00:00-05:00");
    run_once(&inst, "2026-12-09T17:00:00-05:00");
    assert!(review(&inst).is_empty());
    run_once(&inst, "2026-12-10T09:00:00-05:00");
    run_once(&inst, "2026-12-10T09:30:00-05:00");
    assert_eq!(review(&inst).len(), 1, "warning on the morning it is due");
    run_once(&inst, "2026-12-10T13:30:00-05:00");
    run_once(&inst, "2026-12-14T10:30:00-05:00");
    let r = review(&inst);
    assert_eq!(r.len(), 2, "{r:?}");
    let esc =
        inst.outbox_files().into_iter().find(|(n, _)| n.contains("vencida")).map(|(_, t)| unqp(&t)).unwrap_or_default();
    assert!(esc.contains("cvega@cli.test") && esc.contains("#revisado OC-2026-000001"), "to the executive: {esc}");
    inst.deliver("r.eml", &mail("Ana <asistente1@cli.test>", "rev@cli.test", "#revisado OC-2026-000001"));
    run_once(&inst, "2026-12-14T11:00:00-05:00");
    assert_eq!(inst.json(&["orders", "list", "--json"])[0]["review_due"], serde_json::Value::Null);
}

#[test]
fn staff_fix_what_the_machine_got_wrong_move_a_document_assign_a_triaged_mail_merge_two_orders() {
    let inst = Instance::new();
    inst.deliver("a.eml", &generate::mail(0).1); // andestextil: order 1
    inst.deliver("b.eml", &generate::mail(2).1); // andestextil: order 2
    inst.deliver(
        "t.eml",
        b"From: Usuario 9 <usuario9@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Hola\r\nMessage-ID: <suelto@andestextil.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBuenos dias, les escribo por lo conversado ayer con Carla.\r\n",
    );
    run_once(&inst, NOW);
    let tasks = inst.json(&["tasks", "list", "--json"]);
    let triage = tasks.iter().find(|t| t["kind"] == "triage").unwrap_or_else(|| panic!("no triage task: {tasks:?}"));
    let tid = triage["id"].as_str().unwrap_or("").to_string();
    inst.deliver(
        "c.eml",
        &mail(
            "Carla Vega <cvega@cli.test>",
            "fix1@cli.test",
            &format!(
                "#mover OC-2026-000001 Factura INV-2026-00000.pdf OC-2026-000002\n#asignar {tid} OC-2026-000002\n#fusionar OC-2026-000002 OC-2026-000099\n#fusionar OC-2026-000002 OC-2026-000001"
            ),
        ),
    );
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let orders = inst.json(&["orders", "list", "--json"]);
    let by_id = |id: &str| orders.iter().find(|o| o["id"] == id).cloned().unwrap_or_default();
    let (one, two) = (by_id("OC-2026-000001"), by_id("OC-2026-000002"));
    assert_eq!(one["closed"], true, "{one}");
    assert!(one["history"].to_string().contains("Fusionada en OC-2026-000002"), "{one}");
    assert!(one["history"].to_string().contains("movido a OC-2026-000002"), "{one}");
    let docs = two["documents"].as_array().map(|d| d.len()).unwrap_or(0);
    assert_eq!(docs, 4, "its two, the moved invoice, and the other's BL: {two}");
    let task =
        inst.json(&["tasks", "list", "--json"]).into_iter().find(|t| t["id"] == tid.as_str()).unwrap_or_default();
    assert_eq!(task["state"], "hecha", "{task}");
    assert_eq!(task["order"], "OC-2026-000002", "{task}");
    let conf = confirmation(&inst);
    assert!(conf.contains("OK: documento Factura INV-2026-00000.pdf movido"), "{conf}");
    assert!(conf.contains("no existe la orden OC-2026-000002 o OC-2026-000099"), "{conf}");
    assert!(conf.contains("OK: orden OC-2026-000001 fusionada en OC-2026-000002"), "{conf}");

    // A later answer in the triaged mail's thread now goes to the order.
    inst.deliver(
        "r.eml",
        b"From: Usuario 9 <usuario9@andestextil.test>\r\nTo: ops@cli.test\r\nSubject: Re: Hola\r\nMessage-ID: <suelto2@andestextil.test>\r\nIn-Reply-To: <suelto@andestextil.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nEstimados, me confirman el estado de mi carga por favor?\r\n",
    );
    run_once(&inst, "2026-12-01T12:00:00-05:00");
    let status_reply = inst
        .outbox_files()
        .into_iter()
        .filter(|(n, _)| n.contains("-estado-"))
        .map(|(_, t)| unqp(&t))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(status_reply.contains("OC-2026-000002"), "the thread follows the order: {status_reply}");
}

#[test]
fn a_regime_expiry_is_a_deadline_on_the_order_with_reminders_before_it() {
    let inst = Instance::new();
    inst.deliver("a.eml", &generate::mail(0).1);
    run_once(&inst, NOW);
    inst.deliver(
        "v.eml",
        &mail(
            "Carla Vega <cvega@cli.test>",
            "vence@cli.test",
            "#vence OC-2026-000001 31/12/2026\n#vence OC-2026-000001 31/13/2026",
        ),
    );
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let o = &inst.json(&["orders", "list", "--json"])[0];
    assert_eq!(o["regime_expires"], "2026-12-31T18:00:00-05:00", "{o}");
    let task = inst
        .json(&["tasks", "list", "--json"])
        .into_iter()
        .find(|t| t["kind"] == "alerta_vencimiento_regimen")
        .unwrap_or_else(|| panic!("no expiry task"));
    assert_eq!(task["order"], "OC-2026-000001");
    let id = task["id"].as_str().unwrap_or("").to_string();
    let reminders = |inst: &Instance| kinds(inst).into_iter().filter(|k| k.starts_with(&format!("task-{id}"))).count();
    // 15, 5 and 1 days before (rules/checklists.toml), once each.
    run_once(&inst, "2026-12-10T10:00:00-05:00");
    assert_eq!(reminders(&inst), 0);
    run_once(&inst, "2026-12-16T10:00:00-05:00");
    run_once(&inst, "2026-12-16T15:00:00-05:00");
    assert_eq!(reminders(&inst), 1);
    run_once(&inst, "2026-12-28T10:00:00-05:00");
    assert_eq!(reminders(&inst), 2);
    let conf = confirmation(&inst);
    assert!(conf.contains("fecha inválida «31/13/2026»"), "{conf}");
    let shown = stdout(&inst.run(&["--now", "2026-12-28T10:00:00-05:00", "orders", "show", "OC-2026-000001"]));
    assert!(shown.contains("Régimen vence: 31/12/2026 18:00"), "{shown}");
}

#[test]
fn a_clients_command_quoted_in_a_staff_outlook_reply_is_never_obeyed() {
    if skip_without_shared("a_clients_command_quoted_in_a_staff_outlook_reply_is_never_obeyed") {
        return;
    }
    // The staff member answers in HTML (Outlook: the client's mail below a
    // header block, no attribution line); the client had written #cerrar and
    // #resuelto in it. Only what staff wrote above the quote may command.
    let inst = Instance::new();
    inst.deliver(
        "1.eml",
        &std::fs::read(shared().join("corpus/scenarios/01-docs-invoice-packing.eml")).unwrap_or_default(),
    );
    run_once(&inst, NOW);
    let html = "<html><body><p>Gracias Patricia, lo reviso y le confirmo.</p><p>Carla</p>\
        <div id=\"appendonsend\"></div><hr style=\"display:inline-block;width:98%\">\
        <div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri\"><b>De:</b> Patricia Huam&aacute;n &lt;phuaman@andestextil.test&gt;<br>\
        <b>Enviado:</b> martes, 1 de diciembre de 2026 10:30<br><b>Para:</b> Operaciones CLI<br><b>Asunto:</b> Documentos</font></div>\
        <div><p>Por favor:</p><p>#cerrar OC-2026-000001</p><p>#archivar OC-2026-000001</p></div></body></html>";
    let reply = format!(
        "From: Carla Vega <cvega@cli.test>\r\nTo: ops@cli.test\r\nSubject: RE: Documentos\r\nMessage-ID: <q1@cli.test>\r\nDate: Tue, 01 Dec 2026 11:00:00 -0500\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    );
    inst.deliver("2.eml", reply.as_bytes());
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let orders = inst.json(&["orders", "list", "--json"]);
    assert_eq!(orders[0]["closed"], false, "the client's quoted #cerrar was obeyed: {}", orders[0]);
    assert_ne!(orders[0]["stage"], "archivada", "{}", orders[0]);
}
