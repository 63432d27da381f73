//! `alerta_cli`: the company's internal alert mails ("Alertas CLI":
//! regularizaciones, vencimientos de régimen, pagos pendientes…) become
//! tasks with their deadline; a regime's expiry is also a deadline on the
//! order that holds the alert's DAM.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::Incoming;
use super::draft::Draft;
use super::model::HistoryEntry;
use super::view::ViewResult;

static ALERT_LINE: LazyLock<Regex> =
    LazyLock::new(|| super::re(r"(?im)^\s*(DAM|Cliente|Tipo|Fecha l[ií]mite|Vence|Vencimiento)\s*:\s*(.+?)\s*$"));

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    let desk = d.desk;
    if m.mail.dmarc_failed() {
        // Anyone can write "ALERTA CLI" from a forged staff address: it
        // counts only when DMARC did not fail.
        let summary = format!(
            "Alerta con DMARC fallido de {}: «{}». Verificar el remitente; no se registró ningún plazo.",
            m.from(),
            super::context::excerpt(&m.mail.subject, 120)
        );
        d.open_task("remitente_no_verificado", None, None, None, summary, m.mail.message_id.clone())?;
        return Ok(());
    }
    // `Tipo: …` lines, and the fields of an alert laid out as a table.
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for c in ALERT_LINE.captures_iter(&m.mail.new_text) {
        let key = crate::text::fold(&c[1]);
        fields.entry(key).or_insert_with(|| c[2].to_string());
    }
    for (k, v) in &m.mail.fields {
        if ["tipo", "cliente", "dam", "fecha limite", "vence", "vencimiento", "plazo"].contains(&k.as_str()) {
            fields.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let tipo = fields.get("tipo").cloned().unwrap_or_else(|| m.mail.subject.clone());
    let today = desk.settings.calendar.local_date(d.now);
    let deadline = ["fecha limite", "vence", "vencimiento", "plazo"]
        .iter()
        .find_map(|k| fields.get(*k))
        .and_then(|s| super::context::first_date(s, today));
    let dam = m.class.references.get("dam").and_then(|s| s.iter().next().cloned());
    // The client: by the order holding the DAM, else by name or RUC.
    let mut client = None;
    let mut order = None;
    if let Some(dam) = &dam
        && let Some(o) = d.orders_by_ref("dam", dam)?.into_iter().next()
    {
        client = Some(o.client.clone());
        order = Some(o.id.clone());
    }
    if client.is_none()
        && let Some(name) = fields.get("cliente")
    {
        let n = crate::text::fold(name);
        client = desk
            .directory
            .clients
            .iter()
            .find(|c| crate::text::fold(&c.name) == n || n.contains(&c.ruc))
            .map(|c| c.id.clone());
    }
    let rules = &desk.rules.desk;
    let kind = rules.alert_kind(&tipo).map(|a| a.kind.clone()).unwrap_or_else(|| "otro".into());
    let cal = &desk.settings.calendar;
    let due = deadline.map(|day| cal.at_local(day, cal.day_end));
    let mut summary = format!("Alerta: {tipo}");
    if let Some(dam) = &dam {
        summary.push_str(&format!(" — DAM {dam}"));
    }
    if let Some(c) = fields.get("cliente") {
        summary.push_str(&format!(" — {c}"));
    }
    match deadline {
        Some(day) => summary.push_str(&format!(" — vence {}", day.format("%d/%m/%Y"))),
        None => summary.push_str(" — sin fecha límite legible: revisar"),
    }
    let task = d.open_task(
        &format!("alerta_{kind}"),
        client.as_deref(),
        order.as_deref(),
        due,
        summary,
        m.mail.message_id.clone(),
    )?;
    // A regime's expiry is a deadline on the order itself.
    if kind == "vencimiento_regimen"
        && let (Some(id), Some(due)) = (order.as_deref(), due)
        && let Some(mut o) = d.order(id)?
    {
        let day = cal.local_date(due);
        o.regime_expires = Some(due);
        o.history.push(HistoryEntry::internal(
            d.now,
            format!("Vence el régimen el {} (alerta, tarea {task})", day.format("%d/%m/%Y")),
        ));
        o.updated_at = d.now;
        d.save_order(o);
    }
    Ok(())
}
