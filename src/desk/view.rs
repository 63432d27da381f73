//! What a decision may read of what the desk already knows. The store
//! implements it (and applies the [`Effect`](super::Effect)s decisions
//! produce); the desk never names the store. Tests use an in-memory one.

use chrono::{DateTime, Utc};

use super::effect::{JobKey, ReplyCounter, ReplyHour, Sequence};
use super::model::{Order, Outgoing, Reclamo, Task, ThreadLink, Undo};

/// A read failed: nothing of the decision is applied.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ViewError(pub Box<dyn std::error::Error + Send + Sync>);

impl ViewError {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> ViewError {
        ViewError(Box::new(e))
    }
}

pub type ViewResult<T> = Result<T, ViewError>;

/// Everything a digest reads, in one call (the store reads the three kinds
/// in parallel: decoding the records is most of a digest's cost).
#[derive(Debug, Default, Clone)]
pub struct DigestRecords {
    pub open_orders: Vec<Order>,
    pub reclamos: Vec<Reclamo>,
    pub tasks: Vec<Task>,
}

/// Read access for decisions.
pub trait View: Sync {
    fn order(&self, id: &str) -> ViewResult<Option<Order>>;
    /// Orders (open or not) holding reference `kind`=`value`.
    fn orders_by_ref(&self, kind: &str, value: &str) -> ViewResult<Vec<Order>>;
    /// The `limit` most recent open orders of `client`, and how many are open.
    fn open_orders_of_client(&self, client: &str, limit: usize) -> ViewResult<(Vec<Order>, usize)>;
    fn reclamo(&self, id: &str) -> ViewResult<Option<Reclamo>>;
    fn task(&self, id: &str) -> ViewResult<Option<Task>>;
    fn thread(&self, message_id: &str) -> ViewResult<Option<ThreadLink>>;
    /// The last number given in a sequence (0: none yet).
    fn sequence(&self, name: &Sequence) -> ViewResult<u64>;
    /// Automatic replies counted on `counter` in that hour.
    fn replies_in_hour(&self, counter: &ReplyCounter, hour: ReplyHour) -> ViewResult<u32>;
    /// Automatic replies counted on `counter` in the day of `hour`.
    fn replies_in_day(&self, counter: &ReplyCounter, hour: ReplyHour) -> ViewResult<u32>;
    /// An outbox entry by its id.
    fn outgoing(&self, id: &str) -> ViewResult<Option<Outgoing>>;
    /// When the job ran, if it did.
    fn job_at(&self, key: &JobKey) -> ViewResult<Option<DateTime<Utc>>>;
    fn job_done(&self, key: &JobKey) -> ViewResult<bool> {
        Ok(self.job_at(key)?.is_some())
    }
    /// Open orders, reclamos and tasks, for a digest.
    fn digest_records(&self) -> ViewResult<DigestRecords>;
    /// Every order, open or closed (the weekly list of incomplete files and
    /// the monthly report of extras: once a week or a month).
    fn all_orders(&self) -> ViewResult<Vec<Order>> {
        Ok(self.digest_records()?.open_orders)
    }
    /// What the commands confirmed by our mail `id` changed (`#deshacer`).
    fn undo(&self, _id: &str) -> ViewResult<Option<Undo>> {
        Ok(None)
    }
    /// The raw bytes of a mail tasks came from, if the store keeps them.
    fn original(&self, _sha256: &str) -> ViewResult<Option<Vec<u8>>> {
        Ok(None)
    }
}
