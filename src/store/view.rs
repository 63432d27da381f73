//! The store as the desk's [`View`]: every read a decision makes.

use chrono::{DateTime, Utc};

use super::keys::{self, Tree};
use super::{Store, StoreError};
use crate::desk::effect::{JobKey, ReplyCounter, ReplyHour, Sequence};
use crate::desk::model::{Order, Outgoing, Reclamo, Task, ThreadLink, Undo};
use crate::desk::{DigestRecords, View, ViewError, ViewResult};

fn v<T>(r: Result<T, StoreError>) -> ViewResult<T> {
    r.map_err(ViewError::new)
}

fn count(v: &[u8]) -> u32 {
    v.try_into().map(u32::from_be_bytes).unwrap_or(0)
}

fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, StoreError>>) -> Result<T, StoreError> {
    h.join().unwrap_or_else(|_| Err(StoreError::Corrupt("a reader thread panicked".into())))
}

impl View for Store {
    fn order(&self, id: &str) -> ViewResult<Option<Order>> {
        v(Store::order(self, id))
    }

    fn orders_by_ref(&self, kind: &str, value: &str) -> ViewResult<Vec<Order>> {
        v(Store::orders_by_ref(self, kind, value))
    }

    fn open_orders_of_client(&self, client: &str, limit: usize) -> ViewResult<(Vec<Order>, usize)> {
        v(Store::open_orders_of_client(self, client, limit))
    }

    fn reclamo(&self, id: &str) -> ViewResult<Option<Reclamo>> {
        v(Store::reclamo(self, id))
    }

    fn task(&self, id: &str) -> ViewResult<Option<Task>> {
        v(Store::task(self, id))
    }

    fn thread(&self, message_id: &str) -> ViewResult<Option<ThreadLink>> {
        v(Store::thread(self, message_id))
    }

    fn sequence(&self, name: &Sequence) -> ViewResult<u64> {
        let raw = v(self.tree(Tree::Meta).get(keys::sequence(name)).map_err(StoreError::from))?;
        Ok(raw.and_then(|b| b.as_ref().try_into().ok().map(u64::from_be_bytes)).unwrap_or(0))
    }

    fn replies_in_hour(&self, counter: &ReplyCounter, hour: ReplyHour) -> ViewResult<u32> {
        let raw = v(self.tree(Tree::Replies).get(keys::reply(counter, hour)).map_err(StoreError::from))?;
        Ok(raw.map(|b| count(&b)).unwrap_or(0))
    }

    fn replies_in_day(&self, counter: &ReplyCounter, hour: ReplyHour) -> ViewResult<u32> {
        let mut n = 0;
        for kv in self.tree(Tree::Replies).scan_prefix(keys::reply_day(counter, hour)) {
            let (_, b) = v(kv.map_err(StoreError::from))?;
            n += count(&b);
        }
        Ok(n)
    }

    fn outgoing(&self, id: &str) -> ViewResult<Option<Outgoing>> {
        v(Store::outgoing(self, id))
    }

    fn job_at(&self, key: &JobKey) -> ViewResult<Option<DateTime<Utc>>> {
        let raw = v(self.tree(Tree::Jobs).get(keys::job(key)).map_err(StoreError::from))?;
        Ok(raw
            .and_then(|b| DateTime::parse_from_rfc3339(&String::from_utf8_lossy(&b)).ok())
            .map(|d| d.with_timezone(&Utc)))
    }

    fn job_done(&self, key: &JobKey) -> ViewResult<bool> {
        v(self.tree(Tree::Jobs).contains_key(keys::job(key)).map_err(StoreError::from))
    }

    fn all_orders(&self) -> ViewResult<Vec<Order>> {
        v(Store::orders(self))
    }

    fn undo(&self, id: &str) -> ViewResult<Option<Undo>> {
        v(Store::undo(self, id))
    }

    fn original(&self, sha256: &str) -> ViewResult<Option<Vec<u8>>> {
        v(Store::original(self, sha256))
    }

    /// Decoding the records is most of a digest's cost: the three kinds in parallel.
    fn digest_records(&self) -> ViewResult<DigestRecords> {
        let (orders, reclamos, tasks) = std::thread::scope(|scope| {
            let orders = scope.spawn(|| self.open_orders());
            let reclamos = scope.spawn(|| self.reclamos());
            let tasks = self.tasks();
            (joined(orders), joined(reclamos), tasks)
        });
        Ok(DigestRecords { open_orders: v(orders)?, reclamos: v(reclamos)?, tasks: v(tasks)? })
    }
}
