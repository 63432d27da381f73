//! An in-memory [`View`] for the desk's table tests: records in maps, and
//! `apply` to play a decision's effects into it (so a test can decide mail
//! after mail, or a mail and then the clock).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::effect::{Effect, JobKey, ReplyCounter, ReplyHour, Sequence, Subject};
use super::model::{Order, Outgoing, Reclamo, Task, ThreadLink, Undo};
use super::view::{DigestRecords, View, ViewResult};

#[derive(Debug, Default, Clone)]
pub struct Memory {
    pub orders: BTreeMap<String, Order>,
    pub reclamos: BTreeMap<String, Reclamo>,
    pub tasks: BTreeMap<String, Task>,
    pub outbox: BTreeMap<String, Outgoing>,
    /// The formatted bytes of queued mails.
    pub outbox_bytes: BTreeMap<String, Vec<u8>>,
    pub threads: BTreeMap<String, ThreadLink>,
    pub sequences: BTreeMap<Sequence, u64>,
    pub replies: BTreeMap<(ReplyCounter, ReplyHour), u32>,
    pub jobs: BTreeMap<JobKey, DateTime<Utc>>,
    pub schedule: BTreeMap<Subject, DateTime<Utc>>,
    pub refusals: BTreeSet<String>,
    pub undo: BTreeMap<String, Undo>,
    pub originals: BTreeMap<String, Vec<u8>>,
}

impl Memory {
    /// Apply a decision's effects, as the store would.
    pub fn apply(&mut self, effects: &[Effect]) {
        for e in effects {
            match e {
                Effect::SaveOrder(o) => {
                    self.orders.insert(o.id.clone(), o.clone());
                }
                Effect::SaveReclamo(r) => {
                    self.reclamos.insert(r.id.clone(), r.clone());
                }
                Effect::SaveTask(t) => {
                    self.tasks.insert(t.id.clone(), t.clone());
                }
                Effect::LinkThread { message_id, link } => {
                    let old = self.threads.remove(message_id).unwrap_or_default();
                    let merged = ThreadLink {
                        order: link.order.clone().or(old.order),
                        reclamo: link.reclamo.clone().or(old.reclamo),
                    };
                    self.threads.insert(message_id.clone(), merged);
                }
                Effect::Queue { mail, bytes } => {
                    self.outbox.insert(mail.id.clone(), mail.clone());
                    self.outbox_bytes.insert(mail.id.clone(), bytes.clone());
                }
                Effect::UpdateOutgoing(m) => {
                    self.outbox.insert(m.id.clone(), m.clone());
                }
                Effect::RefusalNoticed { id } => {
                    self.refusals.remove(id);
                }
                Effect::CountReply { counter, hour } => {
                    *self.replies.entry((counter.clone(), *hour)).or_default() += 1;
                }
                Effect::JobDone { key, at } => {
                    self.jobs.insert(key.clone(), *at);
                }
                Effect::Schedule { subject, at } => match at {
                    Some(at) => {
                        self.schedule.insert(subject.clone(), *at);
                    }
                    None => {
                        self.schedule.remove(subject);
                    }
                },
                Effect::Sequence { name, value } => {
                    self.sequences.insert(name.clone(), *value);
                }
                Effect::SetThread { message_id, link } => match link {
                    Some(l) => {
                        self.threads.insert(message_id.clone(), l.clone());
                    }
                    None => {
                        self.threads.remove(message_id);
                    }
                },
                Effect::SaveUndo(u) => {
                    self.undo.insert(u.id.clone(), u.clone());
                }
                Effect::KeepOriginal { sha256, bytes } => {
                    self.originals.insert(sha256.clone(), bytes.clone());
                }
                Effect::RequestDone { .. } | Effect::Dossier(_) => {}
            }
        }
    }

    /// Subjects due at `now`, earliest first.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<Subject> {
        let mut v: Vec<(&DateTime<Utc>, &Subject)> =
            self.schedule.iter().filter(|(_, at)| **at <= now).map(|(s, at)| (at, s)).collect();
        v.sort();
        v.into_iter().map(|(_, s)| s.clone()).collect()
    }
}

impl View for Memory {
    fn order(&self, id: &str) -> ViewResult<Option<Order>> {
        Ok(self.orders.get(id).cloned())
    }

    fn orders_by_ref(&self, kind: &str, value: &str) -> ViewResult<Vec<Order>> {
        Ok(self
            .orders
            .values()
            .filter(|o| o.references.get(kind).is_some_and(|v| v.contains(value)))
            .cloned()
            .collect())
    }

    fn open_orders_of_client(&self, client: &str, limit: usize) -> ViewResult<(Vec<Order>, usize)> {
        let open: Vec<&Order> = self.orders.values().filter(|o| o.client == client && o.is_open()).collect();
        Ok((open.iter().rev().take(limit).map(|o| (*o).clone()).collect(), open.len()))
    }

    fn reclamo(&self, id: &str) -> ViewResult<Option<Reclamo>> {
        Ok(self.reclamos.get(id).cloned())
    }

    fn task(&self, id: &str) -> ViewResult<Option<Task>> {
        Ok(self.tasks.get(id).cloned())
    }

    fn thread(&self, message_id: &str) -> ViewResult<Option<ThreadLink>> {
        Ok(self.threads.get(message_id).cloned())
    }

    fn sequence(&self, name: &Sequence) -> ViewResult<u64> {
        Ok(self.sequences.get(name).copied().unwrap_or(0))
    }

    fn replies_in_hour(&self, counter: &ReplyCounter, hour: ReplyHour) -> ViewResult<u32> {
        Ok(self.replies.get(&(counter.clone(), hour)).copied().unwrap_or(0))
    }

    fn replies_in_day(&self, counter: &ReplyCounter, hour: ReplyHour) -> ViewResult<u32> {
        Ok(self.replies.iter().filter(|((c, h), _)| c == counter && h.date == hour.date).map(|(_, n)| *n).sum())
    }

    fn outgoing(&self, id: &str) -> ViewResult<Option<Outgoing>> {
        Ok(self.outbox.get(id).cloned())
    }

    fn job_at(&self, key: &JobKey) -> ViewResult<Option<DateTime<Utc>>> {
        Ok(self.jobs.get(key).copied())
    }

    fn undo(&self, id: &str) -> ViewResult<Option<Undo>> {
        Ok(self.undo.get(id).cloned())
    }

    fn original(&self, sha256: &str) -> ViewResult<Option<Vec<u8>>> {
        Ok(self.originals.get(sha256).cloned())
    }

    fn all_orders(&self) -> ViewResult<Vec<Order>> {
        Ok(self.orders.values().cloned().collect())
    }

    fn digest_records(&self) -> ViewResult<DigestRecords> {
        Ok(DigestRecords {
            open_orders: self.orders.values().filter(|o| o.is_open()).cloned().collect(),
            reclamos: self.reclamos.values().cloned().collect(),
            tasks: self.tasks.values().cloned().collect(),
        })
    }
}
