//! Reply templates (minijinja) from `rules/templates/`: for each mail kind,
//! `<name>.subject.j2`, `<name>.txt.j2` and optionally `<name>.html.j2`
//! (auto-escaped). All are compiled at load; `rules check` renders each with a
//! sample context so a broken template is found before a client sees it.

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
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

impl Templates {
    /// Load and compile every `*.j2` under `dir`; check the required ones exist.
    pub fn load(dir: &Path) -> Result<Templates, Vec<Diagnostic>> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(
            |name| {
                if name.ends_with(".html.j2") { AutoEscape::Html } else { AutoEscape::None }
            },
        );
        let mut errors = Vec::new();
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                return Err(vec![Diagnostic::file(dir, format!("cannot read the templates folder: {e}"))]);
            }
        };
        let mut names = Vec::new();
        for entry in rd.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
                continue;
            };
            if !name.ends_with(".j2") {
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(src) => {
                    if let Err(e) = env.add_template_owned(name.clone(), src.clone()) {
                        errors.push(template_error(&path, &src, &e));
                    } else {
                        names.push(name);
                    }
                }
                Err(e) => errors.push(Diagnostic::file(&path, format!("cannot read: {e}"))),
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
        let t = Templates { env };
        if errors.is_empty() {
            // Render each with a sample context: undefined variables and
            // filter errors surface now, not in front of a client.
            for r in REQUIRED {
                if let Err(e) = t.render(r, &sample_context()) {
                    errors.push(Diagnostic::file(
                        &dir.join(format!("{r}.*.j2")),
                        format!("renders with an error: {e:#}"),
                    ));
                }
            }
        }
        if errors.is_empty() { Ok(t) } else { Err(errors) }
    }

    /// Render mail `name` with `ctx`.
    pub fn render<C: Serialize>(&self, name: &str, ctx: &C) -> Result<Rendered, minijinja::Error> {
        let value = minijinja::Value::from(minijinja::value::Serde(ctx));
        let render =
            |part: &str| self.env.get_template(&format!("{name}.{part}.j2")).and_then(|t| t.render(value.clone()));
        let subject = render("subject")?.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
        let text = render("txt")?;
        let html = match self.env.get_template(&format!("{name}.html.j2")) {
            Ok(t) => Some(t.render(value.clone())?),
            Err(e) if e.kind() == minijinja::ErrorKind::TemplateNotFound => None,
            Err(e) => return Err(e),
        };
        Ok(Rendered { subject, text, html })
    }
}

fn template_error(path: &Path, src: &str, e: &minijinja::Error) -> Diagnostic {
    let line = e.line().unwrap_or(0);
    let mut d = Diagnostic::file(path, e.detail().unwrap_or("syntax error").to_string());
    if line > 0 {
        d.line = line;
        d.col = 1;
    }
    let _ = src;
    d
}

/// A context with every variable the shipped templates use.
pub fn sample_context() -> serde_json::Value {
    let order = serde_json::json!({
        "id": "OC-2026-000123", "client": "andestextil", "stage": "abierta", "regime": "10",
        "regime_name": "Importación para el consumo",
        "references": {"bl": ["MEDUHG271461"], "container": ["CSQU3054383"]},
        "documents": [{"kind": "factura_comercial", "kind_name": "Factura comercial", "name": "Factura AT-5521.pdf", "unreadable": null}],
        "missing": ["documento_transporte"], "missing_names": ["Documento de transporte (BL / AWB)"],
        "eta": "09/12/2026", "vessel": "SANTOS EXPRESS", "opened_at": "01/12/2026 09:22",
        "events": [{"at": "01/12/2026 09:22", "what": "Orden abierta"}],
    });
    serde_json::json!({
        "desk": {"name": "Operaciones CLI", "address": "ops@cli.test"},
        "client": {"id": "andestextil", "name": "Andes Textil S.A.C."},
        "sender": {"name": "Patricia Huamán", "address": "phuaman@andestextil.test"},
        "mail": {"subject": "Envío de documentos", "date": "01/12/2026 09:22", "excerpt": "Texto del cliente"},
        "order": order.clone(),
        "new_order": true,
        "added": [{"kind": "factura_comercial", "kind_name": "Factura comercial", "name": "Factura AT-5521.pdf", "unreadable": null}],
        "orders": [order],
        "more": 0,
        "results": ["OK: reclamo R-000045 resuelto"],
        "overdue": false,
        "percent": 50,
        "hours_left": "12.0",
        "task": {"id": "T-000004", "summary": "Alerta: tributos", "due_at": "04/12/2026 18:00", "order": null},
        "days_left": 2,
        "command": "#hecho T-000004",
        "digest": {"assistant": "asistente1@cli.test",
                   "vencidas": [{"id": "T-000004", "why": "Alerta: tributos (vence 04/12/2026 18:00)"}],
                   "vencen_hoy": [], "proximas": [], "nuevas_ordenes": [{"id": "OC-2026-000123", "why": "andestextil: Envío de documentos"}],
                   "documentos_pendientes": [], "reclamos_abiertos": [], "por_clasificar": []},
        "reclamo": {"id": "R-000045", "due_at": "03/12/2026 14:00", "received_at": "01/12/2026 17:00", "excerpt": "Texto", "from": "phuaman@andestextil.test", "order": "OC-2026-000123", "new": true, "subject": "Sobreestadía", "state": "escalado"},
        "executive": "cvega@cli.test",
        "source": {"where": "operaciones@cli.test@imap.cli.test:993/INBOX", "why": "the server refused the login", "fix": "Revise la contraseña"},
        "now": "01/12/2026 09:22",
    })
}
