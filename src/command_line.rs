//! The staff command line: `#verb TARGET rest…` on a line of what a staff
//! member wrote. The table of verbs is the desk's (`desk::commands` applies
//! them); classification asks it too, so that a new command needs no rule
//! edit to be recognised as `interno`.

use crate::text::fold;

/// Every verb the desk knows, in the order the help text lists them.
pub const VERBS: &[&str] = &[
    "estado",
    "etapa",
    "eta",
    "nave",
    "regimen",
    "vence",
    "cerrar",
    "archivar",
    "reabrir",
    "revisado",
    "resuelto",
    "hecho",
    "fusionar",
    "mover",
    "asignar",
    "noesreclamo",
    "deshacer",
    "liquidacion",
    "pagar",
    "liberar",
    "previo",
    "retiro",
    "llegada",
    "bl",
    "volante",
    "expediente",
];

/// One parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub verb: String,
    pub target: String,
    pub rest: String,
}

/// The command lines of a text (`#verb TARGET rest…`).
pub fn parse(text: &str) -> Vec<Command> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(body) = line.strip_prefix('#') else { continue };
        let mut parts = body.splitn(3, char::is_whitespace);
        let verb = fold(parts.next().unwrap_or(""));
        if verb.is_empty() || !verb.chars().all(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        let target = parts.next().unwrap_or("").trim().to_ascii_uppercase();
        let rest = parts.next().unwrap_or("").trim().to_string();
        out.push(Command { verb, target, rest });
    }
    out
}

/// Does `text` hold a line with a known `#verb`?
pub fn has_known_command(text: &str) -> bool {
    parse(text).iter().any(|c| VERBS.contains(&c.verb.as_str()))
}
