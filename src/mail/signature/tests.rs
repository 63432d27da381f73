use super::*;

#[test]
fn a_tail_repeated_in_the_history_is_the_signature() {
    let history: std::collections::HashSet<&str> =
        ["juntos hacemos crecer el peru", "si tiene algun reclamo llame a calidad", "carlos mendoza", "gracias"]
            .into_iter()
            .collect();
    let cases: &[(&[&str], Option<usize>)] = &[
        // The slogan block of the earlier mail, repeated: the signature.
        (
            &[
                "ya les envie el bl",
                "",
                "carlos mendoza",
                "juntos hacemos crecer el peru",
                "si tiene algun reclamo llame a calidad",
            ],
            Some(2),
        ),
        // One repeated line is not enough.
        (&["ya les envie el bl", "", "gracias"], None),
        // Never the first line written, even when all of it repeats.
        (&["carlos mendoza", "juntos hacemos crecer el peru"], None),
        // A new line after the repeated block: the sender wrote it now.
        (&["hola", "carlos mendoza", "juntos hacemos crecer el peru", "y esto es nuevo"], None),
        // A question or a command stops the run.
        (&["hola", "gracias?", "carlos mendoza", "juntos hacemos crecer el peru"], Some(2)),
        (&[], None),
    ];
    for (own, want) in cases {
        assert_eq!(repeated(own, &history), *want, "{own:?}");
    }
    assert_eq!(history_line("> > carlos mendoza "), "carlos mendoza");
}

use crate::text::fold;

fn find(lines: &[(&str, Kind)]) -> Option<usize> {
    let folded: Vec<String> = lines.iter().map(|(t, _)| fold(t.trim())).collect();
    let folded: Vec<&str> = folded.iter().map(String::as_str).collect();
    start(lines, &folded)
}

fn cut(text: &str) -> (String, String) {
    let lines: Vec<(&str, Kind)> = text.lines().map(|l| (l, Kind::Body)).collect();
    match find(&lines) {
        Some(i) => (
            lines[..i].iter().map(|l| l.0.trim_end()).collect::<Vec<_>>().join("\n").trim().to_string(),
            lines[i..].iter().map(|l| l.0.trim_end()).collect::<Vec<_>>().join("\n").trim().to_string(),
        ),
        None => (text.trim().to_string(), String::new()),
    }
}

#[test]
fn formulas() {
    for yes in [
        "saludos",
        "saludos cordiales,",
        "atentamente.",
        "slds",
        "best regards,",
        "saludos, ana",
        "thanks & regards",
        "saludos cordiales juan perez",
    ] {
        assert!(is_formula(yes), "{yes}");
    }
    for no in [
        "saludos, ¿ya llego?",
        "saludos a todos por la ayuda con el despacho",
        "bestia",
        "muchas gracias, saludos cordiales.",
        "regards to the team and please send the bl",
    ] {
        assert!(!is_formula(no), "{no}");
    }
}

/// (mail text, expected new text, expected signature): the signature table.
#[test]
fn signature_table() {
    let cases: &[(&str, &str, &str)] = &[
        // 1. Closing formula, name, title, phone.
        (
            "Adjunto la factura comercial.\n\nSaludos cordiales,\nAna Quispe\nJefa de Importaciones\nT: (01) 615-8800 anexo 123",
            "Adjunto la factura comercial.",
            "Saludos cordiales,\nAna Quispe\nJefa de Importaciones\nT: (01) 615-8800 anexo 123",
        ),
        // 2. Peruvian company signature: Libro de Reclamaciones and reclamos words.
        (
            "Buenos días, ¿me confirman la fecha de levante?\n\nSaludos,\nLuis Torres\nAndes Textil S.A.C. | RUC 20601234565\nLibro de Reclamaciones: https://andestextil.test/libro-de-reclamaciones\nPara consultas, sugerencias o reclamos escríbanos a atencion@andestextil.test",
            "Buenos días, ¿me confirman la fecha de levante?",
            "Saludos,\nLuis Torres\nAndes Textil S.A.C. | RUC 20601234565\nLibro de Reclamaciones: https://andestextil.test/libro-de-reclamaciones\nPara consultas, sugerencias o reclamos escríbanos a atencion@andestextil.test",
        ),
        // 3. No formula: disclaimer block with the contact card above it.
        (
            "Adjunto el packing list.\n\nJorge Díaz\nCel: 987 654 321\n\nAVISO DE CONFIDENCIALIDAD: Este correo y sus anexos son confidenciales y están dirigidos\nexclusivamente a su destinatario. Si usted no es el destinatario, bórrelo.",
            "Adjunto el packing list.",
            "Jorge Díaz\nCel: 987 654 321\n\nAVISO DE CONFIDENCIALIDAD: Este correo y sus anexos son confidenciales y están dirigidos\nexclusivamente a su destinatario. Si usted no es el destinatario, bórrelo.",
        ),
        // 4. RFC 3676 delimiter.
        ("Va el BL.\n-- \nPedro\nwww.pacificfoods.test", "Va el BL.", "--\nPedro\nwww.pacificfoods.test"),
        // 5. English supplier.
        (
            "Please find attached the commercial invoice.\n\nBest regards,\nJohn Smith\nExport Manager | Guangzhou Textiles Co., Ltd.\nTel: +86 20 8888 1234",
            "Please find attached the commercial invoice.",
            "Best regards,\nJohn Smith\nExport Manager | Guangzhou Textiles Co., Ltd.\nTel: +86 20 8888 1234",
        ),
        // 6. Mobile footer.
        ("Ok, gracias.\n\nEnviado desde mi iPhone", "Ok, gracias.", "Enviado desde mi iPhone"),
        // 7. Environment and liability notices after the name.
        (
            "Favor revisar la liquidación.\nSlds\nMaría\nAntes de imprimir este correo piense en el medio ambiente.\nLa empresa no se hace responsable por virus.",
            "Favor revisar la liquidación.",
            "Slds\nMaría\nAntes de imprimir este correo piense en el medio ambiente.\nLa empresa no se hace responsable por virus.",
        ),
        // 8. MUST NOT cut: the body is just "Saludos" and a question.
        ("Saludos\n¿Ya llegó el contenedor?", "Saludos\n¿Ya llegó el contenedor?", ""),
        // 9. MUST NOT cut: a one-line WhatsApp-style mail.
        ("ya llegó? avisen pls", "ya llegó? avisen pls", ""),
        // 10. MUST NOT cut: the complaint names the Libro de Reclamaciones.
        (
            "Voy a dejar constancia en su Libro de Reclamaciones.",
            "Voy a dejar constancia en su Libro de Reclamaciones.",
            "",
        ),
        // 11. MUST NOT cut: text written after "Saludos" is content.
        (
            "Hola.\nSaludos.\nAdemás necesito que me envíen la proforma del despacho de exportación, con el detalle de gastos y la fecha estimada, ¿es posible hoy?",
            "Hola.\nSaludos.\nAdemás necesito que me envíen la proforma del despacho de exportación, con el detalle de gastos y la fecha estimada, ¿es posible hoy?",
            "",
        ),
        // 12. MUST NOT cut a staff command written below the name.
        ("Listo.\nSaludos\nCarla\n#cerrar OC-2026-000123", "Listo.\nSaludos\nCarla\n#cerrar OC-2026-000123", ""),
        // 13. Formula on the last line only.
        ("¿Ya tienen fecha de levante?\nSaludos", "¿Ya tienen fecha de levante?", "Saludos"),
        // 14. A thank-you with a formula on the same line is content.
        ("Muchas gracias, saludos cordiales.", "Muchas gracias, saludos cordiales.", ""),
        // 15. English confidentiality notice with no name.
        (
            "Container MSKU1234565 is ready for pick up.\n\nThis e-mail and any attachments are confidential and intended solely for the addressee.",
            "Container MSKU1234565 is ready for pick up.",
            "This e-mail and any attachments are confidential and intended solely for the addressee.",
        ),
    ];
    for (i, (mail, new, sig)) in cases.iter().enumerate() {
        let (got_new, got_sig) = cut(mail);
        assert_eq!((got_new.as_str(), got_sig.as_str()), (*new, *sig), "case {}", i + 1);
    }
}

#[test]
fn disclaimer_shapes() {
    for yes in [
        "aviso de confidencialidad: este mensaje es privado",
        "la informacion contenida en este correo es reservada",
        "this message and any attachments are confidential",
        "si usted no es el destinatario, borrelo",
        "antes de imprimir este correo piense en el medio ambiente",
        "para consultas, sugerencias o reclamos llame al 0800-12345",
        "libro de reclamaciones: https://x.test/libro",
        "en cumplimiento de la ley n 29733, ley de proteccion de datos personales",
    ] {
        assert!(opens_disclaimer(yes), "{yes}");
    }
    for no in [
        "voy a dejar constancia en su libro de reclamaciones.",
        "adjunto la factura y el packing list",
        "si ustedes no responden hoy presentaremos un reclamo",
    ] {
        assert!(!opens_disclaimer(no), "{no}");
    }
}

#[test]
fn structural_signatures_and_fine_print() {
    let lines = [
        ("Adjunto.", Kind::Body),
        ("Ana Quispe", Kind::Sig),
        ("Andes Textil", Kind::Sig),
        ("Este mensaje es confidencial.", Kind::Small),
    ];
    assert_eq!(find(&lines), Some(1));
    // Fine print alone is never the whole mail.
    assert_eq!(find(&[("urgente", Kind::Small)]), None);
    // A mail written all in small print keeps its text.
    let all_small: Vec<(&str, Kind)> = [
        "Buenos días",
        "Les escribo porque el contenedor sigue retenido en el almacén y nadie nos da una fecha",
        "para el retiro, necesitamos una solución urgente esta semana por favor",
        "y además la factura de almacenaje llegó con montos que no corresponden al contrato",
        "Gracias",
    ]
    .iter()
    .map(|l| (*l, Kind::Small))
    .collect();
    assert_eq!(find(&all_small), None);
    // Grey body text (a template's style) is no footer.
    let grey_body = [
        ("Address not found", Kind::Body),
        (
            "Your message wasn't delivered to ana@andes.test because the address couldn't be found. Check for typos and try again.",
            Kind::Small,
        ),
    ];
    assert_eq!(find(&grey_body), None);
    // A reply typed inside Outlook's signature block keeps its question.
    let typed_in_sig = [("Hola,", Kind::Body), ("¿Ya salió el levante?", Kind::Sig), ("Ana Quispe", Kind::Sig)];
    assert_eq!(find(&typed_in_sig), Some(2));
}
