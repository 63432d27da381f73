//! Closing the file and extraordinary services (issue 17, items 4 and 5):
//! the pure logic by tables, and the commands through the in-memory view.

use chrono::NaiveDate;

use super::super::closing::{
    self, awaiting_archive, item_name, levante_reached, names, next_slot, week_of, weekday_number,
};
use super::super::extras::{self, out_of_hours, out_of_scope, service_of_regime};
use super::super::model::{Liquidation, Order, OrderDocument, Payment};
use super::*;
use crate::clients::{Client, Service};

const STAFF: &str = "Carla Vega <cvega@cli.test>";

fn command(w: &mut World, now: &str, id: &str, body: &str) -> Decision {
    w.mail(now, &text_mail(STAFF, "Comandos", id, body))
}

fn confirmation(w: &World) -> String {
    let c = w.sent_of("confirmacion_comando");
    let last = c.last().unwrap_or_else(|| panic!("no confirmation"));
    w.body(&last.id)
}

fn stages() -> Vec<String> {
    FIXTURE.rules.desk.stages.clone()
}

fn doc(kind: &str) -> OrderDocument {
    OrderDocument {
        kind: kind.into(),
        name: format!("{kind}.pdf"),
        sha256: "00".into(),
        path: String::new(),
        size: 1,
        received_at: lima("2026-12-01T10:00"),
        unreadable: None,
        from: String::new(),
    }
}

/// An order of andestextil at `stage` (regime `regime`) with these documents.
fn order(regime: &str, stage: &str, docs: &[&str]) -> Order {
    Order {
        id: "OC-2026-000001".into(),
        client: "andestextil".into(),
        stage: stage.into(),
        regime: regime.into(),
        regime_why: None,
        references: Default::default(),
        documents: docs.iter().map(|k| doc(k)).collect(),
        missing: Vec::new(),
        opened_at: lima("2026-12-01T10:00"),
        updated_at: lima("2026-12-01T10:00"),
        subject: "Documentos".into(),
        eta: None,
        vessel: None,
        review_due: None,
        regime_expires: None,
        message_ids: Vec::new(),
        history: Vec::new(),
        closed: false,
        follow: Default::default(),
        money: Default::default(),
        extras: Vec::new(),
        thirdparty: Default::default(),
        cargo: Default::default(),
    }
}

fn paid_liquidation(paid: bool) -> Liquidation {
    Liquidation {
        amount: "1234.50".into(),
        currency: "PEN".into(),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 10).unwrap_or_default(),
        due_at: lima("2026-12-10T18:00"),
        registered_at: lima("2026-12-02T10:00"),
        by: "cvega@cli.test".into(),
        document: None,
        task: "T-000001".into(),
        paid_at: paid.then(|| lima("2026-12-03T10:00")),
        paid_by: None,
    }
}

#[test]
fn weekday_names_are_spanish_with_or_without_accents() {
    let cases = [
        ("lunes", Some(1)),
        ("Miércoles", Some(3)),
        ("miercoles", Some(3)),
        ("SÁBADO", Some(6)),
        (" domingo ", Some(7)),
        ("5", Some(5)),
        ("0", None),
        ("8", None),
        ("monday", None),
        ("", None),
    ];
    for (name, want) in cases {
        assert_eq!(weekday_number(name), want, "{name:?}");
    }
}

#[test]
fn missing_items_are_named_for_people_and_joined_in_spanish() {
    let v = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases = [
        (v(&[]), ""),
        (v(&["volante"]), "Volante de despacho"),
        (v(&["dam", "levante"]), "DAM y Levante autorizado"),
        (
            v(&["documento_transporte", "volante", "liquidacion"]),
            "Documento de transporte (BL / AWB), Volante de despacho y Liquidación de tributos pagada",
        ),
    ];
    for (items, want) in cases {
        assert_eq!(names(&items), want, "{items:?}");
    }
    assert_eq!(item_name("factura_comercial"), "Factura comercial");
}

#[test]
fn levante_and_awaiting_archive_follow_the_stage_order() {
    let s = stages();
    // (stage, levante reached, retired or invoiced and not archived)
    let cases = [
        ("abierta", false, false),
        ("numerada", false, false),
        ("canal asignado", false, false),
        ("levante", true, false),
        ("retirada", true, true),
        ("Facturada", true, true),
        ("archivada", true, false),
        ("volando", false, false),
    ];
    for (stage, levante, awaiting) in cases {
        assert_eq!(levante_reached(&s, stage), levante, "levante at {stage}");
        assert_eq!(awaiting_archive(&s, stage), awaiting, "awaiting archive at {stage}");
    }
}

#[test]
fn the_closing_list_of_each_regime_says_what_the_file_misses() {
    let rules = &FIXTURE.rules.desk;
    let all10 = ["dam", "factura_comercial", "documento_transporte", "volante"];
    let mut paid = order("10", "facturada", &all10);
    paid.money.liquidations.push(paid_liquidation(true));
    let mut unpaid = order("10", "facturada", &all10);
    unpaid.money.liquidations.push(paid_liquidation(false));
    let mut client_paid = order("10", "retirada", &all10);
    client_paid.money.payments.push(Payment {
        at: lima("2026-12-03T10:00"),
        amount: Some("1234.50".into()),
        currency: Some("PEN".into()),
        kind: "liquidacion".into(),
        from: "phuaman@andestextil.test".into(),
        message_id: None,
        vouchers: Vec::new(),
    });
    let cases: Vec<(&str, Order, Vec<&str>)> = vec![
        ("complete import", paid, vec![]),
        ("liquidation registered, not paid", unpaid, vec!["liquidacion"]),
        ("paid as the client reported", client_paid, vec![]),
        (
            "an import with only its invoice, before levante",
            order("10", "numerada", &["factura_comercial"]),
            vec!["dam", "documento_transporte", "volante", "levante", "liquidacion"],
        ),
        (
            "an export needs no volante, levante or liquidation",
            order("40", "retirada", &["dam", "factura_comercial", "documento_transporte"]),
            vec!["lista_empaque"],
        ),
        (
            "temporary admission without its volante",
            order("20", "levante", &["dam", "factura_comercial", "documento_transporte"]),
            vec!["volante"],
        ),
        ("a regime without a closing list needs nothing", order("99", "abierta", &[]), vec![]),
    ];
    for (case, o, want) in cases {
        assert_eq!(closing::missing(rules, &o), want, "{case}");
    }
}

#[test]
fn out_of_hours_is_evenings_weekends_and_lima_holidays() {
    let cal = &FIXTURE.settings.calendar;
    // (Lima instant, None = in hours, else a fragment of the reason)
    let cases = [
        ("2026-12-01T10:00", None),
        ("2026-12-01T09:00", None),
        ("2026-12-01T17:59", None),
        ("2026-12-01T08:59", Some("martes 01/12/2026 08:59, fuera del horario de oficina")),
        ("2026-12-01T18:00", Some("fuera del horario de oficina")),
        ("2026-12-01T20:15", Some("martes 01/12/2026 20:15")),
        ("2026-12-05T10:00", Some("sábado 05/12/2026 10:00")),
        ("2026-12-06T11:30", Some("domingo 06/12/2026 11:30")),
        ("2026-12-08T10:00", Some("feriado de Inmaculada Concepción, 08/12/2026 10:00")),
        ("2026-12-25T10:00", Some("feriado de Navidad")),
    ];
    for (at, want) in cases {
        let got = out_of_hours(cal, lima(at));
        match want {
            None => assert_eq!(got, None, "{at}"),
            Some(w) => assert!(got.as_deref().is_some_and(|g| g.contains(w)), "{at}: {got:?} lacks «{w}»"),
        }
    }
}

fn client(servicios: &str) -> Client {
    toml::from_str(&format!(
        "id = \"x\"\nname = \"Agro Export del Sur S.A.C.\"\nruc = \"20100047218\"\nexecutive = \"jrojas@cli.test\"\nassistant = \"asistente2@cli.test\"\n{servicios}"
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_scope_check_is_by_the_clients_agreed_services_and_absent_means_none() {
    let none = client("");
    let imports = client("servicios = [\"importacion\", \"previo\"]\n");
    let nothing = client("servicios = []\n");
    let cases = [
        (&none, Service::Exportacion, false),
        (&none, Service::Retiro, false),
        (&imports, Service::Importacion, false),
        (&imports, Service::Previo, false),
        (&imports, Service::Exportacion, true),
        (&imports, Service::Retiro, true),
        (&nothing, Service::Importacion, true),
    ];
    for (c, service, out) in cases {
        let got = out_of_scope(c, service);
        assert_eq!(got.is_some(), out, "{:?} {service:?}: {got:?}", c.servicios);
        if let Some(why) = got {
            assert!(why.contains(service.name()) || why.contains(&service.name()[1..]), "{why}");
            assert!(why.contains("Agro Export del Sur"), "{why}");
        }
    }
    let typo: Result<Client, _> = toml::from_str(
        "id = \"x\"\nname = \"X\"\nruc = \"20100047218\"\nexecutive = \"a@cli.test\"\nassistant = \"b@cli.test\"\nservicios = [\"importasion\"]\n",
    );
    assert!(typo.is_err(), "an unknown service is refused");
}

#[test]
fn the_regime_says_the_service() {
    let cases = [
        ("10", Some(Service::Importacion)),
        ("40", Some(Service::Exportacion)),
        ("41", Some(Service::Exportacion)),
        ("20", Some(Service::AdmisionTemporal)),
        ("21", Some(Service::AdmisionTemporal)),
        ("18", Some(Service::Importacion)),
        ("70", None),
        ("", None),
    ];
    for (code, want) in cases {
        assert_eq!(service_of_regime(code), want, "{code:?}");
    }
}

#[test]
fn the_weekly_slot_is_the_configured_weekday_and_the_monthly_report_the_first_business_day() {
    let s = &FIXTURE.settings;
    assert_eq!(week_of(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()), "2026-W49");
    assert_eq!(week_of(NaiveDate::from_ymd_opt(2027, 1, 3).unwrap_or_default()), "2026-W53");
    // (now, the next weekly slot: Monday 08:30)
    let weekly = [
        ("2026-12-01T10:00", "2026-12-07T08:30"),
        ("2026-12-07T08:29", "2026-12-07T08:30"),
        ("2026-12-07T08:30", "2026-12-14T08:30"),
    ];
    for (now, want) in weekly {
        assert_eq!(next_slot(s, lima(now)), Some(lima(want)), "{now}");
    }
    assert_eq!(closing::due_slot(s, lima("2026-12-07T08:29")), None);
    assert_eq!(closing::due_slot(s, lima("2026-12-07T08:30")).map(|(w, _)| w).as_deref(), Some("2026-W50"));
    // (now, month reported then, the next report): 1 Jan 2027 is a
    // holiday and 2–3 January a weekend: January's report goes on Monday 4.
    let monthly = [
        ("2026-12-01T08:59", None, "2026-12-01T09:00"),
        ("2026-12-01T09:00", Some("2026-11"), "2027-01-04T09:00"),
        ("2026-12-20T12:00", Some("2026-11"), "2027-01-04T09:00"),
        ("2027-01-02T10:00", None, "2027-01-04T09:00"),
        ("2027-01-04T09:30", Some("2026-12"), "2027-02-01T09:00"),
    ];
    for (now, month, next) in monthly {
        assert_eq!(extras::due_month(s, lima(now)).as_deref(), month, "{now}");
        assert_eq!(extras::next_slot(s, lima(now)), Some(lima(next)), "{now}");
    }
    assert_eq!(extras::month_name("2026-11"), "noviembre de 2026");
}

#[test]
fn an_extra_is_recorded_once_per_mail_and_a_scope_one_once_per_service() {
    let mut o = order("10", "abierta", &[]);
    let at = lima("2026-12-05T10:00");
    assert!(extras::record(&mut o, extras::OUT_OF_HOURS, "Comando #eta …".into(), "cvega@cli.test", at));
    assert!(!extras::record(&mut o, extras::OUT_OF_HOURS, "Comando #nave …".into(), "cvega@cli.test", at));
    assert!(extras::record(
        &mut o,
        extras::OUT_OF_HOURS,
        "Comando #nave …".into(),
        "cvega@cli.test",
        lima("2026-12-05T11:00")
    ));
    assert!(extras::record(&mut o, extras::OUT_OF_SCOPE, "Exportación fuera".into(), "cvega@cli.test", at));
    assert!(!extras::record(
        &mut o,
        extras::OUT_OF_SCOPE,
        "Exportación fuera".into(),
        "jrojas@cli.test",
        lima("2026-12-09T10:00")
    ));
    assert_eq!(o.extras.len(), 3);
}

#[test]
fn the_reports_csv_is_utf8_with_a_bom_and_quotes_what_it_must() {
    let mut o = order("10", "abierta", &[]);
    o.extras.push(crate::desk::model::Extra {
        at: lima("2026-11-27T20:15"),
        kind: extras::OUT_OF_HOURS.into(),
        reason: "Comando #estado atendido fuera de horario: viernes 27/11/2026 20:15, fuera del horario de oficina"
            .into(),
        by: "cvega@cli.test".into(),
    });
    o.extras.push(crate::desk::model::Extra {
        at: lima("2026-12-01T10:00"),
        kind: extras::OUT_OF_HOURS.into(),
        reason: "otro mes".into(),
        by: "cvega@cli.test".into(),
    });
    let rows = extras::rows(&FIXTURE.directory, &FIXTURE.settings.calendar, &[o], "2026-11");
    assert_eq!(rows.len(), 1, "only November's");
    let csv = extras::csv(&rows);
    assert_eq!(
        csv,
        "\u{feff}ORDEN,CLIENTE,FECHA,MOTIVO,REGISTRADO POR\r\nOC-2026-000001,Andes Textil S.A.C.,27/11/2026 20:15,\"Comando #estado atendido fuera de horario: viernes 27/11/2026 20:15, fuera del horario de oficina\",cvega@cli.test\r\n"
    );
}

/// An order OC-2026-000001 of andestextil with an invoice (opened 1 Dec 10:00).
fn with_order() -> World {
    let mut w = World::default();
    let m = mail_with_pdf(
        "Patricia Huamán <phuaman@andestextil.test>",
        "Documentos",
        "a1@andestextil.test",
        "Adjunto la factura.",
        "Factura AT-5521.pdf",
        "COMMERCIAL INVOICE",
    );
    w.mail("2026-12-01T10:00", &m);
    w
}

#[test]
fn archivar_refuses_an_incomplete_file_with_what_it_misses_and_forzar_records_who() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#archivar OC-2026-000001");
    let o = &w.mem.orders["OC-2026-000001"];
    assert!(!o.closed && o.stage == "abierta", "archived an incomplete file");
    let c = confirmation(&w);
    for want in ["no se archivó", "DAM", "Volante de despacho", "Levante autorizado", "#archivar OC-2026-000001 forzar"]
    {
        assert!(c.contains(want), "«{want}» missing:\n{c}");
    }
    command(&mut w, "2026-12-01T11:05", "c2@cli.test", "#estado OC-2026-000001 archivada");
    assert!(!w.mem.orders["OC-2026-000001"].closed, "#estado … archivada went around the check");
    assert!(confirmation(&w).contains("Volante de despacho"), "{}", confirmation(&w));
    command(&mut w, "2026-12-01T11:00", "c4@cli.test", "#archivar OC-2026-000001 forsar");
    assert!(confirmation(&w).contains("¿Quiso decir «forzar»?"), "{}", confirmation(&w));
    assert!(!w.mem.orders["OC-2026-000001"].closed);
    command(&mut w, "2026-12-01T11:10", "c3@cli.test", "#archivar OC-2026-000001 forzar el cliente lo pidió así");
    let o = &w.mem.orders["OC-2026-000001"];
    assert!(o.closed && o.stage == "archivada");
    let forced = o
        .history
        .iter()
        .find(|h| h.what.contains("forzada por cvega@cli.test"))
        .unwrap_or_else(|| panic!("{:?}", o.history));
    assert!(forced.internal && forced.what.contains("Volante de despacho"), "{forced:?}");
    assert!(forced.what.ends_with("Motivo: el cliente lo pidió así"), "{forced:?}");
}

#[test]
fn a_command_out_of_hours_is_an_extra_and_one_in_hours_is_not() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#eta OC-2026-000001 15/12/2026");
    assert!(w.mem.orders["OC-2026-000001"].extras.is_empty(), "in hours is no extra");
    // Written at 17:50 (in hours), handled at 20:10 after a backlog: no extra.
    let late = text_mail(STAFF, "Comandos", "c15@cli.test", "#eta OC-2026-000001 14/12/2026")
        .replace("Tue, 01 Dec 2026 09:00:00 -0500", "Tue, 01 Dec 2026 17:50:00 -0500");
    w.mail("2026-12-01T20:10", &late);
    assert!(w.mem.orders["OC-2026-000001"].extras.is_empty(), "written in hours is no extra");
    // Written at 20:15: an extra.
    let evening = text_mail(
        STAFF,
        "Comandos",
        "c2@cli.test",
        "#nave OC-2026-000001 MSC LORETO 611W\n#eta OC-2026-000001 16/12/2026",
    )
    .replace("Tue, 01 Dec 2026 09:00:00 -0500", "Tue, 01 Dec 2026 20:15:00 -0500");
    w.mail("2026-12-01T20:15", &evening);
    let x = &w.mem.orders["OC-2026-000001"].extras;
    assert_eq!(x.len(), 1, "one per mail: {x:?}");
    assert_eq!((x[0].kind.as_str(), x[0].by.as_str()), (extras::OUT_OF_HOURS, "cvega@cli.test"));
    assert!(x[0].reason.contains("#nave") && x[0].reason.contains("20:15"), "{}", x[0].reason);
    // A refused command is no work done.
    command(&mut w, "2026-12-05T10:00", "c3@cli.test", "#eta OC-2026-000001 mañana");
    assert_eq!(w.mem.orders["OC-2026-000001"].extras.len(), 1);
}

#[test]
fn the_weekly_list_names_only_incomplete_retired_or_invoiced_orders_once_a_week() {
    let mut w = with_order();
    command(&mut w, "2026-12-01T11:00", "c1@cli.test", "#estado OC-2026-000001 retirada");
    // Beside it: an order at an early stage, an archived one, a retired
    // one whose file is complete (its liquidation paid).
    let mut early = order("10", "numerada", &["factura_comercial"]);
    early.id = "OC-2026-000002".into();
    let mut archived = order("10", "archivada", &["factura_comercial"]);
    archived.id = "OC-2026-000003".into();
    archived.closed = true;
    let mut complete = order("10", "facturada", &["dam", "factura_comercial", "documento_transporte", "volante"]);
    complete.id = "OC-2026-000004".into();
    complete.money.liquidations.push(paid_liquidation(true));
    for o in [early, archived, complete] {
        w.mem.orders.insert(o.id.clone(), o);
    }
    let weekly = |w: &mut World, now: &str| {
        let d = decide_due(&desk(), &w.mem, &Due::ClosingLists, lima(now)).unwrap_or_else(|e| panic!("{e}"));
        w.take(d);
    };
    weekly(&mut w, "2026-12-07T08:29");
    assert!(w.sent_of("archivo_pendiente").is_empty(), "before the slot");
    weekly(&mut w, "2026-12-07T08:30");
    weekly(&mut w, "2026-12-07T15:00");
    let lists = w.sent_of("archivo_pendiente");
    assert_eq!(lists.len(), 1, "once a week");
    assert_eq!(lists[0].to, vec!["asistente1@cli.test".to_string()]);
    let body = w.body(&lists[0].id);
    assert!(body.contains("OC-2026-000001") && body.contains("Volante de despacho"), "{body}");
    for other in ["OC-2026-000002", "OC-2026-000003", "OC-2026-000004"] {
        assert!(!body.contains(other), "{other} is listed:\n{body}");
    }
}
