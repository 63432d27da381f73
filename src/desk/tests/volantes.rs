//! Volantes de despacho as depósitos issue them (Neptunia, Ransa, DP World,
//! an air terminal's volante de salida): what is read from each, and how a
//! volante is compared with its order.

use super::super::model::{Cargo, Order};
use super::super::volantes::{Difference, Volante, cargo_of, check, hundredths, read};

/// Neptunia: header with the depósito's own RUC, then the consignee's.
pub const NEPTUNIA: &str = "NEPTUNIA S.A.\nDEPOSITO TEMPORAL - R.U.C. 20100010136\nAv. Néstor Gambetta 5502 - Callao\n\
VOLANTE DE DESPACHO\nNro. de Volante: 0012-0045821\nFecha de emisión: 03/12/2026 10:42\n\
Consignatario: PACIFIC FOODS S.A.C.            RUC: 20512333797\nAgencia de Aduana: OPERACIONES CLI S.A.C.\n\
Nave: MSC LORETO   Viaje: 611W   Manifiesto: 118-2026-001245\nB/L: MEDUHG271461\n\
Contenedor(es): MSCU1234566 / 40HC\nBultos: 1,200 CAJAS     Peso Bruto: 18,450.50 KG\n\
Almacenaje libre hasta: 17/12/2026\nEste volante no es válido sin el sello del depósito.";

/// Ransa: labels in capitals, the consignee's RUC labelled on its own.
pub const RANSA: &str = "RANSA COMERCIAL S.A.   RUC 20100137284\nDEPÓSITO TEMPORAL CALLAO\n\
VOLANTE DE DESPACHO N° V-2026-118877\nCONSIGNATARIO : ANDES TEXTIL S.A.C.\nRUC CONSIGNATARIO : 20601234565\n\
CONOCIMIENTO DE EMBARQUE : HLCUCAN2611045\nCONTENEDORES : HLXU1234561, TGHU4102332\n\
CANT. BULTOS : 86     PESO BRUTO (KG) : 21.430,00\nFECHA DE INGRESO : 02/12/2026";

/// DP World Callao: English and Spanish mixed, the weight without a unit.
pub const DP_WORLD: &str = "DP WORLD CALLAO S.R.L.\nRUC: 20516345617\nVOLANTE DE SALIDA / RELEASE NOTE\n\
Volante Nro: DPW-558120\nConsignee / Consignatario: MINERA ALTIPLANO S.A. - RUC 20131312955\n\
B/L No.: MAEU203176301\nContainer: MAEU5566770\nPackages: 12 PALLETS\nGross Weight: 9,876.4\n";

/// An air terminal's volante de salida (Alconsa-like): an AWB, no container.
pub const AIR: &str = "ALMACENES CONSOLIDADOS S.A. - ALCONSA\nR.U.C. N° 20100098416\nVOLANTE DE SALIDA\n\
N° DE VOLANTE: 0003-118204\nGuía Aérea: AWB 045-23456786\nConsignatario: ANDES TEXTIL S.A.C. R.U.C. 20601234565\n\
Nro. Bultos: 4   Peso Bruto: 312.00 Kgs";

fn order(refs: &[(&str, &str)], cargo: Cargo) -> Order {
    let mut references = crate::refs::References::new();
    for (k, v) in refs {
        references.entry(k.to_string()).or_default().insert(v.to_string());
    }
    let mut o: Order = serde_json::from_value(serde_json::json!({
        "id": "OC-2026-000001", "client": "pacificfoods", "stage": "abierta", "regime": "10",
        "references": {}, "documents": [], "missing": [],
        "opened_at": "2026-12-01T14:00:00Z", "updated_at": "2026-12-01T14:00:00Z",
        "subject": "Documentos", "message_ids": [], "history": [],
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    o.references = references;
    o.cargo = Box::new(cargo);
    o
}

fn set(v: &[&str]) -> std::collections::BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn cargo(packages: Option<u64>, kg: Option<&str>) -> Cargo {
    Cargo { packages, weight_kg: kg.map(str::to_string) }
}

#[test]
fn each_depositos_volante_is_read_whatever_its_labels() {
    let table: &[(&str, &str, Volante)] = &[
        (
            "Neptunia",
            NEPTUNIA,
            Volante {
                number: Some("0012-0045821".into()),
                bls: set(&["MEDUHG271461"]),
                awbs: set(&[]),
                containers: set(&["MSCU1234566"]),
                consignee_ruc: Some("20512333797".into()),
                cargo: cargo(Some(1200), Some("18450.50")),
            },
        ),
        (
            "Ransa",
            RANSA,
            Volante {
                number: Some("V-2026-118877".into()),
                bls: set(&["HLCUCAN2611045"]),
                awbs: set(&[]),
                containers: set(&["HLXU1234561", "TGHU4102332"]),
                consignee_ruc: Some("20601234565".into()),
                cargo: cargo(Some(86), Some("21430.00")),
            },
        ),
        (
            "DP World",
            DP_WORLD,
            Volante {
                number: Some("DPW-558120".into()),
                bls: set(&["MAEU203176301"]),
                awbs: set(&[]),
                containers: set(&["MAEU5566770"]),
                consignee_ruc: Some("20131312955".into()),
                cargo: cargo(Some(12), Some("9876.40")),
            },
        ),
        (
            "air terminal",
            AIR,
            Volante {
                number: Some("0003-118204".into()),
                bls: set(&[]),
                awbs: set(&["045-23456786"]),
                containers: set(&[]),
                consignee_ruc: Some("20601234565".into()),
                cargo: cargo(Some(4), Some("312.00")),
            },
        ),
    ];
    for (who, text, want) in table {
        let got = read(text);
        assert_eq!(&got, want, "{who}");
    }
}

#[test]
fn the_depositos_own_ruc_is_never_taken_for_the_consignees() {
    for (text, want) in [
        (NEPTUNIA, Some("20512333797")),
        ("DEPOSITO TEMPORAL RUC 20100010136\nVOLANTE DE DESPACHO\nB/L MEDUHG271461", None),
        ("Consignatario: X S.A.C. RUC 20512333798 (dígito errado)", None),
        ("RUC DEL CONSIGNATARIO: 20512333797", Some("20512333797")),
    ] {
        assert_eq!(read(text).consignee_ruc.as_deref(), want, "{text}");
    }
}

#[test]
fn numbers_are_read_as_depositos_write_them() {
    for (input, want) in [
        ("1,200", Some(120_000)),
        ("18,450.50", Some(1_845_050)),
        ("18.450,50", Some(1_845_050)),
        ("21.430,00", Some(2_143_000)),
        ("9,876.4", Some(987_640)),
        ("312.00", Some(31_200)),
        ("86", Some(8_600)),
        ("18.450", Some(1_845_000)),
        ("1.234.567,8", Some(123_456_780)),
        ("", None),
        ("12a", None),
    ] {
        assert_eq!(hundredths(input), want, "{input:?}");
    }
}

#[test]
fn a_matching_volante_is_conforme_on_everything_both_sides_have() {
    let v = read(NEPTUNIA);
    let o = order(&[("bl", "MEDUHG271461"), ("container", "MSCU1234566")], cargo(Some(1200), Some("18450.00")));
    let c = check(&v, &o, Some("20512333797"));
    assert!(c.conforme(), "{:?}", c.differences);
    assert_eq!(c.compared, ["BL", "Contenedor", "RUC del consignatario", "Bultos", "Peso bruto"]);
    // Nothing known on the order's side: nothing compared, nothing flagged.
    let bare = check(&v, &order(&[], Cargo::default()), None);
    assert!(bare.compared.is_empty() && bare.conforme(), "{bare:?}");
}

#[test]
fn each_difference_shows_both_values_side_by_side() {
    let v = read(NEPTUNIA);
    let table: &[(&str, Order, Option<&str>, &str)] = &[
        (
            "container",
            order(&[("bl", "MEDUHG271461"), ("container", "MSCU7654329")], Cargo::default()),
            None,
            "Contenedor: en el volante MSCU1234566, en la orden MSCU7654329",
        ),
        (
            "BL",
            order(&[("bl", "MAEU203176301")], Cargo::default()),
            None,
            "BL: en el volante MEDUHG271461, en la orden MAEU203176301",
        ),
        (
            "consignee",
            order(&[], Cargo::default()),
            Some("20601234565"),
            "RUC del consignatario: en el volante 20512333797, en la orden 20601234565",
        ),
        ("packages", order(&[], cargo(Some(1100), None)), None, "Bultos: en el volante 1200, en la orden 1100"),
        (
            "weight",
            order(&[], cargo(None, Some("17450.50"))),
            None,
            "Peso bruto: en el volante 18450.50 kg, en la orden 17450.50 kg",
        ),
    ];
    for (what, o, ruc, want) in table {
        let c = check(&v, o, *ruc);
        let lines: Vec<String> = c.differences.iter().map(Difference::line).collect();
        assert_eq!(lines, vec![want.to_string()], "{what}");
    }
}

#[test]
fn a_volante_for_some_of_the_orders_containers_is_conforme_one_foreign_is_not() {
    let v = read(RANSA);
    let both = order(
        &[("container", "HLXU1234561"), ("container", "TGHU4102332"), ("container", "CMAU7001127")],
        Cargo::default(),
    );
    assert!(check(&v, &both, None).conforme(), "a volante per container is usual");
    let other = order(&[("container", "HLXU1234561"), ("container", "CMAU7001127")], Cargo::default());
    let c = check(&v, &other, None);
    assert_eq!(
        c.differences.iter().map(Difference::line).collect::<Vec<_>>(),
        ["Contenedor: en el volante TGHU4102332, en la orden CMAU7001127"]
    );
}

#[test]
fn a_weight_within_rounding_matches_and_a_master_and_house_bl_share_one() {
    let v = read(DP_WORLD);
    let o = order(&[("bl", "MAEU203176301"), ("bl", "SHA2611E0045")], cargo(Some(12), Some("9877.00")));
    let c = check(&v, &o, Some("20131312955"));
    assert!(c.conforme(), "{:?}", c.differences);
    let heavier = order(&[], cargo(None, Some("9878.50")));
    assert_eq!(check(&v, &heavier, None).differences.len(), 1, "2 kg off is a difference");
}

#[test]
fn an_air_volante_is_checked_by_its_awb() {
    let v = read(AIR);
    let same = order(&[("awb", "045-23456786")], Cargo::default());
    assert_eq!(check(&v, &same, Some("20601234565")).compared, ["Guía aérea", "RUC del consignatario"]);
    assert!(check(&v, &same, Some("20601234565")).conforme());
    let other = order(&[("awb", "176-12345675")], Cargo::default());
    let lines: Vec<String> = check(&v, &other, None).differences.iter().map(Difference::line).collect();
    assert_eq!(lines, ["Guía aérea: en el volante 045-23456786, en la orden 176-12345675"]);
}

#[test]
fn cargo_is_read_from_a_bl_or_a_packing_list() {
    for (text, want) in [
        (
            "BILL OF LADING MEDUHG271461\nNo. of packages: 1200 CARTONS\nGross weight: 18,450.50 KGS",
            cargo(Some(1200), Some("18450.50")),
        ),
        ("PACKING LIST\nTotal bultos: 86\nPeso bruto total: 21.430,00 kg", cargo(Some(86), Some("21430.00"))),
        ("COMMERCIAL INVOICE\nTotal USD 18,400.00", Cargo::default()),
    ] {
        assert_eq!(cargo_of(text), want, "{text}");
    }
}

// ---- #expediente and volantes through the desk (in-memory view) ----

use super::super::commands::dossier::{Made, mail};
use super::super::effect::{DossierRequest, Effect};
use super::{World, desk, lima, mail_with_pdf, text_mail};

/// Andes Textil's order OC-2026-000001 with a BL naming its container.
fn andes_order() -> World {
    let mut w = World::default();
    let m = mail_with_pdf(
        "Patricia Huamán <phuaman@andestextil.test>",
        "Documentos embarque HLCUCAN2611045",
        "a1@andestextil.test",
        "Adjunto el BL.",
        "BL HLCUCAN2611045.pdf",
        "BILL OF LADING HLCUCAN2611045 Container HLXU1234561 Consignee ANDES TEXTIL S.A.C.",
    );
    w.mail("2026-12-01T10:00", &m);
    assert!(w.mem.orders.contains_key("OC-2026-000001"));
    w
}

fn requests(d: &super::super::Decision) -> Vec<DossierRequest> {
    d.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Dossier(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn expediente_asks_for_the_file_for_the_staff_member_only() {
    let table: &[(&str, &str, usize, &str)] = &[
        (
            "Carla Vega <cvega@cli.test>",
            "#expediente OC-2026-000001",
            1,
            "OK: el expediente de la orden OC-2026-000001 (1 documento)",
        ),
        ("Carla Vega <cvega@cli.test>", "#expediente OC-2026-000077", 0, "no existe la orden OC-2026-000077"),
        ("Patricia Huamán <phuaman@andestextil.test>", "#expediente OC-2026-000001", 0, ""),
    ];
    for (from, body, want, line) in table {
        let mut w = andes_order();
        let d = w.mail("2026-12-01T12:00", &text_mail(from, "Expediente", "x1@cli.test", body));
        let r = requests(&d);
        assert_eq!(r.len(), *want, "{from} {body}: {:?}", d.outcome);
        if let Some(r) = r.first() {
            assert_eq!(r.to, "cvega@cli.test");
            assert_eq!(r.order, "OC-2026-000001");
            assert!(r.references.contains(&"x1@cli.test".to_string()), "threaded under the request");
        }
        assert!(d.outcome.iter().any(|o| o.contains(line)), "{from} {body}: {:?}", d.outcome);
        assert!(w.sent_of("expediente").is_empty(), "the desk never builds the ZIP itself");
    }
}

#[test]
fn the_expediente_mail_carries_the_zip_or_says_it_is_too_large() {
    let w = andes_order();
    let req = DossierRequest {
        order: "OC-2026-000001".into(),
        to: "cvega@cli.test".into(),
        id: "abc-expediente-OC-2026-000001".into(),
        references: vec!["x1@cli.test".into()],
    };
    for (made, template, attached) in [
        (Made::Zip { bytes: b"PK\x05\x06zip".to_vec(), documents: 1, not_kept: vec![] }, "expediente", true),
        (Made::TooLarge { bytes: 90 * 1024 * 1024, documents: 40 }, "expediente_grande", false),
        (Made::Failed { why: "disk".into(), documents: 40 }, "expediente_grande", false),
    ] {
        let d = mail(&desk(), &w.mem, &req, made, lima("2026-12-01T12:00")).unwrap_or_else(|e| panic!("{e}"));
        let queued: Vec<_> = d
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::Queue { mail, bytes } => Some((mail.clone(), String::from_utf8_lossy(bytes).into_owned())),
                _ => None,
            })
            .collect();
        assert_eq!(queued.len(), 1, "{template}");
        let (m, raw) = &queued[0];
        assert_eq!(
            (m.kind.as_str(), m.to.clone(), m.order.as_deref()),
            (template, vec!["cvega@cli.test".to_string()], Some("OC-2026-000001"))
        );
        assert_eq!(raw.contains("Content-Type: application/zip"), attached, "{template}");
        assert!(raw.contains("Expediente OC-2026-000001.zip"), "{template}");
        assert!(raw.contains("References: <x1@cli.test>"), "{template}: threaded");
        let text = crate::mail::parse(raw.as_bytes(), &crate::mail::ParseOptions::default()).new_text;
        let says = if m.subject.contains("no se pudo preparar") {
            "No pudimos preparar por correo el expediente"
        } else if attached {
            "Adjunto el expediente de la orden OC-2026-000001 de Andes Textil S.A.C."
        } else {
            "supera el tamaño máximo de un adjunto (40,0 MB)"
        };
        assert!(text.contains(says), "{template}: «{says}» not in\n{text}");
        assert!(text.contains("buzon orders export") != attached, "{template}: the command only without the ZIP");
    }
}

#[test]
fn a_volante_through_the_desk_is_flagged_or_accepted() {
    let table: &[(&str, Option<&str>)] = &[
        ("HLXU1234561", None),
        ("TGHU4102332", Some("Contenedor: en el volante TGHU4102332, en la orden HLXU1234561")),
    ];
    for (container, flagged) in table {
        let mut w = andes_order();
        let volante = format!(
            "RANSA COMERCIAL S.A. RUC 20100137284 VOLANTE DE DESPACHO NRO. V-2026-118877 CONSIGNATARIO : ANDES TEXTIL S.A.C. RUC CONSIGNATARIO : 20601234565 CONOCIMIENTO DE EMBARQUE : HLCUCAN2611045 CONTENEDORES : {container}"
        );
        let m = mail_with_pdf(
            "Patricia Huamán <phuaman@andestextil.test>",
            "RV: Volante HLCUCAN2611045",
            "a2@andestextil.test",
            "Les paso el volante de Ransa.",
            "volante ransa.pdf",
            &volante,
        );
        w.mail("2026-12-03T10:00", &m);
        let o = &w.mem.orders["OC-2026-000001"];
        let tasks: Vec<_> = w.mem.tasks.values().filter(|t| t.kind == "volante_discrepancia").collect();
        match flagged {
            Some(line) => {
                assert_eq!(tasks.len(), 1, "{container}");
                assert!(tasks[0].summary.contains(line), "{}", tasks[0].summary);
                assert_eq!(tasks[0].assignee, "asistente1@cli.test");
                assert!(!o.references["container"].contains(*container), "the volante's container is not the order's");
            }
            None => {
                assert!(tasks.is_empty(), "{container}: {tasks:?}");
                let last = o.history.iter().map(|h| h.what.as_str()).collect::<Vec<_>>();
                assert!(
                    last.contains(&"Volante V-2026-118877 conforme (BL, Contenedor, RUC del consignatario)"),
                    "{last:?}"
                );
            }
        }
    }
}

#[test]
fn records_from_before_cargo_and_from_read_and_write_the_same_bytes() {
    let doc = r#"{"kind":"factura_comercial","name":"Factura.pdf","sha256":"ab","path":"ab/ab","size":3,"received_at":"2026-12-01T14:00:00Z"}"#;
    let back: super::super::model::OrderDocument = serde_json::from_str(doc).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.from, "");
    assert_eq!(serde_json::to_string(&back).unwrap_or_default(), doc);
    let o = order(&[], Cargo::default());
    let text = serde_json::to_string(&o).unwrap_or_default();
    assert!(!text.contains("cargo") && !text.contains("\"from\""), "{text}");
    let with = order(&[], cargo(Some(12), Some("9876.40")));
    let text = serde_json::to_string(&with).unwrap_or_default();
    assert!(text.contains(r#""cargo":{"packages":12,"weight_kg":"9876.40"}"#), "{text}");
}
