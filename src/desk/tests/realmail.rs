//! Mail as a Lima desk really gets it: dates in every shape, alerts laid out
//! as HTML tables, carriers' table notices.

use super::*;

fn html_mail(from: &str, subject: &str, id: &str, html: &str) -> String {
    format!(
        "From: {from}\nTo: ops@cli.test\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Tue, 01 Dec 2026 09:00:00 -0500\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n{html}\n"
    )
}

#[test]
fn alert_deadlines_are_read_in_every_shape_people_write() {
    let cases = [
        ("Fecha límite: 4 de diciembre de 2026", "2026-12-04T18:00"),
        ("Vence: viernes 18/12/2026", "2026-12-18T18:00"),
        ("Fecha límite: 2026-12-04", "2026-12-04T18:00"),
        ("Vence: 07-12-2026", "2026-12-07T18:00"),
        ("Vence: 29-Dec-2026", "2026-12-29T18:00"),
        ("Fecha límite: 18 Dec 2026", "2026-12-18T18:00"),
        ("Vence: Dec 18, 2026", "2026-12-18T18:00"),
        ("Fecha límite: 18.12.2026", "2026-12-18T18:00"),
        ("Vence: 04/12/2026", "2026-12-04T18:00"),
    ];
    for (i, (line, due)) in cases.iter().enumerate() {
        let mut w = World::default();
        let alert = text_mail(
            "Alertas CLI <alertas@cli.test>",
            "ALERTA CLI: regularización",
            &format!("al{i}@cli.test"),
            &format!("Tipo: Regularización\nCliente: Andes Textil S.A.C.\n{line}"),
        );
        w.mail("2026-12-01T10:00", &alert);
        let t = w.mem.tasks.values().next().unwrap_or_else(|| panic!("{line}: no task"));
        assert_eq!(t.due_at, Some(lima(due)), "{line}");
    }
}

#[test]
fn an_alert_laid_out_as_an_html_table_keeps_its_dam_client_and_deadline() {
    let mut w = World::default();
    let html = "<table><tr><td><b>Tipo</b></td><td>Pago de tributos</td></tr>\
        <tr><td><b>Cliente</b></td><td>Andes Textil S.A.C.</td></tr>\
        <tr><td><b>DAM</b></td><td>118-2026-10-012345</td></tr>\
        <tr><td><b>Fecha límite</b></td><td>4 de diciembre de 2026</td></tr></table>";
    w.mail("2026-12-01T10:00", &html_mail("Alertas CLI <alertas@cli.test>", "ALERTA CLI", "al1@cli.test", html));
    let t = w.mem.tasks.values().next().unwrap_or_else(|| panic!("no task"));
    assert_eq!(t.client.as_deref(), Some("andestextil"));
    assert_eq!(t.due_at, Some(lima("2026-12-04T18:00")));
    assert!(t.summary.contains("118-2026-10-012345"), "{}", t.summary);
}

#[test]
fn a_carriers_table_notice_sets_the_eta_of_the_order_with_its_container() {
    let mut w = World::default();
    let first = mail_with_pdf(
        "Patricia <phuaman@andestextil.test>",
        "BL",
        "a1@andestextil.test",
        "Adjunto el BL del contenedor MSCU1234566.",
        "BL.pdf",
        "BILL OF LADING MEDUHG271461 CONTAINER MSCU1234566",
    );
    w.mail("2026-12-01T10:00", &first);
    let html = "<p>Estimado cliente, aviso de llegada:</p><table>\
        <tr><th>Contenedor</th><th>BL</th><th>Nave</th><th>ETA</th></tr>\
        <tr><td>MSCU1234566</td><td>MEDUHG271461</td><td>MSC LORETO</td><td>18.12.2026</td></tr></table>";
    w.mail(
        "2026-12-01T11:00",
        &html_mail("Avisos MSC <avisos@msc-peru.test>", "Aviso de llegada", "n1@msc-peru.test", html),
    );
    assert_eq!(w.mem.orders["OC-2026-000001"].eta.as_deref(), Some("18/12/2026"));
}

#[test]
fn eta_and_regime_expiry_commands_read_written_dates() {
    let mut w = World::default();
    let docs = mail_with_pdf(
        "Patricia <phuaman@andestextil.test>",
        "Docs",
        "a1@andestextil.test",
        "Adjunto la factura.",
        "Factura 1.pdf",
        "INVOICE",
    );
    w.mail("2026-12-01T10:00", &docs);
    w.mail(
        "2026-12-01T11:00",
        &text_mail("Carla <cvega@cli.test>", "x", "c1@cli.test", "#eta OC-2026-000001 18 de diciembre"),
    );
    assert_eq!(w.mem.orders["OC-2026-000001"].eta.as_deref(), Some("18/12/2026"), "the year from today");
    w.mail(
        "2026-12-01T11:01",
        &text_mail("Carla <cvega@cli.test>", "x", "c2@cli.test", "#vence OC-2026-000001 30 de junio de 2027"),
    );
    assert_eq!(w.mem.orders["OC-2026-000001"].regime_expires, Some(lima("2027-06-30T18:00")));
}

#[test]
fn a_nudge_in_the_thread_of_its_own_reclamo_belongs_to_the_reclamo() {
    let mut w = World::default();
    w.mail(
        "2026-12-01T10:00",
        &text_mail("Ana <aquispe@andestextil.test>", "Demora", "r1@andestextil.test", "Es inaceptable la demora."),
    );
    let ack = w.sent_of("reclamo_acuse")[0].message_id.clone();
    let nudge = text_mail(
        "Ana <aquispe@andestextil.test>",
        "RE: Demora [R-000001]",
        "r2@andestextil.test",
        "seguimos esperando respuesta!!!",
    )
    .replace("Message-ID: <r2@andestextil.test>", &format!("Message-ID: <r2@andestextil.test>\nIn-Reply-To: <{ack}>"));
    let d = w.mail("2026-12-01T15:00", &nudge);
    assert_eq!(d.labels, vec!["reclamo".to_string()], "{:?}", d.outcome);
    assert_eq!(w.mem.reclamos.len(), 1, "no second reclamo");
    assert!(w.mem.reclamos["R-000001"].history.iter().any(|h| h.what.contains("seguimos esperando")));
    assert!(!w.mem.tasks.values().any(|t| t.kind == "triage"), "not a mail to triage");
}

#[test]
fn a_short_question_in_an_orders_thread_asks_for_that_orders_status() {
    let mut w = World::default();
    let docs = mail_with_pdf(
        "Luis <lsoto@pacificfoods.test>",
        "CAIU9033183",
        "p1@pacificfoods.test",
        "Adjunto la factura del contenedor CAIU9033183.",
        "Factura 5.pdf",
        "INVOICE 5",
    );
    w.mail("2026-12-01T10:00", &docs);
    let nudge = text_mail("Luis <lsoto@pacificfoods.test>", "Re: CAIU9033183", "p2@pacificfoods.test", "y??").replace(
        "Message-ID: <p2@pacificfoods.test>",
        "Message-ID: <p2@pacificfoods.test>\nIn-Reply-To: <p1@pacificfoods.test>",
    );
    let d = w.mail("2026-12-01T17:30", &nudge);
    assert_eq!(d.labels, vec!["estado".to_string()], "{:?}", d.outcome);
    let st = w.sent_of("estado");
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].order.as_deref(), Some("OC-2026-000001"));
}

#[test]
fn the_regime_comes_from_evidence_not_a_stray_word_and_says_why() {
    let mut w = World::default();
    // "Export Sales Dept." in a supplier's signature: the client imports (10).
    let gz = mail_with_pdf(
        "Li Wei <li@guangzhoufabrics.test>",
        "Invoice",
        "g1@guangzhoufabrics.test",
        "Dear team, please find attached the commercial invoice.\n\nBest regards,\nLi Wei\nExport Sales Dept.\nGuangzhou Fabrics",
        "Commercial Invoice GZ-1.pdf",
        "COMMERCIAL INVOICE",
    );
    w.mail("2026-12-01T10:00", &gz);
    let o = &w.mem.orders["OC-2026-000001"];
    assert_eq!(o.regime, "10");
    assert!(o.regime_why.as_deref().is_some_and(|y| y.contains("cliente")), "{:?}", o.regime_why);
    // A client without a configured regime: a Peruvian port of loading is an export.
    let exp = mail_with_pdf(
        "Rosa <rosa@agroexport.test>",
        "Documentos embarque uvas",
        "x1@agroexport.test",
        "Adjunto la factura. Port of loading: Callao. Destino: Rotterdam.",
        "Factura E001-15.pdf",
        "FACTURA",
    );
    w.mail("2026-12-01T10:05", &exp);
    let o = &w.mem.orders["OC-2026-000002"];
    assert_eq!(o.regime, "40", "{:?}", o.regime_why);
    assert!(o.regime_why.as_deref().is_some_and(|y| y.contains("ruta")), "{:?}", o.regime_why);
    // …and a DAM's regime code outranks the words.
    let dam = mail_with_pdf(
        "Rosa <rosa@agroexport.test>",
        "DAM 118-2026-40-012345 importación",
        "x2@agroexport.test",
        "Adjunto la DAM 118-2026-40-012345.",
        "Factura E001-16.pdf",
        "FACTURA",
    );
    w.mail("2026-12-01T10:10", &dam);
    let o = &w.mem.orders["OC-2026-000003"];
    assert_eq!(o.regime, "40", "{:?}", o.regime_why);
    assert!(o.regime_why.as_deref().is_some_and(|y| y.contains("DAM")), "{:?}", o.regime_why);
}

#[test]
fn a_staff_forward_of_a_clients_documents_is_filed_for_that_client() {
    let mut w = World::default();
    let body = "Para abrir la orden, por favor.\n\n---------- Forwarded message ---------\nDe: Patricia Huamán <phuaman@andestextil.test>\nDate: mar, 1 dic 2026 a las 09:00\nSubject: Documentos embarque\nTo: Carla Vega <cvega@cli.test>\n\nCarla, te adjunto la factura del embarque.";
    let fwd = mail_with_pdf(
        "Carla Vega <cvega@cli.test>",
        "Fwd: Documentos embarque",
        "f1@cli.test",
        body,
        "Factura AT-77.pdf",
        "COMMERCIAL INVOICE",
    );
    let d = w.mail("2026-12-01T10:00", &fwd);
    let o = w.mem.orders.values().next().unwrap_or_else(|| panic!("no order: {:?} {:?}", d.labels, d.outcome));
    assert_eq!(o.client, "andestextil", "never the staff member as the client");
    assert_eq!(w.sent_of("acuse_documentos")[0].to, vec!["cvega@cli.test".to_string()], "the forwarder hears it");
}
