//! Reservations a write makes outside its object (a Service's cluster IPs and node ports),
//! as upstream's REST storage hooks (`BeginCreate`, `BeginUpdate`, `AfterDelete`) make
//! them: taken before the object is validated, kept when the write is stored, given back
//! when it fails (validation, admission, a conflict, storage) and released when the object
//! is deleted. A dry run reserves nothing but reports what it would have taken.

use async_trait::async_trait;
use serde_json::Value;

use super::store::RequestContext;
use apimachinery::errors::ApiError;

/// What one write reserved: committed once the write is stored, rolled back otherwise.
#[async_trait]
pub trait Reservation: Send {
    /// The write was stored: keep what was taken, release what the write gave up.
    async fn commit(self: Box<Self>);
    /// The write failed: give back what was taken, keep what the old object held.
    async fn rollback(self: Box<Self>);
}

/// A reservation of nothing.
pub struct NoReservation;

#[async_trait]
impl Reservation for NoReservation {
    async fn commit(self: Box<Self>) {}
    async fn rollback(self: Box<Self>) {}
}

/// Reserves, for one kind, what its objects hold outside storage.
#[async_trait]
pub trait Reserver: Send + Sync + 'static {
    /// Reserves for a new object, once the strategy has prepared it and before it is
    /// validated, writing what was reserved into `obj`.
    async fn begin_create(
        &self,
        ctx: &RequestContext,
        obj: &mut Value,
    ) -> Result<Box<dyn Reservation>, ApiError>;

    /// Reserves for an update of `old` to `new` (prepared, not yet validated).
    async fn begin_update(
        &self,
        ctx: &RequestContext,
        new: &mut Value,
        old: &Value,
    ) -> Result<Box<dyn Reservation>, ApiError>;

    /// Releases what `obj` held, once it is gone from storage (never for a dry run).
    async fn after_delete(&self, obj: &Value);
}

/// Ends `reservation` as the write ended: committed on success, rolled back on failure.
pub async fn finish<T, E>(reservation: Box<dyn Reservation>, result: Result<T, E>) -> Result<T, E> {
    match &result {
        Ok(_) => reservation.commit().await,
        Err(_) => reservation.rollback().await,
    }
    result
}
