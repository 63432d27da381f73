//! The few things a person does by hand at the server — hold, release or
//! cancel outgoing mail (`buzon outbox hold ID|--all` …), send a mail
//! through the desk again (`buzon reprocess ID`) — so that a bad rule's
//! replies can be stopped while SMTP is down or before the next round.
//! Without a daemon the command does it itself; with one, over the socket:
//! the outbox marks are written at once (the worker never sends held or
//! cancelled mail, and a send attempt never releases one), while a
//! reprocess is handed to the daemon's committer, the store's single
//! writer, which does it within moments.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Answer, Wake};
use crate::app::App;
use crate::desk::model::{Mark, OutboxState};
use crate::store::{Request, Store};

/// What to do to outgoing mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutboxAction {
    Hold,
    Release,
    Cancel,
}

/// A person's hand on the desk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Control {
    /// `id: None` — every mail in the state the action applies to now.
    Outbox {
        action: OutboxAction,
        id: Option<String>,
        by: String,
        why: String,
    },
    Reprocess {
        target: String,
        by: String,
    },
}

fn outbox(store: &Store, action: OutboxAction, id: &Option<String>, mark: &Mark) -> anyhow::Result<(String, bool)> {
    let control = match action {
        OutboxAction::Hold => crate::store::Control::Hold,
        OutboxAction::Release => crate::store::Control::Release,
        OutboxAction::Cancel => crate::store::Control::Cancel,
    };
    let ids = match (id, action) {
        (Some(id), _) => vec![id.clone()],
        (None, OutboxAction::Hold) => store.outgoing_in(OutboxState::Pendiente)?,
        (None, OutboxAction::Release) => store.outgoing_in(OutboxState::Retenido)?,
        (None, OutboxAction::Cancel) => anyhow::bail!("outbox cancel takes one ID at a time"),
    };
    let verb = match action {
        OutboxAction::Hold => "held",
        OutboxAction::Release => "released",
        OutboxAction::Cancel => "cancelled",
    };
    let mut out = String::new();
    let (mut done, mut refused) = (0, 0);
    for id in &ids {
        match store.control_outgoing(id, &control, mark)? {
            Ok(m) => {
                done += 1;
                out.push_str(&format!("{verb} {}  ({} → {})\n", m.id, m.kind, m.to.join(", ")));
            }
            Err(why) => {
                refused += 1;
                out.push_str(&format!("not {verb}: {why}\n"));
            }
        }
    }
    store.flush()?;
    if ids.is_empty() {
        out.push_str(&format!("nothing to be {verb}\n"));
    } else if ids.len() > 1 {
        out.push_str(&format!("{done} {verb}, {refused} left as they were\n"));
    }
    Ok((out, refused == 0))
}

/// Do it here (no daemon runs: this process holds the store).
pub fn answer(store: &Store, app: &App, c: &Control, now: DateTime<Utc>) -> anyhow::Result<Answer> {
    match c {
        Control::Outbox { action, id, by, why } => {
            let (text, ok) = outbox(store, *action, id, &Mark { by: by.clone(), at: now, why: why.clone() })?;
            if !ok && id.is_some() {
                anyhow::bail!("{}", text.trim().trim_start_matches("not "));
            }
            Ok(Answer::ok(text))
        }
        Control::Reprocess { target, by } => {
            let outcome = crate::pipeline::reprocess(app, store, target, by, now);
            store.flush()?;
            match outcome {
                Ok(lines) => Ok(Answer::ok(format!(
                    "reprocessed {target}: {}\n(what it sends goes with the next `buzon run`)\n",
                    lines.join("; ")
                ))),
                Err(e) => anyhow::bail!("{e}"),
            }
        }
    }
}

/// Do it for the running daemon (asked over its socket).
pub fn answer_live(store: &Store, _app: &App, c: &Control, now: DateTime<Utc>, wake: &Wake) -> anyhow::Result<Answer> {
    match c {
        Control::Outbox { action, id, by, why } => {
            let (text, ok) = outbox(store, *action, id, &Mark { by: by.clone(), at: now, why: why.clone() })?;
            wake.outbox.notify_one();
            if !ok && id.is_some() {
                anyhow::bail!("{}", text.trim().trim_start_matches("not "));
            }
            Ok(Answer::ok(text))
        }
        Control::Reprocess { target, by } => {
            store.request_reprocess(&Request { target: target.clone(), by: by.clone(), at: now })?;
            store.flush()?;
            wake.scheduler.notify_one();
            Ok(Answer::ok(format!(
                "{target} handed to the running daemon: it goes through the desk within moments (see `buzon tasks list` and the log)\n"
            )))
        }
    }
}
