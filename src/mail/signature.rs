//! Where the sender's signature and disclaimer block begins in what the
//! sender wrote: a `-- ` line, a signature container of the HTML, a closing
//! formula near the end ("Saludos cordiales,", "Best regards"), a mobile
//! footer ("Enviado desde mi iPhone"), known disclaimer shapes (confidentiality
//! and liability notices, "antes de imprimir…", Peruvian "Libro de
//! Reclamaciones" and "consultas, sugerencias o reclamos" lines) or trailing
//! fine print. Whatever follows the start must look like a signature (names,
//! titles, phones, addresses, links, notices), so text written after a
//! "Saludos" is never cut, nor a command line, nor a mail's first line.

use std::sync::LazyLock;

use regex::Regex;

use super::html::Kind;

/// Disclaimer shapes, on folded text: one alternation, so the tail of a
/// mail is scanned once.
static DISCLAIMER: LazyLock<Regex> = LazyLock::new(|| {
    let patterns: &[&str] = &[
        r"\baviso (legal|de confidencialidad|de privacidad|importante)\b",
        r"\b(nota|clausula|declaracion) de confidencialidad\b",
        r"^(confidencialidad|confidencial|confidential|disclaimer|legal notice|privileged\b)",
        r"\bconfidentiality (notice|note|statement|warning|disclaimer)\b",
        r"\beste (mensaje|correo|e-?mail)( electronico)?( y (sus|cualquier|todos los)( archivos)? (anexos|adjuntos))?,? (es|son|puede contener|contiene|esta dirigido|va dirigido|y sus anexos)",
        r"\b(la )?informacion (contenida|incluida) en (este|el presente|esta) (mensaje|correo|e-?mail|comunicacion|transmision)",
        r"\bthis (e-?mail|message|communication|transmission)( and any (files|attachments)[^.\n]{0,60})?,? (is|are|may contain|contains|and its attachments)\b",
        r"\b(if|si) (you|usted|ud\.?) (are not the|have received this|no es el destinatario|ha recibido este)",
        r"\bsi (ha|has) recibido este (mensaje|correo|e-?mail) por error\b",
        r"\bintended (solely |only )?for the (use of the )?(individual|addressee|person|named)",
        r"\b(antes de imprimir|piense en el medio ambiente|cuide(mos)? el medio ambiente|consider the environment|think before (you )?print|no imprima este)",
        r"\bno se (hace|hara|responsabiliza)\b.{0,40}\bresponsab",
        r"\bno (asume|acepta) (ninguna |ningun tipo de )?responsabilidad\b",
        r"\b(does|do) not accept (any )?(liability|responsibility)\b|\baccepts? no (liability|responsibility)\b|\b(is|are) not liable\b",
        r"\bexime de (toda )?responsabilidad\b",
        r"\bconsultas,? sugerencias,? (y/o|y|o) reclamos\b",
        r"\bley (n|no|nro)?\.? ?29733\b|\bproteccion de datos personales\b",
        r"\b(libre de virus|virus-free|scanned for viruses|analizado por)\b",
    ];
    let alternation = format!("(?m){}", patterns.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|"));
    match Regex::new(&alternation) {
        Ok(r) => r,
        Err(e) => panic!("built-in disclaimer patterns do not compile: {e}"),
    }
});

/// Closing formulas, folded, without trailing punctuation.
const FORMULAS: &[&str] = &[
    "saludos cordiales",
    "cordiales saludos",
    "saludos",
    "un saludo cordial",
    "un cordial saludo",
    "un saludo",
    "muchos saludos",
    "saludos y gracias",
    "gracias y saludos",
    "gracias, saludos",
    "muchas gracias y saludos",
    "muy atentamente",
    "atentamente",
    "cordialmente",
    "slds",
    "sds",
    "atte",
    "att",
    "best regards",
    "kind regards",
    "warm regards",
    "warmest regards",
    "best wishes",
    "thanks & regards",
    "thanks and regards",
    "thanks & best regards",
    "thanks and best regards",
    "many thanks and best regards",
    "regards",
    "rgds",
    "br",
    "brgds",
    "best",
    "cheers",
    "sincerely",
    "yours sincerely",
    "yours faithfully",
];

/// Mobile and webmail footers, folded (prefixes).
const MOBILE: &[&str] = &[
    "enviado desde mi ",
    "enviado desde outlook",
    "enviado desde yahoo mail",
    "enviado desde correo para windows",
    "enviado desde mi dispositivo",
    "obtener outlook para ",
    "obtenga outlook para ",
    "descargar outlook para ",
    "sent from my ",
    "sent from outlook",
    "sent from yahoo mail",
    "sent from mail for windows",
    "get outlook for ",
];

fn is_command(line: &str) -> bool {
    let t = line.trim_start();
    t.strip_prefix('#').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// A closing formula, alone or followed by a name ("Saludos, Ana").
fn is_formula(l: &str) -> bool {
    if l.len() > 70 || !l.starts_with(['s', 'u', 'm', 'g', 'a', 'c', 'b', 'k', 'w', 't', 'r', 'y']) {
        return false;
    }
    let s = l.trim_end_matches([',', '.', '!', ';', ':', '-', ' ']);
    FORMULAS.iter().any(|f| {
        s.strip_prefix(f).is_some_and(|rest| {
            if rest.is_empty() {
                return true;
            }
            // Whole words only ("saludos" ≠ "saludoss", "best" ≠ "bestia").
            if !rest.starts_with([',', ' ', '.', '!']) {
                return false;
            }
            let name = rest.trim_start_matches([',', ' ', '.', '!']);
            name.chars().count() <= 40
                && !name.contains('?')
                && name.split_whitespace().count() <= 5
                && name.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '.' | '-' | '\''))
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && !name
                    .split_whitespace()
                    .any(|w| matches!(w, "a" | "que" | "por" | "para" | "con" | "el" | "la" | "los"))
        })
    })
}

fn is_mobile(l: &str) -> bool {
    l.len() < 80 && l.starts_with(['e', 'o', 'd', 's', 'g']) && MOBILE.iter().any(|m| l.starts_with(m))
}

fn has_link(l: &str) -> bool {
    l.contains("http") || l.contains("www.") || l.contains(".pe/") || l.contains(".com/") || l.contains(".com.pe")
}

/// A disclaimer line that can open a signature block on its own.
#[cfg(test)]
fn opens_disclaimer(l: &str) -> bool {
    DISCLAIMER.is_match(l) || libro_link(l)
}

/// "Libro de Reclamaciones" opens a footer only as a link or a bare link
/// text, never in a sentence the sender wrote ("dejaré constancia en su
/// Libro de Reclamaciones").
fn libro_link(l: &str) -> bool {
    (l.contains("libro de reclamaciones") || l.contains("libro de reclamos"))
        && (has_link(l) || l.len() <= 30 || l.ends_with(':'))
}

/// Contact lines: phones, mail and web addresses, `|`-separated cards.
fn is_contact(orig: &str, l: &str) -> bool {
    if l.contains('@') || has_link(l) || l.contains('|') {
        return true;
    }
    let digits = l.bytes().filter(u8::is_ascii_digit).count();
    let phoneish = l.bytes().all(|b| b.is_ascii_digit() || b" +-()./:extanobcelfmvilwhspru".contains(&b));
    if digits >= 6 && phoneish {
        return true;
    }
    const LEADS: &[&str] = &[
        "tel",
        "telf",
        "telef",
        "telefono",
        "cel",
        "celular",
        "movil",
        "mobile",
        "phone",
        "fax",
        "anexo",
        "ext",
        "central",
        "direccion",
        "address",
        "av.",
        "av ",
        "jr.",
        "jr ",
        "calle",
        "ruc",
        "web",
        "skype",
        "whatsapp",
        "wsp",
        "rpc",
        "rpm",
        "oficina",
        "office",
        "t:",
        "m:",
        "e:",
        "p:",
        "lima",
        "callao",
        "peru",
    ];
    let _ = orig;
    LEADS.iter().any(|p| l.starts_with(p))
}

/// A name, a job title or a company on a signature line ("Ana Quispe",
/// "Jefe de Operaciones", "ANDES TEXTIL S.A.C.").
fn is_name_like(orig: &str) -> bool {
    let t = orig.trim();
    if t.is_empty() || t.chars().count() > 60 || t.contains('?') || t.ends_with(':') || t.ends_with(',') {
        return false;
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    if words.len() > 7 {
        return false;
    }
    if t.ends_with('.') && words.last().is_none_or(|w| w.matches('.').count() < 2) {
        return false;
    }
    words.iter().all(|w| {
        w.starts_with(|c: char| c.is_uppercase())
            || matches!(
                *w,
                "de" | "del"
                    | "la"
                    | "las"
                    | "los"
                    | "y"
                    | "e"
                    | "of"
                    | "and"
                    | "the"
                    | "&"
                    | "-"
                    | "|"
                    | "en"
                    | "para"
                    | "/"
            )
    }) && t.starts_with(|c: char| c.is_uppercase())
}

/// Where a signature the sender already used in the same thread begins:
/// the longest run of last lines (at least [`REPEATED_MIN`] non-empty ones,
/// never the first line written) that also stand, each of them, in the
/// quoted or forwarded history — the sender's earlier mail, quoted below,
/// carries the same block. This finds slogans and notices no shape names
/// ("Juntos hacemos crecer el Perú", "si tiene algún reclamo llame a…").
/// `history` holds the history's lines folded, without their `>` marks. A
/// command or a question is never part of it.
pub fn repeated(own: &[&str], history: &std::collections::HashSet<&str>) -> Option<usize> {
    let first = own.iter().position(|l| !l.is_empty())?;
    let mut start = None;
    let mut count = 0;
    for (i, l) in own.iter().enumerate().rev() {
        if i <= first {
            break;
        }
        if l.is_empty() {
            continue;
        }
        if is_command(l) || l.contains('?') || l.chars().count() < 3 || !history.contains(l) {
            break;
        }
        count += 1;
        start = Some(i);
    }
    start.filter(|_| count >= REPEATED_MIN)
}

/// Lines a repeated tail needs to be a signature.
const REPEATED_MIN: usize = 2;

/// A history line as [`repeated`] compares it: its `>` marks taken away.
pub fn history_line(folded: &str) -> &str {
    folded.trim_start_matches(|c: char| c == '>' || c.is_whitespace()).trim_end()
}

/// Signatures are looked for among the last lines only.
const WINDOW: usize = 60;

/// Find where the signature starts among `lines` (what the sender wrote, in
/// order, with where each sits in the HTML; `folded` the same lines folded
/// and trimmed). `None`: no signature.
pub fn start(lines: &[(&str, Kind)], folded: &[&str]) -> Option<usize> {
    let n = lines.len().min(folded.len());
    let (lines, folded) = (&lines[..n], &folded[..n]);
    let first = folded.iter().position(|l| !l.is_empty())?;
    let lo = first.max(n.saturating_sub(WINDOW));
    // Paragraph of each line (a run of non-empty lines), and whether a
    // disclaimer shape is in it: the whole paragraph is then disclaimer.
    let mut para = vec![0usize; n];
    let mut p = 0;
    for i in 0..n {
        if folded[i].is_empty() {
            p += 1;
        }
        para[i] = p;
    }
    // Disclaimer lines of the window: one scan of its text.
    let mut opens = vec![false; n];
    let mut text = String::with_capacity(folded[lo..n].iter().map(|l| l.len() + 1).sum());
    let mut starts = Vec::with_capacity(n - lo);
    for l in &folded[lo..n] {
        starts.push(text.len());
        text.push_str(l);
        text.push('\n');
    }
    for m in DISCLAIMER.find_iter(&text) {
        let k = starts.partition_point(|&s| s <= m.start()).saturating_sub(1);
        opens[lo + k] = true;
    }
    if text.contains("libro de reclam") {
        for i in lo..n {
            opens[i] |= libro_link(folded[i]);
        }
    }
    let mut in_disclaimer = vec![false; p + 1];
    for i in lo..n {
        if opens[i] {
            in_disclaimer[para[i]] = true;
        }
    }
    let disclaimer_para = |j: usize| in_disclaimer[para[j]];
    let sig_like = |j: usize| -> bool {
        let (orig, kind) = lines[j];
        let l = folded[j];
        if l.is_empty() {
            return true;
        }
        if is_command(orig) {
            return false;
        }
        if disclaimer_para(j) {
            return true;
        }
        if matches!(kind, Kind::Sig | Kind::Small) {
            // A question is the sender's, even typed inside a signature block.
            return !l.contains('?') || is_contact(orig, l);
        }
        if is_contact(orig, l) || is_mobile(l) || l.contains("libro de reclamaciones") {
            return true;
        }
        l.chars().count() <= 70 && !l.contains('?')
    };
    // The tail from `from` on is a signature: sig-like lines only, and not
    // too many ordinary short lines (a letter after "Saludos" is not one).
    let tail_ok = |from: usize| -> bool {
        let mut plain = 0;
        for j in from..n {
            if !sig_like(j) {
                return false;
            }
            let (orig, kind) = lines[j];
            let l = folded[j];
            if !l.is_empty() && kind == Kind::Body && !disclaimer_para(j) && !is_contact(orig, l) && !is_name_like(orig)
            {
                plain += 1;
            }
        }
        plain <= 4
    };
    // The lines from `from` on read as a footer: few lines, or a notice, a
    // contact line or a name among them.
    let footer_like = |from: usize| -> bool {
        let (mut count, mut card) = (0, false);
        for j in from..n {
            let l = folded[j];
            if l.is_empty() {
                continue;
            }
            if disclaimer_para(j) || is_mobile(l) {
                return true;
            }
            if l.len() > 100 {
                // A long sentence that is no notice is the sender's text.
                return false;
            }
            card |= is_contact(lines[j].0, l) || is_name_like(lines[j].0);
            count += 1;
        }
        card || count <= 3
    };
    let mut best: Option<usize> = None;
    let mut take = |i: usize| {
        if best.is_none_or(|b| i < b) {
            best = Some(i);
        }
    };
    for i in lo..n {
        let (orig, kind) = lines[i];
        let l = folded[i];
        if l.is_empty() {
            continue;
        }
        // RFC 3676 delimiter.
        if orig.trim_end() == "--" && !lines.iter().skip(i + 1).any(|(t, _)| is_command(t)) {
            take(i);
            break;
        }
        let later = i > first;
        let ok = match kind {
            Kind::Sig => tail_ok(i),
            // Fine print after the sender's ordinary text, that reads as a
            // footer (a mail written all in small print is not a signature).
            Kind::Small => {
                later
                    && lines[first..i].iter().zip(&folded[first..i]).any(|(l, f)| l.1 == Kind::Body && !f.is_empty())
                    && tail_ok(i)
                    && footer_like(i)
            }
            _ => false,
        } || (is_mobile(l) && tail_ok(i + 1))
            || (later && is_formula(l) && tail_ok(i + 1))
            || (later && opens[i] && para[i] != para[first] && tail_ok(i));
        if ok {
            let mut s = i;
            if opens[i] && !is_formula(l) {
                // Start at the disclaimer's paragraph, then take the contact
                // card just above it (name, title, phones), never the first line.
                while s > first && para[s - 1] == para[i] && !folded[s - 1].is_empty() {
                    s -= 1;
                }
                let mut k = s;
                while k > first + 1 {
                    let j = k - 1;
                    if folded[j].is_empty() || is_contact(lines[j].0, folded[j]) || is_name_like(lines[j].0) {
                        k -= 1;
                    } else {
                        break;
                    }
                }
                while k < s && folded[k].is_empty() {
                    k += 1;
                }
                s = k;
            }
            take(s);
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
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
}
