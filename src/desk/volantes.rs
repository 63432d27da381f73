//! Volantes de despacho: the depósito's paper that lets the cargo out. A
//! volante filed into an order is checked against it — BL/AWB,
//! container(s), the consignee's RUC (the client's, from clients.toml) and,
//! when both sides are readable, packages and gross weight. Pure: text in,
//! differences out; `documents.rs` files it and opens the task.
//!
//! Depósitos write their volantes differently (Neptunia, Ransa, DP World,
//! Alconsa…): labels are matched loosely (`Nro. de Volante`, `N° VOLANTE`,
//! `Volante N°`; `Consignatario … RUC`, `RUC Consignatario`; `Bultos`,
//! `Cant. Bultos`; `Peso Bruto (Kg)`), numbers in either `18,450.50` or
//! `18.450,50`.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Incoming;
use super::draft::Draft;
use super::model::{Cargo, HistoryEntry, Order, OrderDocument};
use super::view::ViewResult;
use crate::refs::References;

/// What a volante says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Volante {
    /// The depósito's number of the volante.
    pub number: Option<String>,
    pub bls: BTreeSet<String>,
    pub awbs: BTreeSet<String>,
    pub containers: BTreeSet<String>,
    /// The consignee's RUC (not the depósito's own).
    pub consignee_ruc: Option<String>,
    pub cargo: Cargo,
}

/// One difference between the volante and the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// `Contenedor`, `BL`, `Guía aérea`, `RUC del consignatario`, `Bultos`, `Peso bruto`.
    pub field: &'static str,
    pub on_volante: String,
    pub on_order: String,
}

impl Difference {
    /// `Contenedor: en el volante MSCU1234565, en la orden MSCU7654321`.
    pub fn line(&self) -> String {
        format!("{}: en el volante {}, en la orden {}", self.field, self.on_volante, self.on_order)
    }
}

/// What was compared, and what differs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// The fields both sides had (`BL`, `Contenedor`…).
    pub compared: Vec<&'static str>,
    pub differences: Vec<Difference>,
}

impl Checked {
    /// The volante agrees with the order on everything both had.
    pub fn conforme(&self) -> bool {
        self.differences.is_empty()
    }
}

fn re(p: &str) -> Regex {
    super::re(p)
}

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:\bn(?:ro|ú?m|°|º|o)?\.?\s*(?:de\s+)?volante|volante\s+(?:de\s+(?:despacho|salida)\s+)?n(?:ro|°|º|o)?\.?)\s*[:#]?\s*([A-Z0-9][A-Z0-9/-]{3,20})",
    )
});
static CONSIGNEE_RUC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)(?:consignatario|consignee|importador|cliente)\b.{0,120}?\bR\.?U\.?C\.?\W{0,6}(\d{11})\b|\bR\.?U\.?C\.?\s*(?:del\s+)?(?:consignatario|importador|cliente)\W{0,6}(\d{11})\b",
    )
});
static PACKAGES: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:cant(?:idad)?\.?\s*(?:de\s+)?bultos|n(?:ro|°|º)\.?\s*(?:de\s+)?bultos|total\s+bultos|bultos|packages|pkgs)\s*(?:\([^)]{0,20}\))?\s*[:.]?\s*(\d[\d.,]*)",
    )
});
static WEIGHT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:peso\s+bruto|gross\s+weight|p\.\s*bruto)\s*(?:\((?:kg|kgs|kilos)\))?\s*(?:total)?\s*[:.]?\s*(\d[\d.,]*)\s*(kg|kgs|kilos|k)?\b",
    )
});

/// A number as depósitos write it (`1,200`, `18,450.50`, `18.450,50`,
/// `18450.5`), in hundredths.
pub fn hundredths(s: &str) -> Option<u64> {
    let s = s.trim().trim_end_matches(['.', ',']);
    if s.is_empty() {
        return None;
    }
    let last_sep = s.rfind(['.', ',']);
    let (int, frac) = match last_sep {
        // One separator followed by exactly three digits is a thousands one
        // (`1,200`, `18.450`); else the last separator is the decimal point.
        Some(i) if s[i + 1..].len() == 3 && s.matches(['.', ',']).count() == 1 => {
            (s.replace(['.', ','], ""), String::new())
        }
        Some(i) => (s[..i].replace(['.', ','], ""), s[i + 1..].to_string()),
        None => (s.to_string(), String::new()),
    };
    if int.is_empty() || !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = int.parse().ok()?;
    let cents: u64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u64>().ok()? * 10,
        _ => frac.get(..2)?.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(cents)
}

/// `18450.50` (hundredths as kilograms, two decimals).
pub fn kilos(h: u64) -> String {
    format!("{}.{:02}", h / 100, h % 100)
}

/// Packages and gross weight a document states (volante, BL, packing list).
pub fn cargo_of(text: &str) -> Cargo {
    let packages = PACKAGES
        .captures(text)
        .and_then(|c| c.get(1))
        .and_then(|m| hundredths(m.as_str()))
        .filter(|h| h % 100 == 0 && *h > 0)
        .map(|h| h / 100);
    let weight_kg =
        WEIGHT.captures(text).and_then(|c| c.get(1)).and_then(|m| hundredths(m.as_str())).filter(|h| *h > 0).map(kilos);
    Cargo { packages, weight_kg }
}

/// Read a volante's text.
pub fn read(text: &str) -> Volante {
    let refs = crate::refs::extract(text);
    let set = |k: &str| refs.get(k).cloned().unwrap_or_default();
    let consignee_ruc = CONSIGNEE_RUC
        .captures(text)
        .and_then(|c| c.get(1).or(c.get(2)))
        .map(|m| m.as_str().to_string())
        .filter(|r| crate::refs::ruc_valid(r));
    Volante {
        number: NUMBER.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str().to_string()),
        bls: set("bl"),
        awbs: set("awb"),
        containers: set("container"),
        consignee_ruc,
        cargo: cargo_of(text),
    }
}

/// A gross weight may differ by rounding (a depósito weighs to the kilo).
const WEIGHT_TOLERANCE_HUNDREDTHS: u64 = 100;

fn joined(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Compare a volante with its order (and the client's RUC, from clients.toml).
pub fn check(v: &Volante, order: &Order, client_ruc: Option<&str>) -> Checked {
    let mut out = Checked::default();
    let theirs = |k: &str| order.references.get(k).cloned().unwrap_or_default();
    // BL and AWB: the volante names the order's document (a master and a
    // house BL may both be on the order: one in common is enough).
    for (field, kind, ours) in [("BL", "bl", &v.bls), ("Guía aérea", "awb", &v.awbs)] {
        let order_side = theirs(kind);
        if ours.is_empty() || order_side.is_empty() {
            continue;
        }
        out.compared.push(field);
        if ours.is_disjoint(&order_side) {
            out.differences.push(Difference { field, on_volante: joined(ours), on_order: joined(&order_side) });
        }
    }
    // Containers: every container on the volante must be the order's (a
    // volante may cover only some of them).
    let order_containers = theirs("container");
    if !v.containers.is_empty() && !order_containers.is_empty() {
        out.compared.push("Contenedor");
        let foreign: BTreeSet<String> = v.containers.difference(&order_containers).cloned().collect();
        if !foreign.is_empty() {
            let missing: BTreeSet<String> = order_containers.difference(&v.containers).cloned().collect();
            let on_order = if missing.is_empty() { joined(&order_containers) } else { joined(&missing) };
            out.differences.push(Difference { field: "Contenedor", on_volante: joined(&foreign), on_order });
        }
    }
    if let (Some(r), Some(c)) = (&v.consignee_ruc, client_ruc.filter(|c| !c.is_empty())) {
        out.compared.push("RUC del consignatario");
        if r != c {
            out.differences.push(Difference {
                field: "RUC del consignatario",
                on_volante: r.clone(),
                on_order: c.to_string(),
            });
        }
    }
    if let (Some(a), Some(b)) = (v.cargo.packages, order.cargo.packages) {
        out.compared.push("Bultos");
        if a != b {
            out.differences.push(Difference { field: "Bultos", on_volante: a.to_string(), on_order: b.to_string() });
        }
    }
    let kg = |s: &Option<String>| s.as_deref().and_then(hundredths);
    if let (Some(a), Some(b)) = (kg(&v.cargo.weight_kg), kg(&order.cargo.weight_kg)) {
        out.compared.push("Peso bruto");
        if a.abs_diff(b) > WEIGHT_TOLERANCE_HUNDREDTHS {
            out.differences.push(Difference {
                field: "Peso bruto",
                on_volante: format!("{} kg", kilos(a)),
                on_order: format!("{} kg", kilos(b)),
            });
        }
    }
    out
}

/// The volantes a mail brings: (attachment index, its text).
fn volante_texts<'a>(m: &'a Incoming<'_>) -> Vec<(usize, &'a str)> {
    m.class
        .documents
        .iter()
        .filter(|doc| doc.kind == KIND)
        .filter_map(|doc| m.mail.attachments.get(doc.index).map(|a| (doc.index, a.text.as_str())))
        .collect()
}

/// The document kind of a volante.
pub const KIND: &str = "volante";
/// The task kind of a volante that does not match its order.
pub const TASK_KIND: &str = "volante_discrepancia";

/// References that only a volante of `m` names (not its subject, text or
/// other documents): checked against the order, never added to it.
pub fn references_only_on_volantes(m: &Incoming<'_>) -> References {
    let volantes = volante_texts(m);
    if volantes.is_empty() {
        return References::new();
    }
    let mut on_volantes = References::new();
    for (_, text) in &volantes {
        crate::refs::extract_into(text, &mut on_volantes);
    }
    let indexes: BTreeSet<usize> = volantes.iter().map(|(i, _)| *i).collect();
    let mut rest = format!("{}\n{}\n{}", m.mail.subject, m.mail.new_text, m.mail.forwarded_text);
    for (i, a) in m.mail.attachments.iter().enumerate() {
        if !indexes.contains(&i) {
            rest.push('\n');
            rest.push_str(&a.text);
        }
    }
    let elsewhere = crate::refs::extract(&rest);
    for (kind, values) in on_volantes.iter_mut() {
        if let Some(e) = elsewhere.get(kind) {
            values.retain(|v| !e.contains(v));
        }
    }
    on_volantes.retain(|_, v| !v.is_empty());
    on_volantes
}

/// Packages and weight from the order's transport document or packing
/// list, when the order does not have them yet (the first one stated wins).
pub fn take_cargo(m: &Incoming<'_>, order: &mut Order) {
    for doc in m.class.documents.iter().filter(|d| matches!(d.kind.as_str(), "documento_transporte" | "lista_empaque"))
    {
        let Some(a) = m.mail.attachments.get(doc.index) else { continue };
        let c = cargo_of(&a.text);
        if order.cargo.packages.is_none() {
            order.cargo.packages = c.packages;
        }
        if order.cargo.weight_kg.is_none() {
            order.cargo.weight_kg = c.weight_kg;
        }
    }
}

/// Check each volante just filed (`added`) into `order`: a history line
/// when it agrees ("Volante … conforme"), a task for the assistant with
/// both values side by side when it does not.
pub fn file(
    d: &mut Draft<'_>,
    m: &Incoming<'_>,
    order: &mut Order,
    added: &[OrderDocument],
    client: &str,
) -> ViewResult<()> {
    let ruc = d.desk.directory.client(client).map(|c| c.ruc.clone());
    for doc in added.iter().filter(|doc| doc.kind == KIND) {
        let Some(a) = m.mail.attachments.iter().find(|a| a.sha256 == doc.sha256) else { continue };
        let v = read(&a.text);
        let label = match &v.number {
            Some(n) => format!("Volante {n}"),
            None => format!("Volante «{}»", doc.name),
        };
        if a.text.trim().is_empty() {
            order
                .history
                .push(HistoryEntry::internal(d.now, format!("{label} recibido sin texto legible: verificar a mano")));
            continue;
        }
        let checked = check(&v, order, ruc.as_deref());
        if checked.compared.is_empty() {
            order
                .history
                .push(HistoryEntry::public(d.now, format!("{label} recibido (sin datos que comparar con la orden)")));
        } else if checked.conforme() {
            d.note(format!("{label}: matches {}", order.id));
            order
                .history
                .push(HistoryEntry::public(d.now, format!("{label} conforme ({})", checked.compared.join(", "))));
        } else {
            let lines: Vec<String> = checked.differences.iter().map(Difference::line).collect();
            order.history.push(HistoryEntry::internal(d.now, format!("{label} con diferencias: {}", lines.join("; "))));
            let summary = format!(
                "{label} de {} con diferencias: {}. Revisar con el depósito antes del retiro.",
                order.id,
                lines.join("; ")
            );
            d.open_task(TASK_KIND, Some(client), Some(&order.id), None, summary, m.mail.message_id.clone())?;
        }
    }
    Ok(())
}

/// The client of the open order a volante's BL, AWB or container names,
/// when staff forward it: tried before the RUCs the mail holds, because a
/// volante's consignee RUC is what is being checked (a wrong one must not
/// file the volante with another client).
pub fn client_by_references(d: &Draft<'_>, m: &Incoming<'_>) -> ViewResult<Option<String>> {
    if volante_texts(m).is_empty() {
        return Ok(None);
    }
    for kind in ["bl", "awb", "container"] {
        for v in m.class.references.get(kind).into_iter().flatten() {
            if let Some(o) = d.orders_by_ref(kind, v)?.into_iter().find(|o| o.is_open()) {
                return Ok(Some(o.client));
            }
        }
    }
    Ok(None)
}
