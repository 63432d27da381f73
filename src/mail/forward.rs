//! Reply and forward headers as mail clients write them: separators
//! (`---------- Forwarded message ---------`, `-----Mensaje original-----`,
//! `Begin forwarded message:`, Lotus Notes' `----- Forwarded by … -----`),
//! header blocks (`De: … Enviado: … Para: … Asunto: …` and their English,
//! Zimbra, Apple, Thunderbird and Notes shapes) and the subject prefixes that
//! say whether a mail is a reply or a forward. Lines given here are already
//! folded (`crate::text::fold`) and trimmed.

use super::Addr;

/// What a separator line announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separator {
    /// A forwarded message follows (whatever the subject says).
    Forward,
    /// An original message follows: a reply's quote, or a forward when the
    /// subject says so (Outlook and Zimbra write the same line for both).
    Original,
    /// A plain rule (`________________________________`): a header block may follow.
    Rule,
}

/// Is this (folded, trimmed) line a separator, and of which kind?
pub fn separator(l: &str) -> Option<Separator> {
    let b = l.as_bytes();
    let first = *b.first()?;
    if first == b'_' && l.len() >= 20 && b.iter().all(|&c| c == b'_') {
        return Some(Separator::Rule);
    }
    if matches!(first, b'-' | b'=' | b'_' | b'*') {
        let inner = l.trim_start_matches(['-', ' ', '_', '=', '*']);
        if inner.len() == l.len() || inner.is_empty() {
            return None;
        }
        // Yahoo's plain text glues the header block onto the separator line:
        // "----- Forwarded Message ----- From: Ana <a@b>To: …".
        let core = inner.split("--").next().unwrap_or(inner).trim_end_matches([' ', '_', '=', '*']);
        return match core {
            "forwarded message" | "mensaje reenviado" | "message transfere" | "mensagem encaminhada" => {
                Some(Separator::Forward)
            }
            "original message" | "mensaje original" | "mensagem original" | "message d'origine"
            | "message original" => Some(Separator::Original),
            _ if core.starts_with("forwarded by ") || core.starts_with("reenviado por ") => Some(Separator::Forward),
            _ => None,
        };
    }
    if matches!(first, b'b' | b'i' | b'c' | b'd')
        && matches!(
            l.trim_end_matches(':').trim_end(),
            "begin forwarded message"
                | "inicio del mensaje reenviado"
                | "comienzo del mensaje reenviado"
                | "debut du message reexpedie"
        )
    {
        return Some(Separator::Forward);
    }
    None
}

/// The header keys of reply/forward header blocks (folded).
fn known_key(k: &str) -> Option<Key> {
    Some(match k {
        "de" | "from" | "von" | "remitente" => Key::From,
        "para" | "to" | "an" | "a" | "destinatario" | "destinatarios" => Key::To,
        "asunto" | "assunto" | "subject" | "betreff" | "objet" | "tema" => Key::Subject,
        "enviado" | "enviado el" | "enviados" | "enviada em" | "enviado em" | "data" | "sent" | "fecha" | "date"
        | "datum" | "enviado:" | "gesendet" | "envoye" | "envoye le" => Key::Date,
        "cc" | "cco" | "bcc" | "copia" | "con copia" | "responder a" | "reply-to" | "reply to" | "importancia"
        | "importance" | "adjuntos" | "attachments" | "prioridad" | "priority" => Key::Other,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    From,
    To,
    Subject,
    Date,
    Other,
}

/// `Key: value` of a header line (`*De:* …`, `De:\t…`, `Enviado el: …`).
fn header_line(l: &str) -> Option<(Key, usize)> {
    let colon = l.find(':')?;
    if colon > 24 {
        return None;
    }
    let k = l[..colon].trim().trim_matches('*').trim();
    let key = known_key(k)?;
    Some((key, colon + 1))
}

/// A key alone on its line (Lotus Notes' header table: `To`, `cc`, `Subject`).
fn bare_key(l: &str) -> Option<Key> {
    if l.contains(':') {
        return None;
    }
    let mut it = l.split('\t');
    let k = it.next()?.trim();
    match k {
        "to" | "cc" | "bcc" | "subject" | "para" | "asunto" => known_key(k),
        _ => None,
    }
}

/// Does a header block begin at `i`: `De:`/`From:` with a date line close below?
pub fn header_start(folded: &[&str], i: usize) -> bool {
    let l = folded[i];
    let starts = |s: &str| {
        header_line(s).is_some_and(|(k, _)| k == Key::From)
            && (s.starts_with("de") || s.starts_with("from") || s.starts_with('*'))
    };
    if !starts(l) {
        return false;
    }
    folded.iter().skip(i + 1).take(5).any(|n| header_line(n).is_some_and(|(k, _)| k == Key::Date))
}

/// The header block that starts at or just after `start` (separator lines,
/// an attribution and blank lines skipped): the index of the first body line
/// after it, and the From address(es) it names. `None` when no header block
/// is there.
pub fn header_block(orig: &[&str], folded: &[&str], start: usize) -> Option<(usize, Vec<Addr>)> {
    let n = folded.len();
    let mut i = start;
    let mut skipped = 0;
    while i < n && skipped < 4 && (folded[i].is_empty() || separator(folded[i]).is_some()) {
        i += 1;
        skipped += 1;
    }
    let mut from = Vec::new();
    let mut seen = 0;
    let mut saw_subject = false;
    // Lotus Notes' old layout: name line, date line, then `To`/`cc`/`Subject`
    // keys alone with blank lines between; the block ends after the subject.
    let mut notes = false;
    let mut expect_value: Option<Key> = None;
    let head = i;
    while i < n {
        let l = folded[i];
        if l.is_empty() {
            expect_value = None;
            if seen > 0 && (!notes || saw_subject) {
                i += 1;
                break;
            }
            if i > head + 12 {
                break;
            }
            i += 1;
            continue;
        }
        if expect_value.is_some() && (bare_key(l).is_some() || header_line(l).is_some()) {
            // An empty value (Notes leaves `cc` blank): this line is the next key.
            expect_value = None;
        }
        if let Some(k) = expect_value.take() {
            if k == Key::From {
                from.extend(addresses(orig[i]));
            }
            saw_subject |= k == Key::Subject;
            i += 1;
            continue;
        }
        if let Some((k, _)) = header_line(l) {
            seen += 1;
            if k == Key::From {
                let value = orig[i].split_once(':').map(|(_, v)| v).unwrap_or("");
                from.extend(addresses(value));
            }
            saw_subject |= k == Key::Subject;
            i += 1;
            continue;
        }
        if let Some(k) = bare_key(l) {
            // Notes: the value is in the next cell (same line) or line.
            seen += 1;
            if let Some((_, v)) = orig[i].split_once('\t') {
                saw_subject |= k == Key::Subject;
                if k == Key::From {
                    from.extend(addresses(v));
                }
            } else {
                expect_value = Some(k);
            }
            i += 1;
            continue;
        }
        if notes && l.starts_with(|c: char| c.is_ascii_digit()) {
            i += 1;
            continue;
        }
        if seen == 0 && i < head + 3 {
            let found = addresses(orig[i]);
            if !found.is_empty() {
                from.extend(found);
                seen += 1;
                notes = true;
                i += 1;
                continue;
            }
        }
        break;
    }
    if seen == 0 {
        return None;
    }
    dedup(&mut from);
    Some((i.min(n), from))
}

fn dedup(v: &mut Vec<Addr>) {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|a| seen.insert(a.address.clone()));
}

/// Mail addresses in a header value: `Ana Quispe <a@b.pe>`, `"Ana" <a@b>`,
/// `Ana [mailto:a@b]`, a bare `a@b`. Names are kept when given.
pub fn addresses(value: &str) -> Vec<Addr> {
    let mut out = Vec::new();
    let mut rest = value;
    let mut guard = 0;
    while let Some(at) = rest.find('@') {
        guard += 1;
        if guard > 20 {
            break;
        }
        let is_addr = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '%' | '\'');
        let start =
            rest[..at].char_indices().rev().take_while(|&(_, c)| is_addr(c)).last().map(|(i, _)| i).unwrap_or(at);
        let end =
            rest[at + 1..].char_indices().find(|&(_, c)| !is_addr(c)).map(|(i, _)| at + 1 + i).unwrap_or(rest.len());
        let local = &rest[start..at];
        let domain = rest[at + 1..end].trim_end_matches('.');
        if !local.is_empty() && domain.contains('.') && domain.len() > 2 {
            let address = format!("{local}@{domain}").to_lowercase();
            let before = rest[..start].trim_end_matches(['<', '[', '(', ' ']);
            let before = before.strip_suffix("mailto:").unwrap_or(before).trim_end_matches(['<', '[', '(', ' ']);
            // The name is what precedes the address: a quoted string, or the
            // words since the last separator.
            let name = match before.strip_suffix('"').and_then(|b| b.rfind('"').map(|q| &b[q + 1..])) {
                Some(quoted) => quoted.trim(),
                None => before.rsplit([',', ';', '>', ']', ')']).next().unwrap_or("").trim().trim_matches(['"', '\'']),
            };
            let name = if name.contains('@') { "" } else { name.trim() };
            let name = crate::text::strip_invisible(name);
            out.push(Addr { name: crate::text::shown(&name, 200), address });
        }
        rest = &rest[end.max(at + 1)..];
    }
    out
}

/// What a subject's first prefix says: `Some(true)` a forward (`RV:`, `FW:`,
/// `Fwd:`, `TR:`, `ENC:`), `Some(false)` a reply (`RE:`, `Rpta:`, `AW:`),
/// `None` neither. Bracketed tags (`[EXTERNO]`) are skipped.
pub fn subject_forward(subject: &str) -> Option<bool> {
    let mut s = subject.trim_start();
    for _ in 0..4 {
        if let Some(rest) = s.strip_prefix('[')
            && let Some(close) = rest.find(']')
        {
            s = rest[close + 1..].trim_start();
        } else {
            break;
        }
    }
    let colon = s.find(':')?;
    let p = s[..colon].trim().to_ascii_lowercase();
    match p.as_str() {
        "rv" | "fw" | "fwd" | "tr" | "enc" | "wg" | "reenv" | "reenviar" | "reenviado" | "i" => Some(true),
        "re" | "rpta" | "rta" | "resp" | "aw" | "sv" | "r" | "ref" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::fold;

    fn block(text: &str) -> Option<(usize, Vec<String>)> {
        let orig: Vec<&str> = text.lines().collect();
        let folded: Vec<String> = orig.iter().map(|l| fold(l.trim())).collect();
        let folded: Vec<&str> = folded.iter().map(String::as_str).collect();
        header_block(&orig, &folded, 0).map(|(i, a)| (i, a.into_iter().map(|a| a.address).collect()))
    }

    #[test]
    fn separators() {
        for (l, want) in [
            ("---------- forwarded message ---------", Some(Separator::Forward)),
            ("---------- mensaje reenviado ---------", Some(Separator::Forward)),
            ("-------- mensaje reenviado --------", Some(Separator::Forward)),
            ("----- forwarded by juan perez/acme on 01/12/2026 09:22 am -----", Some(Separator::Forward)),
            ("----- reenviado por juan perez/acme el 01/12/2026 09:22 -----", Some(Separator::Forward)),
            ("begin forwarded message:", Some(Separator::Forward)),
            ("inicio del mensaje reenviado:", Some(Separator::Forward)),
            ("-----mensaje original-----", Some(Separator::Original)),
            ("----- original message -----", Some(Separator::Original)),
            ("________________________________", Some(Separator::Rule)),
            ("-- ", None),
            ("--- fin ---", None),
            ("de: ana", None),
        ] {
            assert_eq!(separator(l), want, "{l}");
        }
    }

    #[test]
    fn header_blocks_of_the_clients() {
        assert_eq!(
            block(
                "De: Ana Quispe <aquispe@andestextil.test>\nEnviado: martes\nPara: ops@cli.test\nAsunto: X\n\ncuerpo"
            ),
            Some((5, vec!["aquispe@andestextil.test".into()]))
        );
        assert_eq!(
            block(
                "---------- Forwarded message ---------\nFrom: Ana <a@andes.test>\nDate: Tue\nSubject: X\nTo: <ops@cli.test>\n\n\nbody"
            ),
            Some((6, vec!["a@andes.test".into()]))
        );
        assert_eq!(
            block("*From:* Ana Quispe [mailto:aquispe@andestextil.test]\n*Sent:* Tuesday\n*Subject:* X\nbody"),
            Some((3, vec!["aquispe@andestextil.test".into()]))
        );
        // Thunderbird's header table (cells apart by a tab).
        assert_eq!(
            block(
                "-------- Mensaje reenviado --------\nAsunto:\tX\nFecha:\tTue\nDe:\tAna <a@andes.test>\nPara:\tops@cli.test\n\nbody"
            ),
            Some((6, vec!["a@andes.test".into()]))
        );
        // Lotus Notes' old layout.
        assert_eq!(
            block(
                "----- Forwarded by Juan Perez/ACME on 01/12/2026 09:22 AM -----\n\nAna Quispe <aquispe@andestextil.test>\n01/12/2026 09:00 AM\n\nTo\nops@cli.test\ncc\n\nSubject\nReclamo\n\nbody"
            ),
            Some((12, vec!["aquispe@andestextil.test".into()]))
        );
        assert_eq!(block("Hola, ¿cómo están?\nbien"), None);
    }

    #[test]
    fn addresses_in_header_values() {
        let a = addresses(" \"Quispe, Ana\" <AQuispe@AndesTextil.test>; Luis <l@x.pe>");
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].address, "aquispe@andestextil.test");
        assert_eq!(a[0].name, "Quispe, Ana");
        assert_eq!(a[1], Addr { name: "Luis".into(), address: "l@x.pe".into() });
        assert_eq!(addresses("Juan Perez/ACME@ACME").len(), 0);
    }

    #[test]
    fn subject_prefixes() {
        assert_eq!(subject_forward("RV: Reclamo"), Some(true));
        assert_eq!(subject_forward("[EXTERNO] FW: aviso"), Some(true));
        assert_eq!(subject_forward("Fwd: x"), Some(true));
        assert_eq!(subject_forward("RE: RV: x"), Some(false));
        assert_eq!(subject_forward("Aviso de llegada: MSC"), None);
    }
}
