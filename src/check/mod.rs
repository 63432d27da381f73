//! `buzon check`: the configured mailbox and outbox tested step by step —
//! the host resolves, the port answers, TLS is what the config says (the
//! mismatch named: implicit TLS where plain text was expected, or the other
//! way), the certificate is trusted and for the host, the login or token is
//! taken, the folders exist or can be created; for SMTP the greeting, EHLO,
//! STARTTLS, AUTH and, on request, a test mail. A Maildir or a folder of
//! `.eml` files is checked too (it exists and is writable).
//!
//! Each step is one [`Step`]: passed, failed (with a one-line fix) or
//! skipped (with the reason). A failed step ends its part (the mailbox, the
//! outbox): what follows depends on it. The steps use the source's and the
//! sink's own building blocks (`tls::connector`, the IMAP login of
//! `mailbox::imap::connect`, lettre with the sink's STARTTLS parameters, the
//! OAuth2 token client), so a green check means the daemon connects the
//! same way.
//!
//! A one-use refresh token is never burnt: while the daemon holds the store
//! the token steps are skipped; otherwise the token saved in the store is
//! used and a rotated one saved there, exactly as the daemon does
//! (`tokens.rs`).
//!
//! | file | what |
//! |---|---|
//! | `net.rs` | address, TCP, what the port speaks, the TLS handshake and certificate |
//! | `imap.rs` | greeting, STARTTLS, login, folders |
//! | `smtp.rs` | greeting, EHLO, STARTTLS, AUTH, the test mail |
//! | `tokens.rs` | token sources for the check; the store lock |
//! | `files.rs` | a Maildir, a folder of `.eml` files |

mod files;
mod imap;
mod net;
mod smtp;
mod tokens;

use serde::Serialize;

use crate::config::{Config, Mailbox, Outbox};

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Not tried, with the reason (the daemon holds the store; nothing to test).
    Skip,
}

/// One step of the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `mailbox` or `outbox`.
    pub part: &'static str,
    /// Stable name for scripts: `address`, `tcp`, `tls`, `certificate`,
    /// `greeting`, `starttls`, `token`, `login`, `folder`,
    /// `processed_folder`, `quarantine_folder`, `sent_folder`, `ehlo`,
    /// `auth`, `send`, `maildir`, `files`.
    pub step: &'static str,
    pub status: Status,
    /// What was found, for people.
    pub detail: String,
    /// For a failure: what to do, one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The name of a step on screen.
fn label(step: &str) -> &str {
    match step {
        "tcp" => "TCP",
        "tls" => "TLS",
        "starttls" => "STARTTLS",
        "token" => "OAuth2 token",
        "processed_folder" => "processed",
        "quarantine_folder" => "quarantine",
        "sent_folder" => "sent",
        "ehlo" => "EHLO",
        "auth" => "AUTH",
        "send" => "test mail",
        "maildir" => "Maildir",
        "files" => "folder",
        other => other,
    }
}

impl Step {
    /// The step as one line: `✓ mailbox  TCP           127.0.0.1:143 answers`,
    /// a failure with ` — fix: …`.
    pub fn line(&self) -> String {
        let mark = match self.status {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Skip => "–",
        };
        let mut s = format!("{mark} {:<8} {:<13} {}", self.part, label(self.step), self.detail);
        if let Some(fix) = &self.fix {
            s.push_str(" — fix: ");
            s.push_str(fix);
        }
        s
    }
}

/// The steps so far; each is handed to `on_step` as it ends (the CLI
/// prints it at once: a slow step is seen waiting).
pub struct Report<'a> {
    steps: Vec<Step>,
    on_step: Box<dyn FnMut(&Step) + 'a>,
}

impl<'a> Report<'a> {
    pub fn new(on_step: impl FnMut(&Step) + 'a) -> Report<'a> {
        Report { steps: Vec::new(), on_step: Box::new(on_step) }
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn count(&self, status: Status) -> usize {
        self.steps.iter().filter(|s| s.status == status).count()
    }

    fn push(&mut self, step: Step) {
        (self.on_step)(&step);
        self.steps.push(step);
    }
}

/// A failed step: the rest of its part is not tried.
#[derive(Debug)]
pub(crate) struct Failed;

/// A step's outcome inside a part (`?` ends the part at a failure).
pub(crate) type Flow<T> = Result<T, Failed>;

/// The steps of one part (`mailbox` or `outbox`).
pub(crate) struct Part<'r, 'a> {
    pub name: &'static str,
    report: &'r mut Report<'a>,
}

impl Part<'_, '_> {
    /// `[mailbox]` / `[outbox]`, for fixes.
    pub fn table(&self) -> String {
        format!("[{}]", self.name)
    }

    pub fn pass(&mut self, step: &'static str, detail: impl Into<String>) {
        self.report.push(Step { part: self.name, step, status: Status::Pass, detail: detail.into(), fix: None });
    }

    /// Record a failure; the caller returns the [`Failed`] to end the part.
    pub fn fail(&mut self, step: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Failed {
        self.report.push(Step {
            part: self.name,
            step,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
        Failed
    }

    pub fn skip(&mut self, step: &'static str, detail: impl Into<String>) {
        self.report.push(Step { part: self.name, step, status: Status::Skip, detail: detail.into(), fix: None });
    }
}

/// What to check besides the connection.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Send a short test mail to this address through the outbox.
    pub send_to: Option<String>,
}

/// Check the mailbox, then the outbox.
pub async fn run(config: &Config, opts: &Options, report: &mut Report<'_>) {
    let mut tokens = tokens::Tokens::new(&config.store.path);
    {
        let mut p = Part { name: "mailbox", report };
        let _ = match &config.mailbox {
            Mailbox::Imap(m) => imap::check(m, &mut tokens, &mut p).await,
            Mailbox::Maildir { path, create, .. } => files::maildir(path, *create, &mut p),
        };
    }
    let mut p = Part { name: "outbox", report };
    let _ = match &config.outbox {
        Outbox::Smtp(o) => smtp::check(o, &config.desk, opts.send_to.as_deref(), &mut tokens, &mut p).await,
        Outbox::Files { path } => files::outbox(path, opts.send_to.as_deref(), &mut p),
    };
}

/// What is checked, for the line above the steps.
pub fn describe(config: &Config) -> String {
    let mailbox = match &config.mailbox {
        Mailbox::Imap(m) => format!("IMAP {} (tls = {}, auth = {})", m.place(), tls_name(m.tls), auth_name(&m.auth)),
        Mailbox::Maildir { path, .. } => format!("the Maildir {}", path.display()),
    };
    let outbox = match &config.outbox {
        Outbox::Smtp(o) => format!(
            "SMTP {}:{} (tls = {}, {})",
            o.host,
            o.port,
            tls_name(o.tls),
            match &o.user {
                Some(u) => format!("AUTH as {u} by {}", auth_name(&o.auth)),
                None => "no AUTH".into(),
            }
        ),
        Outbox::Files { path } => format!("the folder {}", path.display()),
    };
    format!("mailbox: {mailbox}; outbox: {outbox}")
}

fn tls_name(t: crate::tls::Tls) -> &'static str {
    match t {
        crate::tls::Tls::None => "none",
        crate::tls::Tls::StartTls => "starttls",
        crate::tls::Tls::Implicit => "implicit",
    }
}

fn auth_name(a: &crate::config::Auth) -> &'static str {
    match a {
        crate::config::Auth::Password(_) => "password",
        crate::config::Auth::OAuth2(_) => "oauth2",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_one_line_with_its_mark_and_a_fix_for_a_failure() {
        let step = |status, step, fix: Option<&str>| Step {
            part: "mailbox",
            step,
            status,
            detail: "port 143 speaks plain text".into(),
            fix: fix.map(str::to_string),
        };
        let table = [
            (step(Status::Pass, "tcp", None), "✓ mailbox  TCP           port 143 speaks plain text"),
            (
                step(Status::Fail, "tls", Some("set tls = \"starttls\" in [mailbox]")),
                "✗ mailbox  TLS           port 143 speaks plain text — fix: set tls = \"starttls\" in [mailbox]",
            ),
            (step(Status::Skip, "token", None), "– mailbox  OAuth2 token  port 143 speaks plain text"),
        ];
        for (s, want) in table {
            assert_eq!(s.line(), want);
            assert!(!s.line().contains('\n'));
        }
        let json = serde_json::to_value(step(Status::Fail, "tls", Some("x"))).unwrap_or_default();
        assert_eq!(json["status"], "fail");
        assert_eq!(json["step"], "tls");
        assert_eq!(json["fix"], "x");
        let json = serde_json::to_value(step(Status::Pass, "tls", None)).unwrap_or_default();
        assert!(json.get("fix").is_none(), "{json}");
    }

    #[test]
    fn a_failure_ends_the_part_and_every_step_reaches_the_printer() {
        let mut printed = Vec::new();
        {
            let mut report = Report::new(|s: &Step| printed.push(s.step));
            let mut p = Part { name: "outbox", report: &mut report };
            let flow: Flow<()> = (|| {
                p.pass("address", "ok");
                Err(p.fail("tcp", "connection refused", "check port"))?;
                p.pass("greeting", "never reached");
                Ok(())
            })();
            assert!(flow.is_err());
            p.skip("send", "nothing to send");
            assert_eq!(report.count(Status::Fail), 1);
            assert_eq!(report.count(Status::Pass), 1);
            assert_eq!(report.steps().len(), 3);
        }
        assert_eq!(printed, ["address", "tcp", "send"]);
    }
}
