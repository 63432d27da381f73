//! A decision in progress. Handlers read records through the draft, change
//! them and put them back: every change of one decision to one record lands
//! on the same working copy, so two handlers of one mail (documents and a
//! carrier notice in a supplier's draft BL) compose instead of the last save
//! winning. [`Draft::finish`] turns the working copies into one save effect
//! per record, with its schedule entry.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::effect::{Effect, Sequence};
use super::model::{Order, Outgoing, Reclamo, Task, TaskState};
use super::view::{View, ViewResult};
use super::{Decision, Desk, deadlines};

/// One decision's working state.
pub struct Draft<'a> {
    pub desk: &'a Desk<'a>,
    pub view: &'a dyn View,
    pub now: DateTime<Utc>,
    orders: BTreeMap<String, Order>,
    reclamos: BTreeMap<String, Reclamo>,
    tasks: BTreeMap<String, Task>,
    outgoing: BTreeMap<String, Outgoing>,
    effects: Vec<Effect>,
    outcome: Vec<String>,
    sequences: BTreeMap<Sequence, u64>,
    /// Automatic replies queued by this decision (rate limits).
    pub(super) replies_queued: u32,
    /// Of which to strangers (the desk-wide cap).
    pub(super) stranger_replies_queued: u32,
    /// Mails composed by this decision (their ids are numbered).
    pub(super) mails: u32,
    /// Outbox ids of this decision's mails start with it (the incoming
    /// mail's SHA-256 prefix), unless a letter names its own id.
    pub(super) id_base: String,
    /// Schedule saved records at their first step after this instant (a
    /// time job that handled `now`), or at their earliest step (`None`).
    schedule_after: Option<DateTime<Utc>>,
}

impl<'a> Draft<'a> {
    pub fn new(desk: &'a Desk<'a>, view: &'a dyn View, now: DateTime<Utc>) -> Draft<'a> {
        Draft {
            desk,
            view,
            now,
            orders: BTreeMap::new(),
            reclamos: BTreeMap::new(),
            tasks: BTreeMap::new(),
            outgoing: BTreeMap::new(),
            effects: Vec::new(),
            outcome: Vec::new(),
            sequences: BTreeMap::new(),
            replies_queued: 0,
            stranger_replies_queued: 0,
            mails: 0,
            id_base: String::new(),
            schedule_after: None,
        }
    }

    /// A draft for time-driven work done at `now`.
    pub fn for_time(desk: &'a Desk<'a>, view: &'a dyn View, now: DateTime<Utc>) -> Draft<'a> {
        Draft { schedule_after: Some(now), ..Draft::new(desk, view, now) }
    }

    /// One line of what was done (processed record, logs).
    pub fn note(&mut self, line: impl Into<String>) {
        self.outcome.push(line.into());
    }

    pub fn push(&mut self, e: Effect) {
        self.effects.push(e);
    }

    /// The next number of a sequence.
    pub fn next(&mut self, name: Sequence) -> ViewResult<u64> {
        let cur = match self.sequences.get(&name) {
            Some(v) => *v,
            None => self.view.sequence(&name)?,
        };
        self.sequences.insert(name, cur + 1);
        Ok(cur + 1)
    }

    pub fn order(&self, id: &str) -> ViewResult<Option<Order>> {
        match self.orders.get(id) {
            Some(o) => Ok(Some(o.clone())),
            None => self.view.order(id),
        }
    }

    pub fn save_order(&mut self, o: Order) {
        self.orders.insert(o.id.clone(), o);
    }

    pub fn reclamo(&self, id: &str) -> ViewResult<Option<Reclamo>> {
        match self.reclamos.get(id) {
            Some(r) => Ok(Some(r.clone())),
            None => self.view.reclamo(id),
        }
    }

    pub fn save_reclamo(&mut self, r: Reclamo) {
        self.reclamos.insert(r.id.clone(), r);
    }

    pub fn task(&self, id: &str) -> ViewResult<Option<Task>> {
        match self.tasks.get(id) {
            Some(t) => Ok(Some(t.clone())),
            None => self.view.task(id),
        }
    }

    pub fn save_task(&mut self, t: Task) {
        self.tasks.insert(t.id.clone(), t);
    }

    pub fn outgoing(&self, id: &str) -> ViewResult<Option<Outgoing>> {
        match self.outgoing.get(id) {
            Some(o) => Ok(Some(o.clone())),
            None => self.view.outgoing(id),
        }
    }

    pub fn save_outgoing(&mut self, o: Outgoing) {
        self.outgoing.insert(o.id.clone(), o);
    }

    /// Orders holding reference `kind`=`value`: the stored ones as this
    /// decision has changed them, and the ones it opened.
    pub fn orders_by_ref(&self, kind: &str, value: &str) -> ViewResult<Vec<Order>> {
        let mut out: Vec<Order> = self
            .view
            .orders_by_ref(kind, value)?
            .into_iter()
            .map(|o| self.orders.get(&o.id).cloned().unwrap_or(o))
            .collect();
        for o in self.orders.values() {
            if !out.iter().any(|x| x.id == o.id) && o.references.get(kind).is_some_and(|v| v.contains(value)) {
                out.push(o.clone());
            }
        }
        Ok(out)
    }

    /// The `limit` most recent open orders of `client` (with this
    /// decision's changes), and how many are open.
    pub fn open_orders_of_client(&self, client: &str, limit: usize) -> ViewResult<(Vec<Order>, usize)> {
        let (stored, total) = self.view.open_orders_of_client(client, limit)?;
        let mut out: Vec<Order> =
            stored.into_iter().map(|o| self.orders.get(&o.id).cloned().unwrap_or(o)).filter(Order::is_open).collect();
        let mut total = total;
        for o in self.orders.values().filter(|o| o.client == client && o.is_open()) {
            if !out.iter().any(|x| x.id == o.id) {
                total += 1;
                if out.len() < limit {
                    out.insert(0, o.clone());
                }
            }
        }
        Ok((out, total))
    }

    /// Open a task for the assistant of `client` (or the default one).
    pub fn open_task(
        &mut self,
        kind: &str,
        client: Option<&str>,
        order: Option<&str>,
        due_at: Option<DateTime<Utc>>,
        summary: String,
        message_id: Option<String>,
    ) -> ViewResult<String> {
        let n = self.next(Sequence::Tasks)?;
        let id = format!("T-{n:06}");
        let assignee = self.desk.assistant_of(client);
        self.note(format!("task {id} ({kind}) for {assignee}"));
        self.save_task(Task {
            id: id.clone(),
            kind: kind.to_string(),
            client: client.map(str::to_string),
            order: order.map(str::to_string),
            due_at,
            state: TaskState::Pendiente,
            assignee,
            summary,
            created_at: self.now,
            message_id,
        });
        Ok(id)
    }

    /// The effects: everything pushed, then one save (and schedule entry)
    /// per record this decision changed, then the sequences it advanced.
    pub fn finish(self) -> Decision {
        let settings = &self.desk.settings;
        let rules = &self.desk.rules.desk;
        let after = self.schedule_after;
        let mut effects = self.effects;
        for o in self.orders.into_values() {
            effects.push(deadlines::schedule_order(&o, settings, after));
            effects.push(Effect::SaveOrder(o));
        }
        for r in self.reclamos.into_values() {
            effects.push(deadlines::schedule_reclamo(&r, settings, after));
            effects.push(Effect::SaveReclamo(r));
        }
        for t in self.tasks.into_values() {
            effects.push(deadlines::schedule_task(&t, settings, rules, after));
            effects.push(Effect::SaveTask(t));
        }
        for o in self.outgoing.into_values() {
            effects.push(Effect::UpdateOutgoing(o));
        }
        for (name, value) in self.sequences {
            effects.push(Effect::Sequence { name, value });
        }
        Decision { effects, outcome: self.outcome, labels: Vec::new() }
    }

    /// Has this decision queued or changed anything?
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty() && self.orders.is_empty() && self.reclamos.is_empty() && self.tasks.is_empty()
    }
}
