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
//! | [`mail`] | parse: raw bytes → [`mail::Mail`]; never panics, records problems |
//! | [`rules`] | classify: rule files → compiled `RegexSet`s → [`rules::Classification`] (pure) |
//! | [`refs`] | reference extraction + check digits (AWB, container, RUC, IMO, DAM, BL, invoice) |
//! | [`desk`] | decide: business logic and its data from `rules/` (pure) |
//! | [`config`], [`clients`] | `config.toml` and the clients file, validated with `file:line:col` errors |
//! | [`diag`] | the `file:line:col: message` diagnostic shared by every loader |
//! | [`text`] | case- and accent-folding for matching |
//! | [`mailbox`] | source: a Maildir, or an IMAP folder (IDLE, cursor, MOVE, reconnect) |
//! | [`pipeline`], [`store`] | one message's transaction; sled behind one module |
//! | [`outbox`] | sink: `.eml` files, or SMTP (one envelope per recipient, retries) |
//! | [`scheduler`], [`digest`], [`calendar`] | time-driven work in business time |
//! | [`daemon`] | wires source, pipeline, outbox, signals and the read socket |
//! | [`cli`] | the command line (one file per command) |
//!
//! Guarantees (see DESIGN.md): no mail lost or processed twice; no mail
//! loops; nobody sees what isn't theirs; bad input gets a clear outcome,
//! never a crash; time is business time in America/Lima; clean stop.

#![forbid(unsafe_code)]

pub mod app;
pub mod calendar;
pub mod cli;
pub mod clients;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod dates;
pub mod desk;
pub mod diag;
pub mod mail;
pub mod mailbox;
pub mod outbox;
pub mod pipeline;
pub mod refs;
pub mod rules;
pub mod scheduler;
pub mod store;
pub mod templates;
pub mod text;
