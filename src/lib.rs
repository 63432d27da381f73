//! # buzon
//!
//! An email-driven automation agent for the customer-service desk of a
//! customs brokerage in Peru. One message travels one way through the house:
//!
//! ```text
//!  source ──► parse ──► classify ──► decide ──► store (one transaction) ──► outbox ──► sink
//!  (Maildir / IMAP)  (mail)     (rules)     (desk)    (store: sled)                  (outbox)
//!                                              ▲
//!                        scheduler (clock) ────┘  deadlines, digests, scheduled status
//! ```
//!
//! | module | stage / role |
//! |---|---|
//! | [`mailbox`] | source: a Maildir, or an IMAP folder (IDLE, pure cursor decision, MOVE, typed errors), feeding a bounded channel |
//! | [`mail`] | parse: raw bytes → [`mail::Mail`]; never panics, records problems |
//! | [`rules`] | classify: rule files → compiled `RegexSet`s → [`rules::Classification`] (pure); the desk's checklists |
//! | [`refs`] | reference extraction + check digits (AWB, container, RUC, IMO, DAM, BL, invoice) |
//! | [`desk`] | decide: one file per label, time jobs too; effects as values (pure; reads through its `View`) |
//! | [`pipeline`] | one message: prepare (parse, classify, keep documents) and commit (decide + one transaction) |
//! | [`store`] | sled: the only place that knows the layout; implements the desk's `View`, applies its effects |
//! | [`oauth2`] | OAuth2 tokens for IMAP/SMTP: grants, refresh, rotated refresh tokens saved before use, XOAUTH2/OAUTHBEARER |
//! | [`outbox`] | sink: `.eml` files, or SMTP (one envelope per recipient, retries) |
//! | [`scheduler`] | asks the store what is due, hands it to the desk, commits; its runner sleeps until the next instant |
//! | [`daemon`] | only wires: source task, preparer, committer, outbox worker, runner, signals, read socket |
//! | [`query`] | the read commands and the daemon's socket protocol |
//! | [`replay`] | `rules replay`: processed mail classified again with the rules on disk, before → after |
//! | [`config`], [`clients`], [`app`] | the business's files, validated at load into typed values (`file:line:col`) |
//! | [`calendar`], [`clock`] | business time in America/Lima; the one reader of wall time |
//! | [`backoff`], [`tls`] | the one retry policy; the one TLS connector |
//! | [`diag`], [`text`], [`templates`] | diagnostics, accent folding, minijinja templates |
//! | [`logs`], [`metrics`], [`http`] | operations: stderr/journald/JSON logs, Prometheus metrics, `/metrics` and `/healthz` |
//! | [`backup`] | consistent backup archives, restore into a new instance, verification |
//! | [`check`] | `buzon check`: the mailbox and outbox tested step by step, each with its fix |
//! | [`cli`] | the command line (one file per command) |
//!
//! See ARCHITECTURE.md for the rooms, the one-way walk of a mail and of a
//! due instant, and where a new label, command or scheduled job goes.
//!
//! Guarantees (see DESIGN.md): no mail lost or processed twice; no mail
//! loops; nobody sees what isn't theirs; bad input gets a clear outcome,
//! never a crash; time is business time in America/Lima; clean stop.

#![forbid(unsafe_code)]

pub mod app;
pub mod backoff;
pub mod backup;
pub mod calendar;
pub mod check;
pub mod cli;
pub mod clients;
pub mod clock;
pub mod command_line;
pub mod config;
pub mod daemon;
pub mod dates;
pub mod desk;
pub mod diag;
pub mod http;
pub mod logs;
pub mod mail;
pub mod mailbox;
pub mod metrics;
pub mod oauth2;
pub mod outbox;
pub mod pipeline;
pub mod query;
pub mod refs;
pub mod replay;
pub mod rules;
pub mod scheduler;
pub mod store;
pub mod templates;
pub mod text;
pub mod tls;
