//! Subjects as a careful assistant keeps them: one reply prefix, however
//! many `Re: RE: RV: FW:` a thread piled up, and one tag of each kind
//! (`[OC-2026-000123]`, `[R-000045]`), however many round trips.

use std::sync::LazyLock;

use regex::Regex;

/// A reply or forward prefix as mail programs write it, in the languages the
/// desk hears: Re, RE, RV, FW, Fwd, AW, WG, TR, SV, VS, Antw, Rif, R, RES,
/// ENC, with a counter (`Re[2]:`, `RE(3):`) and a full-width colon.
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    super::re(
        r"(?i)^\s*(?:re|rv|fw|fwd|aw|wg|tr|sv|vs|antw|antwort|rif|r|res|enc|odp)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    )
});

/// A tag the desk writes: an order (`[OC-2026-000123]`, any prefix), a
/// reclamo (`[R-000045]`) or a task (`[T-000101]`).
static TAG: LazyLock<Regex> = LazyLock::new(|| super::re(r"\[\s*([A-Za-z0-9]+-\d{4}-\d{6}|R-\d{6}|T-\d{6})\s*\]"));

/// The kind of a tag's value (`order`, `reclamo`, `task`).
fn tag_kind(value: &str) -> &'static str {
    if value.starts_with("R-") && value.len() == 8 {
        "reclamo"
    } else if value.starts_with("T-") && value.len() == 8 {
        "task"
    } else {
        "order"
    }
}

/// What a subject is about: without reply prefixes and without tags
/// (`Re: RV: Envío de documentos [OC-2026-000001]` → `Envío de documentos`).
pub fn topic(subject: &str) -> String {
    let (core, _, _) = split(subject);
    core
}

/// (the text without prefixes and tags, whether it had a prefix, the tags
/// kept: the last one of each kind, in the order they appear).
fn split(subject: &str) -> (String, bool, Vec<String>) {
    let mut tags: Vec<String> = TAG.captures_iter(subject).map(|c| c[1].to_ascii_uppercase()).collect();
    let mut kept: Vec<String> = Vec::new();
    while let Some(t) = tags.pop() {
        if !kept.iter().any(|k| tag_kind(k) == tag_kind(&t)) {
            kept.insert(0, t);
        }
    }
    let untagged = TAG.replace_all(subject, " ");
    let mut rest: &str = &untagged;
    let mut had_prefix = false;
    while let Some(m) = PREFIX.find(rest) {
        had_prefix = true;
        rest = &rest[m.end()..];
    }
    let core = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    let core = core.trim_matches(|c: char| c == '-' || c == '—' || c.is_whitespace()).to_string();
    (core, had_prefix, kept)
}

/// One prefix (`Re: `) when the subject had any, the topic, then one tag of
/// each kind. A subject with neither prefixes nor tags is left as it is.
pub fn normalise(subject: &str) -> String {
    if !PREFIX.is_match(subject) && !TAG.is_match(subject) {
        return subject.to_string();
    }
    let (core, had_prefix, tags) = split(subject);
    let mut out = String::new();
    if had_prefix {
        out.push_str("Re: ");
    }
    out.push_str(&core);
    for t in tags {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(&format!("[{t}]"));
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_tags_collapse_to_one_of_each() {
        let cases = [
            ("Re: RE: Re: Envío [OC-2026-000001] [OC-2026-000001]", "Re: Envío [OC-2026-000001]"),
            ("RV: FW: Fwd: Embarque Guangzhou", "Re: Embarque Guangzhou"),
            ("AW: WG: Shipment docs", "Re: Shipment docs"),
            ("RE[2]: RE(3): Consulta", "Re: Consulta"),
            ("Re： Consulta", "Re: Consulta"),
            ("TR: RES: ENC: Documentos", "Re: Documentos"),
            ("Re: [OC-2026-000001] RE: Envío [OC-2026-000001]", "Re: Envío [OC-2026-000001]"),
            ("Re: Sobreestadía [R-000002] [OC-2026-000001]", "Re: Sobreestadía [R-000002] [OC-2026-000001]"),
            // Another order's tag in the client's subject: the last (ours) wins.
            ("Re: Consulta [OC-2026-000007] [OC-2026-000001]", "Re: Consulta [OC-2026-000001]"),
            ("Estado de sus órdenes — Andes", "Estado de sus órdenes — Andes"),
            ("[RECLAMO R-000001] Andes: Multa", "[RECLAMO R-000001] Andes: Multa"),
            ("Reunión de coordinación", "Reunión de coordinación"),
            ("Resumen 01/12/2026", "Resumen 01/12/2026"),
            ("Re: ", "Re:"),
        ];
        for (given, want) in cases {
            assert_eq!(normalise(given), want, "{given}");
        }
    }

    #[test]
    fn three_round_trips_keep_one_prefix_and_one_tag() {
        let mut s = "Envío de documentos - embarque Guangzhou".to_string();
        for _ in 0..3 {
            // The client answers ours (Outlook adds RE:), we answer again.
            s = normalise(&format!("Re: RE: {s} [OC-2026-000001]"));
        }
        assert_eq!(s, "Re: Envío de documentos - embarque Guangzhou [OC-2026-000001]");
        assert_eq!(topic("RE: RV: Sobreestadía [R-000002]"), "Sobreestadía");
    }
}
