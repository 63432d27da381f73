//! Reply templates (minijinja) from `rules/templates/`: for each mail kind,
//! `<name>.subject.j2`, `<name>.txt.j2` and optionally `<name>.html.j2`
//! (auto-escaped). Spanish lives at the top of the folder; another language
//! in a folder of its own (`rules/templates/en/`), and a mail whose language
//! has no version of a template is written in Spanish. All are compiled at
//! load; `rules check` renders every template of every language with a
//! sample context so a broken template is found before a client sees it.
//!
//! Templates added after a business's folder was written (`tarea_nueva`,
//! `resumen_supervision`…) have a built-in Spanish default, so a folder that
//! worked before keeps working; a file of the folder replaces it.

use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::diag::Diagnostic;

/// Every template the desk renders, with a sample context for `rules check`.
pub const REQUIRED: &[&str] = &[
    "acuse_documentos",
    "estado",
    "estado_generico",
    "reclamo_acuse",
    "reclamo_escalamiento",
    "reclamo_aviso",
    "aviso_pago",
    "confirmacion_comando",
    "resumen_asistente",
    "recordatorio_tarea",
    "estado_programado",
    "fuente_detenida",
    "estado_no_encontrado",
    "reclamo_resuelto",
    "tarea_nueva",
    "resumen_supervision",
    "aviso_etapa",
    "liquidacion",
    "liquidacion_pagada",
    "solicitud_pago",
    "solicitud_fondos",
    "archivo_pendiente",
    "servicios_extraordinarios",
    "solicitud_previo",
    "solicitud_retiro",
    "solicitud_llegada",
    "solicitud_bl",
    "solicitud_volante",
    "solicitud_recordatorio",
    "solicitud_respondida",
    "solicitud_vencida",
    "expediente",
    "expediente_grande",
];

/// Built-in defaults of the templates added after the first folders were
/// written (name, part, source).
const BUILT_IN: &[(&str, &str)] = &[
    ("estado_no_encontrado.subject.j2", include_str!("../rules/templates/estado_no_encontrado.subject.j2")),
    ("estado_no_encontrado.txt.j2", include_str!("../rules/templates/estado_no_encontrado.txt.j2")),
    ("reclamo_resuelto.subject.j2", include_str!("../rules/templates/reclamo_resuelto.subject.j2")),
    ("reclamo_resuelto.txt.j2", include_str!("../rules/templates/reclamo_resuelto.txt.j2")),
    ("tarea_nueva.subject.j2", include_str!("../rules/templates/tarea_nueva.subject.j2")),
    ("tarea_nueva.txt.j2", include_str!("../rules/templates/tarea_nueva.txt.j2")),
    ("resumen_supervision.subject.j2", include_str!("../rules/templates/resumen_supervision.subject.j2")),
    ("resumen_supervision.txt.j2", include_str!("../rules/templates/resumen_supervision.txt.j2")),
    ("resumen_supervision.html.j2", include_str!("../rules/templates/resumen_supervision.html.j2")),
    ("aviso_etapa.subject.j2", include_str!("../rules/templates/aviso_etapa.subject.j2")),
    ("aviso_etapa.txt.j2", include_str!("../rules/templates/aviso_etapa.txt.j2")),
    ("liquidacion.subject.j2", include_str!("../rules/templates/liquidacion.subject.j2")),
    ("liquidacion.txt.j2", include_str!("../rules/templates/liquidacion.txt.j2")),
    ("liquidacion_pagada.subject.j2", include_str!("../rules/templates/liquidacion_pagada.subject.j2")),
    ("liquidacion_pagada.txt.j2", include_str!("../rules/templates/liquidacion_pagada.txt.j2")),
    ("solicitud_pago.subject.j2", include_str!("../rules/templates/solicitud_pago.subject.j2")),
    ("solicitud_pago.txt.j2", include_str!("../rules/templates/solicitud_pago.txt.j2")),
    ("solicitud_fondos.subject.j2", include_str!("../rules/templates/solicitud_fondos.subject.j2")),
    ("solicitud_fondos.txt.j2", include_str!("../rules/templates/solicitud_fondos.txt.j2")),
    ("archivo_pendiente.subject.j2", include_str!("../rules/templates/archivo_pendiente.subject.j2")),
    ("archivo_pendiente.txt.j2", include_str!("../rules/templates/archivo_pendiente.txt.j2")),
    ("archivo_pendiente.html.j2", include_str!("../rules/templates/archivo_pendiente.html.j2")),
    ("servicios_extraordinarios.subject.j2", include_str!("../rules/templates/servicios_extraordinarios.subject.j2")),
    ("servicios_extraordinarios.txt.j2", include_str!("../rules/templates/servicios_extraordinarios.txt.j2")),
    ("solicitud_previo.subject.j2", include_str!("../rules/templates/solicitud_previo.subject.j2")),
    ("solicitud_previo.txt.j2", include_str!("../rules/templates/solicitud_previo.txt.j2")),
    ("solicitud_retiro.subject.j2", include_str!("../rules/templates/solicitud_retiro.subject.j2")),
    ("solicitud_retiro.txt.j2", include_str!("../rules/templates/solicitud_retiro.txt.j2")),
    ("solicitud_llegada.subject.j2", include_str!("../rules/templates/solicitud_llegada.subject.j2")),
    ("solicitud_llegada.txt.j2", include_str!("../rules/templates/solicitud_llegada.txt.j2")),
    ("solicitud_bl.subject.j2", include_str!("../rules/templates/solicitud_bl.subject.j2")),
    ("solicitud_bl.txt.j2", include_str!("../rules/templates/solicitud_bl.txt.j2")),
    ("solicitud_volante.subject.j2", include_str!("../rules/templates/solicitud_volante.subject.j2")),
    ("solicitud_volante.txt.j2", include_str!("../rules/templates/solicitud_volante.txt.j2")),
    ("solicitud_recordatorio.subject.j2", include_str!("../rules/templates/solicitud_recordatorio.subject.j2")),
    ("solicitud_recordatorio.txt.j2", include_str!("../rules/templates/solicitud_recordatorio.txt.j2")),
    ("solicitud_respondida.subject.j2", include_str!("../rules/templates/solicitud_respondida.subject.j2")),
    ("solicitud_respondida.txt.j2", include_str!("../rules/templates/solicitud_respondida.txt.j2")),
    ("solicitud_vencida.subject.j2", include_str!("../rules/templates/solicitud_vencida.subject.j2")),
    ("solicitud_vencida.txt.j2", include_str!("../rules/templates/solicitud_vencida.txt.j2")),
    ("expediente.subject.j2", include_str!("../rules/templates/expediente.subject.j2")),
    ("expediente.txt.j2", include_str!("../rules/templates/expediente.txt.j2")),
    ("expediente_grande.subject.j2", include_str!("../rules/templates/expediente_grande.subject.j2")),
    ("expediente_grande.txt.j2", include_str!("../rules/templates/expediente_grande.txt.j2")),
];

/// One rendered mail body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// The compiled templates.
pub struct Templates {
    env: Environment<'static>,
    /// Names loaded (`estado.txt.j2`, `en/estado.txt.j2`…).
    names: Vec<String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

/// `plural(n, "orden", "órdenes")`: the word that goes with `n`.
fn plural(n: minijinja::Value, one: String, many: String) -> String {
    let n = i64::try_from(n.clone()).ok().or_else(|| n.len().map(|l| l as i64)).unwrap_or(0);
    if n == 1 { one } else { many }
}

/// English names of the labels the desk writes in Spanish (document kinds,
/// reference kinds, stages, regimes, channels); anything else as it is.
fn english(label: &str) -> String {
    let t = match crate::text::fold(label).as_str() {
        "factura comercial" => "Commercial invoice",
        "documento de transporte (bl / awb)" => "Transport document (BL / AWB)",
        "lista de empaque" => "Packing list",
        "certificado de origen" => "Certificate of origin",
        "poliza de seguro" => "Insurance policy",
        "dam" => "Customs declaration (DAM)",
        "volante de despacho" => "Delivery order",
        "permiso / registro sanitario" => "Permit / sanitary registration",
        "otro documento" => "Other document",
        "contenedor" => "Container",
        "bl" => "BL",
        "guia aerea (awb)" => "Air waybill (AWB)",
        "factura" => "Invoice",
        "imo de la nave" => "Vessel IMO",
        "abierta" => "open",
        "documentos completos" => "documents complete",
        "numerada" => "declaration filed",
        "canal asignado" => "inspection channel assigned",
        "levante" => "released by customs",
        "retirada" => "cargo collected",
        "facturada" => "invoiced",
        "archivada" => "closed",
        "importacion para el consumo" => "Import for home use",
        "exportacion definitiva" => "Definitive export",
        "admision temporal para reexportacion en el mismo estado" => "Temporary admission for re-export",
        _ => return label.to_string(),
    };
    t.to_string()
}

/// `dd/mm/aaaa[ HH:MM]` → `09 Dec 2026[ 14:00]`: a date no English reader
/// takes for the 12th of September.
fn date_en(value: String) -> String {
    let (day, time) = match value.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (value.as_str(), None),
    };
    match chrono::NaiveDate::parse_from_str(day, "%d/%m/%Y") {
        Ok(d) => match time {
            Some(t) => format!("{} {t}", d.format("%d %b %Y")),
            None => d.format("%d %b %Y").to_string(),
        },
        Err(_) => value,
    }
}

fn add_functions(env: &mut Environment<'static>) {
    env.add_function("plural", plural);
    env.add_filter("tr", |v: String| english(&v));
    env.add_filter("date_en", date_en);
    env.add_filter("legible", |v: String| crate::desk::context::unreadable_es(&v).to_string());
    env.add_filter("legible_en", |v: String| crate::desk::context::unreadable_en(&v).to_string());
}

impl Templates {
    /// Load and compile every `*.j2` under `dir` and its language folders;
    /// check the required ones exist (in Spanish) and render.
    pub fn load(dir: &Path) -> Result<Templates, Vec<Diagnostic>> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(
            |name| {
                if name.ends_with(".html.j2") { AutoEscape::Html } else { AutoEscape::None }
            },
        );
        add_functions(&mut env);
        let mut errors = Vec::new();
        let mut names = Vec::new();
        let mut folders: Vec<(String, std::path::PathBuf)> = vec![(String::new(), dir.to_path_buf())];
        match std::fs::read_dir(dir) {
            Ok(rd) => {
                let mut langs: Vec<_> = rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .filter_map(|p| {
                        let n = p.file_name()?.to_str()?.to_string();
                        (n.len() == 2 && n.chars().all(|c| c.is_ascii_lowercase())).then_some((format!("{n}/"), p))
                    })
                    .collect();
                langs.sort();
                folders.extend(langs);
            }
            Err(e) => {
                return Err(vec![Diagnostic::file(dir, format!("cannot read the templates folder: {e}"))]);
            }
        }
        for (prefix, folder) in &folders {
            let Ok(rd) = std::fs::read_dir(folder) else { continue };
            let mut paths: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                let Some(file) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
                    continue;
                };
                if !file.ends_with(".j2") || !path.is_file() {
                    continue;
                }
                let name = format!("{prefix}{file}");
                match std::fs::read_to_string(&path) {
                    Ok(src) => {
                        if let Err(e) = env.add_template_owned(name.clone(), src) {
                            errors.push(template_error(&path, &e));
                        } else {
                            names.push(name);
                        }
                    }
                    Err(e) => errors.push(Diagnostic::file(&path, format!("cannot read: {e}"))),
                }
            }
        }
        for (name, src) in BUILT_IN {
            if !names.iter().any(|n| n == name) && !errors.iter().any(|d| d.file.ends_with(name)) {
                match env.add_template(name, src) {
                    Ok(()) => names.push(name.to_string()),
                    Err(e) => errors.push(template_error(&dir.join(name), &e)),
                }
            }
        }
        for r in REQUIRED {
            for part in ["subject", "txt"] {
                let n = format!("{r}.{part}.j2");
                if !names.contains(&n) && !errors.iter().any(|d| d.file.ends_with(&n)) {
                    errors.push(Diagnostic::file(&dir.join(&n), "required template is missing"));
                }
            }
        }
        // A language's version of a mail needs its subject and text both.
        for n in &names {
            if let Some((lang, file)) = n.split_once('/')
                && let Some(base) = file.strip_suffix(".txt.j2")
                && !names.contains(&format!("{lang}/{base}.subject.j2"))
            {
                errors.push(Diagnostic::file(
                    &dir.join(lang).join(format!("{base}.subject.j2")),
                    "missing: a language's version of a mail needs its subject too",
                ));
            }
        }
        let t = Templates { env, names };
        if errors.is_empty() {
            // Render each, in every language, with a sample context:
            // undefined variables and filter errors surface now, not in
            // front of a client.
            let sample = sample_context();
            for (lang, name) in t.variants() {
                if let Err(e) = t.render_in(&name, &lang, &sample) {
                    let folder = if lang == "es" { dir.to_path_buf() } else { dir.join(&lang) };
                    errors.push(Diagnostic::file(
                        &folder.join(format!("{name}.*.j2")),
                        format!("renders with an error: {e:#}"),
                    ));
                }
            }
        }
        if errors.is_empty() { Ok(t) } else { Err(errors) }
    }

    /// Every (language, mail) the folder holds: Spanish for each required
    /// mail, and each language folder's own mails.
    pub fn variants(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = REQUIRED.iter().map(|r| ("es".to_string(), r.to_string())).collect();
        for n in &self.names {
            if let Some((lang, file)) = n.split_once('/')
                && let Some(base) = file.strip_suffix(".txt.j2")
            {
                v.push((lang.to_string(), base.to_string()));
            }
        }
        v
    }

    /// The languages with templates of their own besides Spanish.
    pub fn languages(&self) -> Vec<String> {
        let mut v: Vec<String> =
            self.names.iter().filter_map(|n| n.split_once('/').map(|(l, _)| l.to_string())).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Render mail `name` (in Spanish) with `ctx`.
    pub fn render<C: Serialize>(&self, name: &str, ctx: &C) -> Result<Rendered, minijinja::Error> {
        self.render_in(name, "es", ctx)
    }

    /// Render mail `name` in `lang`: its version in `rules/templates/<lang>/`
    /// when there is one, else the Spanish one.
    pub fn render_in<C: Serialize>(&self, name: &str, lang: &str, ctx: &C) -> Result<Rendered, minijinja::Error> {
        let localized = format!("{lang}/{name}");
        let base = if lang != "es" && self.names.iter().any(|n| *n == format!("{localized}.txt.j2")) {
            localized
        } else {
            name.to_string()
        };
        let value = minijinja::Value::from(minijinja::value::Serde(ctx));
        let render =
            |part: &str| self.env.get_template(&format!("{base}.{part}.j2")).and_then(|t| t.render(value.clone()));
        let subject = render("subject")?.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
        let text = tidy(&render("txt")?);
        let html = match self.env.get_template(&format!("{base}.html.j2")) {
            Ok(t) => Some(t.render(value.clone())?),
            Err(e) if e.kind() == minijinja::ErrorKind::TemplateNotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Rendered { subject, text, html })
    }
}

/// Plain text as a person would type it: no runs of blank lines, no
/// trailing spaces (template control lines leave both).
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn template_error(path: &Path, e: &minijinja::Error) -> Diagnostic {
    let line = e.line().unwrap_or(0);
    let mut d = Diagnostic::file(path, e.detail().unwrap_or("syntax error").to_string());
    if line > 0 {
        d.line = line;
        d.col = 1;
    }
    d
}

/// A context with every variable the shipped templates use.
pub fn sample_context() -> serde_json::Value {
    let order = serde_json::json!({
        "id": "OC-2026-000123", "client": "andestextil", "stage": "abierta", "regime": "10",
        "regime_name": "Importación para el consumo",
        "references": {"bl": ["MEDUHG271461"], "container": ["CSQU3054383"]},
        "refs": [{"kind": "bl", "label": "BL", "values": ["MEDUHG271461"]}, {"kind": "container", "label": "Contenedor", "values": ["CSQU3054383"]}],
        "documents": [{"kind": "factura_comercial", "kind_name": "Factura comercial", "name": "Factura AT-5521.pdf", "unreadable": null}],
        "missing": ["documento_transporte"], "missing_names": ["Documento de transporte (BL / AWB)"],
        "eta": "09/12/2026", "vessel": "SANTOS EXPRESS", "opened_at": "01/12/2026 09:22",
        "events": [{"at": "01/12/2026 09:22", "what": "Orden abierta"}],
        "payments": [{"at": "02/12/2026 10:00", "kind": "abono", "currency": "PEN", "amount": "850.00"}],
    });
    let line = |id: &str, what: &str| {
        serde_json::json!({"id": id, "kind": "Alerta", "client": "Andes Textil S.A.C.", "order": "OC-2026-000123",
                           "what": what, "due": "04/12/2026 18:00", "why": format!("{what} (vence 04/12/2026 18:00)"),
                           "assignee": "asistente1@cli.test", "clock": "vence en 12,0 h útiles", "new": true})
    };
    let digest = serde_json::json!({"assistant": "asistente1@cli.test",
        "vencidas": [line("T-000004", "Alerta: tributos")], "vencen_hoy": [], "proximas": [], "mas_adelante": [line("T-000007", "Renovar carta fianza")],
        "sin_fecha": [line("T-000002", "Solicitud de proforma")], "nuevas_tareas": [line("T-000002", "Solicitud de proforma")],
        "nuevas_ordenes": [line("OC-2026-000123", "Envío de documentos")],
        "documentos_pendientes": [], "reclamos_abiertos": [line("R-000045", "Sobreestadía")], "por_clasificar": [],
        "total": 4});
    let supervision = serde_json::json!({
        "abiertos": [line("R-000045", "Sobreestadía")], "vencidos": [line("R-000044", "Multa")],
        "cumplidos": [line("R-000040", "Demora")], "incumplidos": [], "semana": "30/11/2026 – 06/12/2026",
        "revisiones_vencidas": [line("OC-2026-000120", "Revisar documentos")],
        "alertas": [{"assignee": "asistente1@cli.test", "lines": [line("T-000004", "Alerta: tributos")], "vencidas": 1}],
        "total": 4,
    });
    let mut ctx = serde_json::json!({
        "lang": "es",
        "desk": {"name": "Operaciones CLI", "address": "ops@cli.test"},
        "client": {"id": "andestextil", "name": "Andes Textil S.A.C.", "ruc": "20601234565", "credito": false},
        "sender": {"name": "Patricia Huamán", "address": "phuaman@andestextil.test", "person": "Patricia Huamán"},
        "mail": {"subject": "Envío de documentos", "topic": "Envío de documentos", "date": "01/12/2026 09:22",
                 "excerpt": "Texto del cliente", "message_id": "abc@andestextil.test"},
        "order": order.clone(),
        "new_order": true,
        "added": [{"kind": "factura_comercial", "kind_name": "Factura comercial", "name": "Factura AT-5521.pdf", "unreadable": "pdf_unreadable: x"}],
        "orders": [order],
        "more": 0,
        "not_found": [{"kind": "container", "label": "Contenedor", "value": "MSKU1234565"}],
        "results": ["OK: reclamo R-000045 resuelto"],
        "undo": true,
        "overdue": false,
        "percent": 50,
        "hours_left": "12.0",
        "task": {"id": "T-000004", "summary": "Alerta: tributos", "title": "Alerta: tributos", "due_at": "04/12/2026 18:00",
                 "order": null, "kind": "triage", "client": "Andes Textil S.A.C.", "assignee": "asistente1@cli.test",
                 "assignable": true},
        "message": "Coordinamos con la naviera: la sobreestadía corre por nuestra cuenta.",
        "original": {"from": "phuaman@andestextil.test", "subject": "Consulta", "date": "01/12/2026 09:22",
                     "message_id": "abc@andestextil.test", "attached": true, "size": "12 KB"},
        "days_left": 2,
        "command": "#hecho T-000004",
        "digest": digest,
        "supervision": supervision,
        "attachments": ["constancia.pdf"],
        "reclamo": {"id": "R-000045", "due_at": "03/12/2026 14:00", "received_at": "01/12/2026 17:00", "excerpt": "Texto", "from": "phuaman@andestextil.test", "order": "OC-2026-000123", "new": true, "subject": "Sobreestadía", "topic": "Sobreestadía", "state": "escalado", "hours": 24, "resolution": "Se coordinó con la naviera"},
        "executive": "cvega@cli.test",
        "source": {"where": "operaciones@cli.test@imap.cli.test:993/INBOX", "why": "the server refused the login", "fix": "Revise la contraseña"},
        "now": "01/12/2026 09:22",
    });
    // Notices, liquidations and payment requests (issue 16).
    let extra = serde_json::json!({
        "dam": "118-2026-10-012345",
        "channel": "rojo",
        "reached": "canal asignado",
        "events": [{"kind": "etapa", "from": "numerada", "to": "canal asignado", "at": "01/12/2026 09:22"},
                   {"kind": "eta", "from": "09/12/2026", "to": "11/12/2026 08:00", "at": "01/12/2026 09:22"},
                   {"kind": "nave", "from": "SANTOS EXPRESS", "to": "MSC LORETO 611W", "at": "01/12/2026 09:22"}],
        "request": {"n": 1, "concept": "almacenaje", "amount": "850.00", "currency": "PEN", "beneficiary": "Neptunia S.A.",
                    "by": "cvega@cli.test", "at": "01/12/2026 09:22"},
        "payment": {"order": "OC-2026-000123", "amount": "PEN 850.00"},
        "liquidation": {"amount": "1,234.50", "currency": "PEN", "due": "15/12/2026", "file": "Liquidacion 118-2026-10-012345.pdf"},
        // The weekly list of incomplete files and the monthly extras (issue 17).
        "week": "semana del 30/11/2026",
        "lines": [{"order": "OC-2026-000123", "client": "Andes Textil S.A.C.", "stage": "retirada", "topic": "Envío de documentos",
                   "missing": ["Volante de despacho", "Liquidación de tributos pagada"], "falta": "Volante de despacho y Liquidación de tributos pagada"}],
        "total": 1,
        "month": "noviembre de 2026",
        "rows": [{"order": "OC-2026-000123", "client": "Andes Textil S.A.C.", "date": "28/11/2026 10:15",
                  "reason": "Comando #estado atendido fuera de horario: sábado 28/11/2026 10:15", "by": "cvega@cli.test",
                  "executive": "cvega@cli.test", "kind": "fuera_de_horario"}],
        "file": "servicios-extraordinarios-2026-11.csv",
        // Requests to counterparts (issue 17).
        "counterpart": {"name": "Depósito Temporal Callao 1", "kind": "deposito", "addresses": ["operaciones@dtcallao1.test"]},
        "shipment": {"id": "OC-2026-000123", "bl": ["MEDUHG271461"], "awb": [], "containers": ["CSQU3054383", "MSKU1234565"],
                     "dam": "118-2026-10-012345", "vessel": "MSC LORETO 611W", "eta": "09/12/2026",
                     "consignee": "Andes Textil S.A.C.", "ruc": "20601234565"},
        "ask": {"kind": "previo", "what": "previo", "at": "01/12/2026 09:22", "date": "03/12/2026",
                "transport": "Transportes Rápido del Sur", "due": "01/12/2026 17:22", "task": "T-000004"},
        "automatic": false,
        "reminded": true,
        "stale": false,
        "said": "Buenas tardes, el previo queda programado para el jueves 03/12 a las 09:00.",
        "files": ["Acta de previo.pdf"],
    });
    if let (Some(ctx), serde_json::Value::Object(extra)) = (ctx.as_object_mut(), extra) {
        ctx.extend(extra);
    }
    // The file for liquidation (`#expediente`, issue 17).
    ctx["dossier"] = serde_json::json!({
        "documents": 3, "size": "1,2 MB", "limit": "40,0 MB", "file": "Expediente OC-2026-000123.zip",
        "not_kept": ["Fotos carga.zip (no guardado: excedía el tamaño máximo al llegar)"],
        "command": "buzon orders export OC-2026-000123 --zip \"Expediente OC-2026-000123.zip\"",
        "failed": false,
    });
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template of every language of the shipped folder, rendered
    /// with the sample data, reads as a person writes: no "(s)", no
    /// "Estimado(a)", no raw parser codes; the Spanish ones no English
    /// labels, the English ones no Spanish greeting.
    #[test]
    fn every_shipped_template_renders_in_every_language() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/templates");
        let t = Templates::load(&dir).unwrap_or_else(|e| panic!("{e:?}"));
        let langs = t.languages();
        assert!(langs.iter().any(|l| l == "en"), "{langs:?}");
        let ctx = sample_context();
        for lang in std::iter::once("es".to_string()).chain(langs) {
            for name in REQUIRED {
                let r = t.render_in(name, &lang, &ctx).unwrap_or_else(|e| panic!("{lang}/{name}: {e:#}"));
                assert!(!r.subject.trim().is_empty() && !r.text.trim().is_empty(), "{lang}/{name}");
                let all = format!("{}\n{}\n{}", r.subject, r.text, r.html.clone().unwrap_or_default());
                for bad in ["(s)", "Estimado(a)", "pdf_unreadable", "CONTAINER:", "INVOICE:", "{{", "}}"] {
                    assert!(!all.contains(bad), "{lang}/{name}: «{bad}» in\n{all}");
                }
                if lang == "es" {
                    assert!(!r.text.contains("Dear ") && !r.text.contains("Best regards"), "{lang}/{name}: {}", r.text);
                }
            }
        }
    }

    #[test]
    fn labels_dates_and_plurals_read_as_people_write() {
        assert_eq!(english("Factura comercial"), "Commercial invoice");
        assert_eq!(english("levante"), "released by customs");
        assert_eq!(english("Sin traducción"), "Sin traducción");
        assert_eq!(date_en("09/12/2026 14:00".into()), "09 Dec 2026 14:00");
        assert_eq!(date_en("09/12/2026".into()), "09 Dec 2026");
        assert_eq!(date_en("pronto".into()), "pronto");
        assert_eq!(plural(1.into(), "orden".into(), "órdenes".into()), "orden");
        assert_eq!(plural(3.into(), "orden".into(), "órdenes".into()), "órdenes");
        assert_eq!(plural(0.into(), "orden".into(), "órdenes".into()), "órdenes");
        assert_eq!(tidy("a  \n\n\n\nb\n"), "a\n\nb\n");
    }
}
