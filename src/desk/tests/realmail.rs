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
