//! Text folding for matching: lower case, accents removed, so that
//! "cotizacion" matches "Cotización" and rules stay simple.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Fold `s` for matching: ASCII lower case, accents and other combining marks
/// removed, non-breaking spaces made plain. Characters without an ASCII base
/// are kept (lower-cased), so "ß" or "中" still match themselves.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// [`fold`] appending to `out`.
pub fn fold_into(s: &str, out: &mut String) {
    let mut rest = s;
    while !rest.is_empty() {
        // Copy the ASCII run in one go (the common case), then fold one char.
        let run = rest.bytes().position(|b| !b.is_ascii()).unwrap_or(rest.len());
        let (ascii, tail) = rest.split_at(run);
        let start = out.len();
        out.push_str(ascii);
        if let Some(pushed) = out.get_mut(start..) {
            pushed.make_ascii_lowercase();
        }
        let mut chars = tail.chars();
        match chars.next() {
            Some(c) => fold_char(c, out),
            None => break,
        }
        rest = chars.as_str();
    }
}

fn fold_char(c: char, out: &mut String) {
    match c {
        '\u{a0}' | '\u{2007}' | '\u{202f}' => out.push(' '),
        // Invisible controls would let "re\u{200b}clamo" hide from a rule.
        c if is_invisible_control(c) => {}
        'º' | '°' => out.push('o'),
        'ª' => out.push('a'),
        '¿' | '¡' => out.push(' '),
        _ => {
            for l in c.to_lowercase() {
                decompose_canonical(l, |d| {
                    if !is_combining_mark(d) {
                        out.push(d);
                    }
                });
            }
        }
    }
}

/// Bidi overrides and isolates, zero-width characters and the BOM: invisible
/// when shown, yet able to reorder or split what a person reads
/// (`factura\u{202e}fdp.exe` shows as "factura" + "exe.pdf").
pub fn is_invisible_control(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{061c}' | '\u{feff}')
}

/// `s` without [`is_invisible_control`] characters (borrowed when it has none).
pub fn strip_invisible(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() || !s.chars().any(is_invisible_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(s.chars().filter(|&c| !is_invisible_control(c)).collect())
}

/// `s` cut to at most `max_bytes` bytes on a character boundary.
pub fn cap_bytes(s: &mut String, max_bytes: usize) {
    if s.len() > max_bytes {
        let mut end = max_bytes;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// `s` as shown to a person in at most `max_chars` characters: longer text
/// is cut on a character boundary and ends with "…".
pub fn shown(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        None => s.to_string(),
        Some(_) => {
            let keep: String = s.chars().take(max_chars.saturating_sub(1)).collect();
            format!("{}…", keep.trim_end())
        }
    }
}

/// Remove accents from a regular expression without touching its syntax
/// (escapes like `\D` stay as they are: no case change here).
pub fn strip_accents(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            match c {
                'º' | '°' => out.push('o'),
                _ => decompose_canonical(c, |d| {
                    if !is_combining_mark(d) {
                        out.push(d);
                    }
                }),
            }
        }
    }
    out
}

/// Prepare a rule's regular expression for folded text: accents removed and
/// ASCII letters lower-cased, except escape letters (`\D`, `\S`, `\B`, `\A`…)
/// whose case is meaningful. Matching then needs no case-insensitive mode,
/// which keeps the literal prefilters small.
pub fn fold_pattern(pattern: &str) -> String {
    let stripped = strip_accents(pattern);
    let mut out = String::with_capacity(stripped.len());
    let mut escaped = false;
    for c in stripped.chars() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            out.push(c);
            escaped = true;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold("Cotización ÑANDÚ ¿Qué?"), "cotizacion nandu  que?");
        assert_eq!(fold("N° 12"), "no 12");
        assert_eq!(strip_accents(r"cotizaci[oó]n\D"), r"cotizaci[oo]n\D");
        assert_eq!(fold_pattern(r"ETA\b\D[A-Z]Ó"), r"eta\b\D[a-z]o");
    }

    #[test]
    fn invisible_controls_are_dropped_for_matching_and_display() {
        assert_eq!(fold("re\u{200b}cla\u{feff}mo"), "reclamo");
        assert_eq!(strip_invisible("factura\u{202e}fdp.exe"), "facturafdp.exe");
        assert_eq!(strip_invisible("\u{2066}Ana\u{2069} Quispe"), "Ana Quispe");
        assert!(matches!(strip_invisible("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(strip_invisible("Año ñandú"), "Año ñandú");
    }

    #[test]
    fn caps_cut_on_character_boundaries() {
        let mut s = "añoñaño".to_string();
        cap_bytes(&mut s, 3);
        assert_eq!(s, "añ");
        assert_eq!(shown("Cotización urgente", 10), "Cotizació…");
        assert_eq!(shown("corto", 10), "corto");
        assert_eq!(shown("exacto", 6), "exacto");
    }
}
