//! Key/value fields of a mail: two-cell table rows of the HTML (`DAM |
//! 118-2026-10-012345`) and `Key: value` lines of the new text (`Fecha
//! límite: 04/12/2026`). Keys are folded (lower case, no accents, single
//! spaces, no trailing colon); values are kept as written.

use crate::text::fold;

/// Fields kept per mail.
pub const MAX_FIELDS: usize = 100;
const MAX_KEY_CHARS: usize = 40;
const MAX_VALUE_CHARS: usize = 300;

/// The folded form of a key (`"Fecha  Límite:"` → `"fecha limite"`).
pub fn fold_key(key: &str) -> String {
    let k = fold(key.trim().trim_matches('*').trim().trim_end_matches(':').trim());
    let mut out = String::with_capacity(k.len());
    for w in k.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Add `(key, value)` unless the key is not one or the pair is known already.
pub fn push(out: &mut Vec<(String, String)>, key: &str, value: &str) {
    if out.len() >= MAX_FIELDS {
        return;
    }
    let key = fold_key(key);
    let value = value.trim();
    if key.is_empty() || value.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        return;
    }
    let value = crate::text::shown(value, MAX_VALUE_CHARS);
    if !out.iter().any(|(k, v)| *k == key && *v == value) {
        out.push((key, value));
    }
}

/// `Key: value` on one line: a short key (≤ 4 words, starting with a letter,
/// no link), a colon, a value.
pub fn key_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    let colon = t.find(':')?;
    let (key, value) = (t[..colon].trim(), t[colon + 1..].trim());
    if key.is_empty() || value.is_empty() || value.starts_with("//") {
        return None;
    }
    if !key.starts_with(|c: char| c.is_alphabetic() || c == '*') || key.chars().count() > MAX_KEY_CHARS {
        return None;
    }
    if key.split_whitespace().count() > 4 {
        return None;
    }
    // A time ("a las 9:30"), not a key.
    if key.ends_with(|c: char| c.is_ascii_digit()) && value.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if !key
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '°' | 'º' | '(' | ')' | '-' | '/' | '*' | '_'))
    {
        return None;
    }
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_and_lines_parse() {
        assert_eq!(fold_key(" *Fecha  Límite:* "), "fecha limite");
        assert_eq!(key_value("Fecha límite: 04/12/2026"), Some(("Fecha límite", "04/12/2026")));
        assert_eq!(key_value("N° DAM: 118-2026-10-012345"), Some(("N° DAM", "118-2026-10-012345")));
        assert_eq!(key_value("Ver https://x.test/a"), None);
        assert_eq!(key_value("Estimados:"), None);
        assert_eq!(key_value("Llega a las 9:30"), None);
        assert_eq!(key_value("Les escribo porque hasta ahora no tenemos el levante: urgente"), None);
        let mut v = Vec::new();
        push(&mut v, "Cliente", "Andes Textil");
        push(&mut v, "CLIENTE:", "Andes Textil");
        assert_eq!(v, vec![("cliente".to_string(), "Andes Textil".to_string())]);
    }
}
