//! Keeping the client informed and handling the money (issue 16), on the
//! embedded default with `--now`: the outbox mails read back as the client
//! and Administración would read them.

mod support;

use support::*;

/// One outgoing mail, decoded.
fn of_kind<'a>(mails: &'a [Out], prefix: &str) -> Vec<&'a Out> {
    mails.iter().filter(|m| m.file.starts_with(prefix)).collect()
}

fn run_once(inst: &Instance, now: &str) {
    let out = inst.run(&["--now", now, "run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// What a client reads: Spanish, no template or machine residue, nothing
/// of another client.
fn reads_as_a_person_wrote_it(m: &Out) {
    let all = format!("{}\n{}", m.subject, m.text);
    for bad in ["{{", "}}", "null", "None", "(s)", "Estimado(a)", "#estado", "#liquidacion", "T-0", "cvega", "Dear "] {
        assert!(!all.contains(bad), "«{bad}» in {}:\n{all}", m.file);
    }
    for other in ["Andes Textil", "andestextil", "Minera Altiplano", "altiplano"] {
        assert!(!all.contains(other), "another client («{other}») in {}:\n{all}", m.file);
    }
    assert!(all.contains("Buen día") && all.contains("Atentamente"), "{all}");
}

fn pdf_mail(from: &str, subject: &str, id: &str, date: &str, body: &str, file: &str, pdf: &[&str]) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        generate::b64(&generate::pdf(pdf))
    )
    .into_bytes()
}

fn text_mail(from: &str, subject: &str, id: &str, date: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Operaciones CLI <ops@cli.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

const NOTIFY: &str = "notify = [\"numerada\", \"canal asignado\", \"levante\", \"retirada\"]\n";

/// The shipped clients file with Pacific Foods asking for notices (or not).
fn pacific_notified(inst: &Instance, on: bool) {
    let text = std::fs::read_to_string(root().join("clients.toml")).unwrap_or_default();
    let anchor = "partners = [\"miamiforwarding.test\"]\n";
    assert!(text.contains(anchor), "the shipped clients file changed");
    let text = if on { text.replacen(anchor, &format!("{anchor}{NOTIFY}"), 1) } else { text };
    inst.write("clients.toml", &text);
}

/// Pacific Foods' order OC-2026-000001 (invoice and BL), opened at 09:00.
fn pacific_order(inst: &Instance) {
    inst.deliver(
        "01-docs.eml",
        &pdf_mail(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "Documentos embarque conservas BL MEDUHG271461",
            "pf1@pacificfoods.test",
            "Tue, 01 Dec 2026 09:00:00 -0500",
            "Buenos días,\r\n\r\nAdjunto la factura y el BL MEDUHG271461 del embarque de conservas.\r\n\r\nSaludos,\r\nLucía Paredes\r\nPacific Foods S.A.C.",
            "Factura y BL.pdf",
            &["COMMERCIAL INVOICE", "Invoice No. PF-88812", "BILL OF LADING MEDUHG271461"],
        ),
    );
    run_once(inst, "2026-12-01T09:00:00-05:00");
}

fn staff(inst: &Instance, name: &str, id: &str, now_header: &str, body: &str) {
    inst.deliver(name, &text_mail("Carla Vega <cvega@cli.test>", "Comandos", id, now_header, body));
}

#[test]
fn an_opted_in_client_gets_one_notice_per_stage_and_none_after_it_opts_out() {
    let inst = Instance::new();
    pacific_notified(&inst, true);
    pacific_order(&inst);
    staff(
        &inst,
        "02-num.eml",
        "c1@cli.test",
        "Tue, 01 Dec 2026 10:00:00 -0500",
        "#estado OC-2026-000001 numerada dam=118-2026-10-012345\r\n\r\nCarla",
    );
    run_once(&inst, "2026-12-01T10:00:00-05:00");
    staff(
        &inst,
        "03-canal.eml",
        "c2@cli.test",
        "Tue, 01 Dec 2026 11:30:00 -0500",
        "#estado OC-2026-000001 canal asignado canal=rojo",
    );
    run_once(&inst, "2026-12-01T11:30:00-05:00");
    let mails = read_outbox(&inst);
    let notices = of_kind(&mails, "aviso-OC-2026-000001");
    assert_eq!(notices.len(), 2, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    for n in &notices {
        assert_eq!(n.to, vec!["lparedes@pacificfoods.test".to_string()], "only the client's own address that wrote");
        assert!(n.subject.contains("[OC-2026-000001]"), "{}", n.subject);
        reads_as_a_person_wrote_it(n);
    }
    let numbered =
        notices.iter().find(|n| n.subject.contains("DAM numerada")).unwrap_or_else(|| panic!("no numbered notice"));
    assert!(numbered.text.contains("118-2026-10-012345") && numbered.text.contains("Qué sigue"), "{}", numbered.text);
    let red =
        notices.iter().find(|n| n.subject.contains("Canal rojo")).unwrap_or_else(|| panic!("no red-channel notice"));
    for want in ["canal ROJO", "reconocimiento físico", "lista de empaque", "fichas técnicas"] {
        assert!(red.text.contains(want), "«{want}» missing:\n{}", red.text);
    }
    // It opts out: the next stage tells nobody.
    pacific_notified(&inst, false);
    staff(&inst, "04-levante.eml", "c3@cli.test", "Tue, 01 Dec 2026 15:00:00 -0500", "#estado OC-2026-000001 levante");
    run_once(&inst, "2026-12-01T15:00:00-05:00");
    run_once(&inst, "2026-12-01T17:00:00-05:00");
    let mails = read_outbox(&inst);
    assert_eq!(of_kind(&mails, "aviso-").len(), 2, "no notice after opting out");
}

#[test]
fn an_unknown_stage_in_notify_stops_the_load_at_its_line() {
    let inst = Instance::new();
    let text = std::fs::read_to_string(root().join("clients.toml")).unwrap_or_default();
    inst.write(
        "clients.toml",
        &text.replacen(
            "partners = [\"miamiforwarding.test\"]\n",
            "partners = [\"miamiforwarding.test\"]\nnotify = [\"numerado\"]\n",
            1,
        ),
    );
    let out = inst.run(&["rules", "check"]);
    assert!(!out.status.success());
    let err = format!("{}{}", stdout(&out), stderr(&out));
    assert!(err.contains("clients.toml:") && err.contains("numerado") && err.contains("«numerada»"), "{err}");
}

fn carrier(inst: &Instance, name: &str, id: &str, date: &str, eta: &str) {
    inst.deliver(
        name,
        &text_mail(
            "Customer Service MSC Peru <avisos@msc-peru.test>",
            "Aviso de llegada BL MEDUHG271461",
            id,
            date,
            &format!("Estimado cliente:\r\n\r\nLe informamos que la nave MSC LORETO viaje 611W arribará con ETA {eta} al puerto del Callao.\r\nBL MEDUHG271461.\r\n\r\nAtentamente,\r\nMSC Perú\r\nEste correo es confidencial."),
        ),
    );
}

#[test]
fn an_eta_moved_by_more_than_twelve_hours_is_told_and_a_smaller_move_is_not() {
    let inst = Instance::new();
    pacific_notified(&inst, true);
    pacific_order(&inst);
    carrier(&inst, "02-eta.eml", "n1@msc-peru.test", "Tue, 01 Dec 2026 10:00:00 -0500", "15/12/2026 08:00");
    run_once(&inst, "2026-12-01T10:00:00-05:00");
    carrier(&inst, "03-eta.eml", "n2@msc-peru.test", "Tue, 01 Dec 2026 12:00:00 -0500", "15/12/2026 17:00");
    run_once(&inst, "2026-12-01T12:00:00-05:00");
    assert!(of_kind(&read_outbox(&inst), "aviso-").is_empty(), "9 hours: no notice");
    carrier(&inst, "04-eta.eml", "n3@msc-peru.test", "Tue, 01 Dec 2026 14:00:00 -0500", "17/12/2026 09:00");
    run_once(&inst, "2026-12-01T14:00:00-05:00");
    let mails = read_outbox(&inst);
    let n = of_kind(&mails, "aviso-");
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].to, vec!["lparedes@pacificfoods.test".to_string()]);
    assert!(n[0].text.contains("15/12/2026 17:00") && n[0].text.contains("17/12/2026 09:00"), "{}", n[0].text);
    reads_as_a_person_wrote_it(n[0]);
}

/// Pacific Foods' order with a liquidation sent on 2 Dec, due 10 Dec.
fn liquidated(inst: &Instance) {
    pacific_notified(inst, false);
    pacific_order(inst);
    inst.deliver(
        "02-liq.eml",
        &pdf_mail(
            "Carla Vega <cvega@cli.test>",
            "RV: SUNAT - Liquidación de cobranza",
            "l1@cli.test",
            "Wed, 02 Dec 2026 10:00:00 -0500",
            "#liquidacion OC-2026-000001 monto=1234.50 moneda=PEN vence=10/12/2026\r\n\r\nCarla Vega\r\nEjecutiva de cuenta\r\n\r\n---------- Forwarded message ---------\r\nDe: SUNAT <notificaciones@sunat.gob.pe>\r\nAdjuntamos la liquidación de cobranza.",
            "Liquidacion 118-2026-10-012345.pdf",
            &["LIQUIDACION DE COBRANZA", "FORMATO C", "TOTAL S/ 1,234.50"],
        ),
    );
    run_once(inst, "2026-12-02T10:00:00-05:00");
}

#[test]
fn a_liquidation_is_sent_with_its_pdf_reminded_and_escalated_when_unpaid() {
    let inst = Instance::new();
    liquidated(&inst);
    let mails = read_outbox(&inst);
    let l = of_kind(&mails, "liquidacion-OC-2026-000001-1");
    assert_eq!(l.len(), 1, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    assert_eq!(l[0].to, vec!["lparedes@pacificfoods.test".to_string()]);
    assert!(
        l[0].attachments.iter().any(|(ct, n)| ct == "application/pdf" && n == "Liquidacion 118-2026-10-012345.pdf"),
        "{:?}",
        l[0].attachments
    );
    assert!(l[0].text.contains("PEN 1,234.50") && l[0].text.contains("10/12/2026"), "{}", l[0].text);
    assert!(!l[0].text.contains("Carla") && !l[0].text.contains("SUNAT <"), "{}", l[0].text);
    reads_as_a_person_wrote_it(l[0]);
    run_once(&inst, "2026-12-08T09:05:00-05:00");
    run_once(&inst, "2026-12-10T18:05:00-05:00");
    let mails = read_outbox(&inst);
    let reminders: Vec<&Out> =
        mails.iter().filter(|m| m.file.starts_with("task-") && m.subject.contains("liquidación")).collect();
    assert_eq!(reminders.len(), 2, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    let late = reminders.iter().find(|m| m.subject.contains("VENCIDA")).unwrap_or_else(|| panic!("no escalation"));
    assert!(late.to.contains(&"jrojas@cli.test".to_string()), "the executive is told: {:?}", late.to);
}

#[test]
fn a_matching_payment_clears_the_liquidation_and_administracion_gets_the_voucher() {
    let inst = Instance::new();
    liquidated(&inst);
    inst.deliver(
        "03-pago.eml",
        &pdf_mail(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "RE: Liquidación de tributos de su orden: PEN 1,234.50, vence el 10/12/2026 [OC-2026-000001]",
            "pf2@pacificfoods.test",
            "Thu, 03 Dec 2026 15:00:00 -0500",
            "Buenas tardes,\r\n\r\nYa pagamos la liquidación, número de operación 556677. Adjunto la constancia.\r\n\r\nSaludos,\r\nLucía",
            "constancia.pdf",
            &["BCP", "CONSTANCIA DE PAGO", "S/ 1,234.50"],
        ),
    );
    run_once(&inst, "2026-12-03T15:00:00-05:00");
    run_once(&inst, "2026-12-10T18:05:00-05:00");
    let mails = read_outbox(&inst);
    let paid = of_kind(&mails, "liquidacion-OC-2026-000001-1-pagada");
    assert_eq!(paid.len(), 1, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    assert_eq!(paid[0].to, vec!["administracion@cli.test".to_string()]);
    assert!(paid[0].attachments.iter().any(|(_, n)| n == "constancia.pdf"), "{:?}", paid[0].attachments);
    assert!(
        !mails.iter().any(|m| m.subject.contains("VENCIDA") && m.subject.contains("liquidación")),
        "paid: no escalation"
    );
    let shown = stdout(&inst.run(&["orders", "show", "OC-2026-000001"]));
    assert!(shown.contains("Pago de la liquidación recibido"), "{shown}");
}

/// The shipped clients file, Pacific Foods with credit or not.
fn pacific_credit(inst: &Instance, credit: bool) {
    let text = std::fs::read_to_string(root().join("clients.toml")).unwrap_or_default();
    let anchor = "partners = [\"miamiforwarding.test\"]\n";
    let text = if credit { text.replacen(anchor, &format!("{anchor}credito = true\n"), 1) } else { text };
    inst.write("clients.toml", &text);
}

fn pagar(inst: &Instance) {
    staff(
        inst,
        "02-pagar.eml",
        "pg1@cli.test",
        "Wed, 02 Dec 2026 10:00:00 -0500",
        "#pagar OC-2026-000001 concepto=almacenaje monto=850 moneda=PEN beneficiario=Neptunia S.A.\r\n\r\nGracias,\r\nCarla",
    );
    run_once(inst, "2026-12-02T10:00:00-05:00");
}

#[test]
fn a_payment_request_is_held_for_a_client_without_credit_and_released_by_its_payment() {
    let inst = Instance::new();
    pacific_credit(&inst, false);
    pacific_order(&inst);
    pagar(&inst);
    let mails = read_outbox(&inst);
    assert!(of_kind(&mails, "pago-OC-2026-000001").is_empty(), "held");
    let asked = of_kind(&mails, "fondos-OC-2026-000001-1");
    assert_eq!(asked.len(), 1, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    assert_eq!(asked[0].to, vec!["lparedes@pacificfoods.test".to_string()]);
    assert!(asked[0].text.contains("PEN 850.00") && asked[0].text.contains("almacenaje"), "{}", asked[0].text);
    reads_as_a_person_wrote_it(asked[0]);
    inst.deliver(
        "03-abono.eml",
        &pdf_mail(
            "Lucía Paredes <lparedes@pacificfoods.test>",
            "RE: Fondos para almacenaje de su orden: PEN 850.00 [OC-2026-000001]",
            "pf3@pacificfoods.test",
            "Wed, 02 Dec 2026 16:00:00 -0500",
            "Hola,\r\n\r\nYa depositamos S/ 850.00, adjunto el voucher.\r\n\r\nLucía",
            "voucher.pdf",
            &["INTERBANK", "DEPOSITO EN CUENTA", "S/ 850.00"],
        ),
    );
    run_once(&inst, "2026-12-02T16:00:00-05:00");
    let mails = read_outbox(&inst);
    let sent = of_kind(&mails, "pago-OC-2026-000001-1");
    assert_eq!(sent.len(), 1, "{:?}", mails.iter().map(|m| &m.file).collect::<Vec<_>>());
    assert_eq!(sent[0].to, vec!["administracion@cli.test".to_string()]);
    assert!(sent[0].text.contains("Neptunia S.A.") && sent[0].text.contains("PEN 850.00"), "{}", sent[0].text);
    let shown = stdout(&inst.run(&["orders", "show", "OC-2026-000001"]));
    assert!(shown.contains("liberada") && shown.contains("PEN 850.00"), "{shown}");
    // Nothing of it reached anyone but the client's own address and Administración.
    for m in &mails {
        for a in &m.to {
            assert!(a.ends_with("@pacificfoods.test") || a.ends_with("@cli.test"), "{} went to {a}", m.file);
        }
    }
}

#[test]
fn a_client_with_credit_gets_no_funds_request() {
    let inst = Instance::new();
    pacific_credit(&inst, true);
    pacific_order(&inst);
    pagar(&inst);
    let mails = read_outbox(&inst);
    assert!(of_kind(&mails, "fondos-").is_empty(), "credit: no funds asked");
    let sent = of_kind(&mails, "pago-OC-2026-000001-1");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].text.contains("crédito aprobado"), "{}", sent[0].text);
}

#[test]
fn notices_never_reach_a_partner_or_another_client() {
    let inst = Instance::new();
    let text = std::fs::read_to_string(root().join("clients.toml")).unwrap_or_default();
    // Both clients ask for notices; Andes Textil's gmail contact is registered.
    let text = text.replacen(
        "partners = [\"miamiforwarding.test\"]\n",
        &format!("partners = [\"miamiforwarding.test\"]\n{NOTIFY}"),
        1,
    );
    let text = text.replacen("regime = \"10\"\nstatus", &format!("regime = \"10\"\n{NOTIFY}status"), 1);
    inst.write("clients.toml", &text);
    // Pacific Foods' forwarder sends the documents (a partner: never a recipient).
    inst.deliver(
        "01-docs.eml",
        &pdf_mail(
            "Miami Forwarding Ops <ops@miamiforwarding.test>",
            "Shipping documents Pacific Foods BL MEDUHG271461",
            "mf1@miamiforwarding.test",
            "Tue, 01 Dec 2026 08:00:00 -0500",
            "Hello,\r\n\r\nAttached the invoice and BL MEDUHG271461 for Pacific Foods.\r\n\r\nRegards,\r\nMiami Forwarding",
            "Invoice and BL.pdf",
            &["COMMERCIAL INVOICE", "Invoice No. PF-88812", "BILL OF LADING MEDUHG271461"],
        ),
    );
    run_once(&inst, "2026-12-01T08:00:00-05:00");
    // Andes Textil's own order, same BL (a consolidated shipment).
    inst.deliver(
        "02-docs.eml",
        &pdf_mail(
            "Patricia Huamán <phuaman@andestextil.test>",
            "Documentos embarque telas BL MEDUHG271461",
            "at1@andestextil.test",
            "Tue, 01 Dec 2026 08:30:00 -0500",
            "Buenos días,\r\n\r\nAdjunto factura y BL MEDUHG271461.\r\n\r\nPatricia",
            "Factura AT-5521.pdf",
            &["COMMERCIAL INVOICE", "Invoice AT-5521", "BILL OF LADING MEDUHG271461"],
        ),
    );
    run_once(&inst, "2026-12-01T08:30:00-05:00");
    // An Andes Textil address writes about Pacific's order: it never becomes Pacific's recipient.
    inst.deliver(
        "03-cruce.eml",
        &text_mail(
            "Patricia Huamán <phuaman@andestextil.test>",
            "Consulta [OC-2026-000001]",
            "at2@andestextil.test",
            "Tue, 01 Dec 2026 08:40:00 -0500",
            "¿Cuándo llega?",
        ),
    );
    run_once(&inst, "2026-12-01T08:40:00-05:00");
    carrier(&inst, "04-eta.eml", "n1@msc-peru.test", "Tue, 01 Dec 2026 09:00:00 -0500", "15/12/2026");
    run_once(&inst, "2026-12-01T09:00:00-05:00");
    carrier(&inst, "05-eta.eml", "n2@msc-peru.test", "Tue, 01 Dec 2026 11:00:00 -0500", "18/12/2026");
    run_once(&inst, "2026-12-01T11:00:00-05:00");
    let mails = read_outbox(&inst);
    let notices = of_kind(&mails, "aviso-");
    // Pacific has no registered address that wrote (only its partner did): no notice for it.
    assert_eq!(notices.len(), 1, "{:?}", notices.iter().map(|m| (&m.file, &m.to)).collect::<Vec<_>>());
    let n = notices[0];
    assert!(n.file.starts_with("aviso-OC-2026-000002"), "{}", n.file);
    let mut to = n.to.clone();
    to.sort();
    assert_eq!(to, vec!["compras.andestextil@gmail.com".to_string(), "phuaman@andestextil.test".to_string()]);
    assert!(!n.text.contains("OC-2026-000001") && !n.text.contains("Pacific"), "{}", n.text);
    for m in &notices {
        assert!(!m.to.iter().any(|a| a.contains("miamiforwarding")), "a partner got {}", m.file);
    }
}
