//! Keeping the client informed (stage and ETA notices) and the money of an
//! order (liquidations): issue 16.

use super::*;

const STAFF: &str = "Carla Vega <cvega@cli.test>";
const COSTA: &str = "Rosa Quispe <rquispe@costaverde.test>";

fn command(w: &mut World, now: &str, id: &str, body: &str) -> Decision {
    w.mail(now, &text_mail(STAFF, "Comandos", id, body))
}

/// An order OC-2026-000001 of `from`'s client, opened by its invoice and BL.
fn order_of(from: &str, id: &str) -> World {
    let mut w = World::default();
    let m = mail_with_pdf(
        from,
        "Documentos embarque",
        id,
        "Adjunto la factura.",
        "Factura CV-881.pdf",
        "COMMERCIAL INVOICE",
    );
    w.mail("2026-12-01T09:00", &m);
    assert!(w.mem.orders.contains_key("OC-2026-000001"), "no order opened");
    w
}

fn notices(w: &World) -> Vec<(Vec<String>, String)> {
    w.sent_of("aviso_etapa").iter().map(|m| (m.to.clone(), w.body(&m.id))).collect()
}

#[test]
fn an_opted_in_client_is_told_when_its_dam_is_numbered_at_its_registered_addresses_only() {
    let mut w = order_of(COSTA, "cv1@costaverde.test");
    assert!(notices(&w).is_empty(), "opening is not a stage the client asked for");
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#estado OC-2026-000001 numerada dam=118-2026-10-012345");
    let n = notices(&w);
    assert_eq!(n.len(), 1, "{n:?}");
    let (to, body) = &n[0];
    assert_eq!(to, &vec!["logistica.costaverde@gmail.com".to_string(), "rquispe@costaverde.test".to_string()]);
    for want in ["OC-2026-000001", "118-2026-10-012345", "numerada", "Qué sigue", "canal de control"] {
        assert!(body.contains(want), "«{want}» missing in\n{body}");
    }
    for bad in ["andestextil", "Andes", "cvega", "#estado", "(s)", "{{"] {
        assert!(!body.contains(bad), "«{bad}» in\n{body}");
    }
    // A notice the desk starts is not an answer: nothing counted against the client's budget.
    let d = command(&mut w, "2026-12-01T11:30", "c2@cli.test", "#estado OC-2026-000001 levante");
    assert!(
        !d.effects.iter().any(|e| matches!(e, crate::desk::Effect::CountReply { counter: crate::desk::effect::ReplyCounter::Verified(a), .. } if a.contains("costaverde"))),
        "a notice spent a reply budget"
    );
    assert_eq!(notices(&w).len(), 2, "levante an hour and a half later goes at once");
}

#[test]
fn a_red_channel_is_explained_and_changes_within_the_hour_fold_into_one_notice() {
    let mut w = order_of(COSTA, "cv1@costaverde.test");
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#estado OC-2026-000001 numerada dam=118-2026-10-012345");
    command(&mut w, "2026-12-01T10:20", "c2@cli.test", "#estado OC-2026-000001 canal asignado canal=rojo");
    assert_eq!(notices(&w).len(), 1, "the second change waits for the hour");
    assert_eq!(w.mem.orders["OC-2026-000001"].follow.channel.as_deref(), Some("rojo"));
    command(&mut w, "2026-12-01T10:40", "c3@cli.test", "#nave OC-2026-000001 MSC LORETO 611W");
    w.tick("2026-12-01T10:59");
    assert_eq!(notices(&w).len(), 1, "not before the hour is up");
    w.tick("2026-12-01T11:00");
    let n = notices(&w);
    assert_eq!(n.len(), 2, "{n:?}");
    let body = &n[1].1;
    for want in ["canal ROJO", "reconocimiento físico", "lista de empaque", "Canal rojo"] {
        assert!(body.contains(want), "«{want}» missing in\n{body}");
    }
    w.tick("2026-12-01T12:30");
    assert_eq!(notices(&w).len(), 2, "the waiting notice went once");
    assert!(w.mem.orders["OC-2026-000001"].follow.pending.is_empty());
}

#[test]
fn a_client_that_did_not_opt_in_gets_no_notice() {
    let mut w = order_of("Patricia Huamán <phuaman@andestextil.test>", "a1@andestextil.test");
    command(&mut w, "2026-12-01T10:00", "c1@cli.test", "#estado OC-2026-000001 numerada dam=118-2026-10-012345");
    command(&mut w, "2026-12-01T12:00", "c2@cli.test", "#estado OC-2026-000001 canal asignado canal=rojo");
    w.tick("2026-12-01T14:00");
    assert!(notices(&w).is_empty(), "{:?}", notices(&w));
    assert!(w.mem.orders["OC-2026-000001"].follow.pending.is_empty());
}

fn carrier(w: &mut World, now: &str, id: &str, eta: &str) {
    let notice = text_mail(
        "Avisos MSC <avisos@msc-peru.test>",
        "Aviso de llegada BL MEDUHG271461",
        id,
        &format!(
            "Estimados, la nave MSC LORETO viaje 611W arribará con ETA {eta}. BL MEDUHG271461.\n\nSaludos,\nCustomer Service MSC Perú"
        ),
    );
    w.mail(now, &notice);
}

#[test]
fn an_eta_moved_by_more_than_twelve_hours_is_told_and_a_smaller_move_is_not() {
    let mut w = World::default();
    let first = mail_with_pdf(
        COSTA,
        "BL",
        "cv1@costaverde.test",
        "Adjunto el BL MEDUHG271461.",
        "BL.pdf",
        "BILL OF LADING MEDUHG271461",
    );
    w.mail("2026-12-01T09:00", &first);
    carrier(&mut w, "2026-12-01T10:00", "n1@msc-peru.test", "15/12/2026 08:00");
    assert_eq!(w.mem.orders["OC-2026-000001"].follow.eta_time.as_deref(), Some("08:00"));
    assert!(notices(&w).is_empty(), "a first ETA is not a change");
    carrier(&mut w, "2026-12-01T12:00", "n2@msc-peru.test", "15/12/2026 18:00");
    assert!(notices(&w).is_empty(), "10 hours is within eta_notice_hours");
    carrier(&mut w, "2026-12-01T14:00", "n3@msc-peru.test", "17/12/2026 18:00");
    let n = notices(&w);
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0].0, vec!["logistica.costaverde@gmail.com".to_string(), "rquispe@costaverde.test".to_string()]);
    assert!(n[0].1.contains("15/12/2026 18:00") && n[0].1.contains("17/12/2026 18:00"), "{}", n[0].1);
}

#[test]
fn the_same_carrier_notice_moves_another_clients_order_without_telling_the_opted_in_one() {
    let mut w = World::default();
    let first = mail_with_pdf(
        "Patricia Huamán <phuaman@andestextil.test>",
        "BL",
        "a1@andestextil.test",
        "Adjunto el BL MEDUHG271461.",
        "BL.pdf",
        "BILL OF LADING MEDUHG271461",
    );
    w.mail("2026-12-01T09:00", &first);
    carrier(&mut w, "2026-12-01T10:00", "n1@msc-peru.test", "15/12/2026");
    carrier(&mut w, "2026-12-01T12:00", "n2@msc-peru.test", "20/12/2026");
    assert_eq!(w.mem.orders["OC-2026-000001"].eta.as_deref(), Some("20/12/2026"));
    assert!(notices(&w).is_empty(), "andestextil has no notify list");
}
