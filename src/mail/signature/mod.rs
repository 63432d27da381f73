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
mod tests;
