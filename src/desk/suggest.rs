//! "¿Quiso decir «levante»?": the known value nearest to what a person
//! typed (a stage, a verb, a channel, a regime), by edit distance on the
//! accent- and case-folded words (strsim, already built for clap).

use crate::text::fold;

/// The candidate nearest to `typed`, if it is near enough to be a typo:
/// at most a third of its letters changed (one, for short words).
pub fn nearest<'a>(typed: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let t = fold(typed.trim());
    if t.is_empty() {
        return None;
    }
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let f = fold(c);
        // A prefix typed whole (`docum` for `documentos completos`) counts as near.
        let d = if f == t {
            0
        } else if f.starts_with(&t) && t.chars().count() >= 4 {
            1
        } else {
            strsim::damerau_levenshtein(&t, &f)
        };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let allowed = (t.chars().count().max(fold(c).chars().count()) / 3).max(1);
    (d > 0 && d <= allowed).then_some(c)
}

/// ` ¿Quiso decir «x»?` (with a leading space), or "".
pub fn did_you_mean(typed: &str, candidates: &[&str]) -> String {
    match nearest(typed, candidates) {
        Some(c) => format!(" ¿Quiso decir «{c}»?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_value_people_meant() {
        let stages = ["abierta", "documentos completos", "numerada", "canal asignado", "levante", "retirada"];
        let cases = [
            ("levnte", Some("levante")),
            ("Levante", None), // exact (folded): nothing to suggest
            ("numerado", Some("numerada")),
            ("retirado", Some("retirada")),
            ("docum", Some("documentos completos")),
            ("volando", None),
            ("x", None),
        ];
        for (typed, want) in cases {
            assert_eq!(nearest(typed, &stages), want, "{typed}");
        }
        assert_eq!(did_you_mean("resulto", &["resuelto", "reabrir"]), " ¿Quiso decir «resuelto»?");
        assert_eq!(did_you_mean("zzz", &["resuelto"]), "");
    }
}
