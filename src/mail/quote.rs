//! Split the text of a mail into what the sender wrote now and the quoted
//! history below or between it, so that a "gracias" above a quoted complaint
//! is not a complaint.

/// The new text and the quoted history of one mail body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// What the sender wrote in this mail.
    pub new: String,
    /// Quoted lines and everything from the first attribution line down.
    pub quoted: String,
}

/// Split `body` into new text and quoted history.
pub fn split(body: &str) -> Split {
    let lines: Vec<&str> = body.lines().collect();
    let cut =
        lines.iter().enumerate().find(|(i, _)| is_history_start(&lines, *i)).map(|(i, _)| i).unwrap_or(lines.len());
    let mut out = Split::default();
    for line in &lines[..cut] {
        let target = if line.trim_start().starts_with('>') { &mut out.quoted } else { &mut out.new };
        target.push_str(line);
        target.push('\n');
    }
    for line in &lines[cut..] {
        out.quoted.push_str(line);
        out.quoted.push('\n');
    }
    out.new = out.new.trim_end().to_string();
    out
}

fn lower(line: &str) -> String {
    crate::text::fold(line.trim())
}

/// Does the quoted history begin at line `i`?
fn is_history_start(lines: &[&str], i: usize) -> bool {
    // Cheap test on the first bytes before folding the line.
    let head = lines[i].trim_start().as_bytes();
    let first = head.first().map(u8::to_ascii_lowercase);
    if !matches!(first, Some(b'-' | b'_' | b'e' | b'o' | b'l' | b'a' | b'd' | b'f' | b'*' | b'b')) {
        return false;
    }
    let l = lower(lines[i]);
    if l.is_empty() {
        return false;
    }
    // -----Mensaje original----- / -----Original Message----- / forwarded blocks
    let core = l.trim_matches(|c: char| c == '-' || c == ' ' || c == '_' || c == '=');
    if l.starts_with("--")
        && matches!(
            core,
            "mensaje original" | "original message" | "mensaje reenviado" | "forwarded message" | "mensagem original"
        )
    {
        return true;
    }
    if l.starts_with("begin forwarded message") {
        return true;
    }
    // "El mar., 1 dic. 2026 a las 9:22, Ana <a@b> escribió:" (may wrap over two lines)
    let attribution = |s: &str| {
        s.ends_with("escribio:") || s.ends_with("wrote:") || s.ends_with("a ecrit :") || s.ends_with("schrieb:")
    };
    if (l.starts_with("el ") || l.starts_with("on ") || l.starts_with("le ") || l.starts_with("am ")) && l.len() < 300 {
        if attribution(&l) {
            return true;
        }
        if let Some(next) = lines.get(i + 1)
            && attribution(&lower(next))
        {
            return true;
        }
    }
    // Outlook: "De: …" followed by "Enviado: …"/"Sent: …"/"Fecha: …" within a few lines.
    let header_start =
        |s: &str| s.starts_with("de:") || s.starts_with("from:") || s.starts_with("*from:*") || s.starts_with("*de:*");
    if header_start(&l) {
        return lines.iter().skip(i + 1).take(4).map(|n| lower(n)).any(|n| {
            n.starts_with("enviado:")
                || n.starts_with("sent:")
                || n.starts_with("fecha:")
                || n.starts_with("date:")
                || n.starts_with("*sent:*")
                || n.starts_with("*enviado el:*")
                || n.starts_with("enviado el:")
        });
    }
    // Outlook separator line followed by a header block.
    if l.len() >= 20 && l.chars().all(|c| c == '_') {
        return lines.get(i + 1).is_some_and(|n| header_start(&lower(n)));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_attribution_starts_the_history() {
        let s = split(
            "Gracias, recibido.\n\nEl mar., 1 dic. 2026 a las 09:22, Ana <a@b.pe>\nescribió:\n> es inaceptable la demora\n",
        );
        assert_eq!(s.new, "Gracias, recibido.");
        assert!(s.quoted.contains("inaceptable"));
    }

    #[test]
    fn outlook_header_block_starts_the_history() {
        let s = split(
            "Adjunto el BL.\n\nDe: Operaciones CLI <ops@cli.test>\nEnviado: martes, 1 de diciembre de 2026 10:00\nPara: Ana\nAsunto: reclamo\n\nTexto viejo",
        );
        assert_eq!(s.new, "Adjunto el BL.");
        assert!(s.quoted.starts_with("De: Operaciones"));
    }

    #[test]
    fn interleaved_quotes_are_quoted_and_answers_are_new() {
        let s = split("> ¿Ya llegó?\nSí, ayer.\n-----Mensaje original-----\nhola");
        assert_eq!(s.new, "Sí, ayer.");
        assert_eq!(s.quoted, "> ¿Ya llegó?\n-----Mensaje original-----\nhola\n");
    }

    #[test]
    fn a_plain_line_starting_with_de_is_not_history() {
        let s = split("De: nuestra parte, todo bien.\nSaludos");
        assert_eq!(s.quoted, "");
    }
}
