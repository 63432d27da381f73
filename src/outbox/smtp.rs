//! The SMTP sink (lettre, blocking, pooled connections). Each recipient gets
//! its own envelope, so one refused address never stops the others; the
//! stored bytes are sent as they are (`send_raw`), so a retry is
//! byte-identical (same Message-ID). The envelope sender is the desk's
//! address: bounces come back to the shared mailbox.

use std::time::Duration;

use anyhow::Context;
use lettre::Transport;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{PoolConfig, SmtpTransport};

use super::{Outcome, Sink};
use crate::config::Config;

pub struct SmtpSink {
    transport: SmtpTransport,
    from: lettre::Address,
    /// The server could not be reached on the last attempt.
    down: bool,
}

impl SmtpSink {
    pub fn from_config(c: &Config) -> anyhow::Result<SmtpSink> {
        let o = &c.raw.outbox;
        let host = o.host.clone().context("[outbox] kind \"smtp\" needs `host`")?;
        let tls = o.tls.as_ref().map(|t| t.get_ref().as_str()).unwrap_or("none");
        let port = o.port.unwrap_or(match tls {
            "implicit" => 465,
            "starttls" => 587,
            _ => 25,
        });
        let mut b = SmtpTransport::builder_dangerous(host.clone())
            .port(port)
            .timeout(Some(Duration::from_secs(o.timeout_seconds.max(1))))
            .pool_config(PoolConfig::new().max_size(2).idle_timeout(Duration::from_secs(50)));
        if tls != "none" {
            let mut params = TlsParameters::builder(host.clone());
            if let Some(ca) = &o.ca_file {
                let pem = std::fs::read(ca).with_context(|| format!("cannot read the CA file {}", ca.display()))?;
                let cert = Certificate::from_pem(&pem).with_context(|| format!("bad CA file {}", ca.display()))?;
                params = params.add_root_certificate(cert);
            }
            let params = params.build_rustls().context("SMTP TLS set-up")?;
            b = b.tls(if tls == "implicit" { Tls::Wrapper(params) } else { Tls::Required(params) });
        } else {
            b = b.tls(Tls::None);
        }
        if let Some(user) = &o.user {
            let password = crate::config::secret(&o.password, &o.password_env, &o.password_file)
                .map_err(|e| anyhow::anyhow!("[outbox] {e}"))?
                .unwrap_or_default();
            b = b.credentials(Credentials::new(user.clone(), password));
        }
        let from =
            c.desk_address().parse().with_context(|| format!("the desk address {} is not usable", c.desk_address()))?;
        Ok(SmtpSink { transport: b.build(), from, down: false })
    }

    fn send_one(&mut self, rcpt: &str, bytes: &[u8]) -> Outcome {
        let to: lettre::Address = match rcpt.parse() {
            Ok(a) => a,
            Err(e) => return Outcome::Rejected(format!("not a usable address: {e}")),
        };
        let envelope = match Envelope::new(Some(self.from.clone()), vec![to]) {
            Ok(e) => e,
            Err(e) => return Outcome::Rejected(format!("bad envelope: {e}")),
        };
        match self.transport.send_raw(&envelope, bytes) {
            Ok(_) => {
                self.down = false;
                Outcome::Delivered
            }
            Err(e) if e.is_permanent() => Outcome::Rejected(e.to_string()),
            Err(e) => {
                // No answer at all (refused, timed out, TLS): the server is down.
                self.down = !e.is_transient();
                Outcome::Retry(e.to_string())
            }
        }
    }
}

impl Sink for SmtpSink {
    fn send(&mut self, _id: &str, to: &[String], bytes: &[u8]) -> Vec<Outcome> {
        let mut out = Vec::with_capacity(to.len());
        for rcpt in to {
            if self.down {
                out.push(Outcome::Retry("the SMTP server is unreachable".into()));
                continue;
            }
            out.push(self.send_one(rcpt, bytes));
        }
        out
    }

    fn down(&self) -> bool {
        self.down
    }

    fn reset(&mut self) {
        self.down = false;
    }
}
