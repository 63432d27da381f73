//! What decide may read from the store.

use super::model::{Order, Outgoing, Reclamo, Task, ThreadLink};
use crate::store::{Store, StoreError};

/// Read access for `decide` (the store, or a test double).
pub trait View {
    fn order(&self, id: &str) -> Result<Option<Order>, StoreError>;
    /// Orders (open or not) holding reference `kind`=`value`.
    fn orders_by_ref(&self, kind: &str, value: &str) -> Result<Vec<Order>, StoreError>;
    /// The `limit` most recent open orders of `client`, and how many are open.
    fn open_orders_of_client(&self, client: &str, limit: usize) -> Result<(Vec<Order>, usize), StoreError>;
    fn reclamo(&self, id: &str) -> Result<Option<Reclamo>, StoreError>;
    fn task(&self, id: &str) -> Result<Option<Task>, StoreError>;
    fn thread(&self, message_id: &str) -> Result<Option<ThreadLink>, StoreError>;
    fn sequence(&self, name: &str) -> Result<u64, StoreError>;
    fn replies_in(&self, address: &str, hour: &str) -> Result<u32, StoreError>;
    fn replies_in_day(&self, address: &str, day: &str) -> Result<u32, StoreError>;
    /// An outbox entry by its id.
    fn outgoing(&self, id: &str) -> Result<Option<Outgoing>, StoreError>;
}

impl View for Store {
    fn order(&self, id: &str) -> Result<Option<Order>, StoreError> {
        Store::order(self, id)
    }
    fn orders_by_ref(&self, kind: &str, value: &str) -> Result<Vec<Order>, StoreError> {
        Store::orders_by_ref(self, kind, value)
    }
    fn open_orders_of_client(&self, client: &str, limit: usize) -> Result<(Vec<Order>, usize), StoreError> {
        Store::open_orders_of_client(self, client, limit)
    }
    fn reclamo(&self, id: &str) -> Result<Option<Reclamo>, StoreError> {
        Store::reclamo(self, id)
    }
    fn thread(&self, message_id: &str) -> Result<Option<ThreadLink>, StoreError> {
        Store::thread(self, message_id)
    }
    fn task(&self, id: &str) -> Result<Option<Task>, StoreError> {
        Store::task(self, id)
    }
    fn sequence(&self, name: &str) -> Result<u64, StoreError> {
        Store::sequence(self, name)
    }
    fn replies_in(&self, address: &str, hour: &str) -> Result<u32, StoreError> {
        Store::replies_in(self, address, hour)
    }
    fn replies_in_day(&self, address: &str, day: &str) -> Result<u32, StoreError> {
        Store::replies_in_day(self, address, day)
    }
    fn outgoing(&self, id: &str) -> Result<Option<Outgoing>, StoreError> {
        Store::outgoing(self, id)
    }
}
