//! The storage contract, run against the embedded SQLite backend.

use std::sync::Arc;
use std::time::Duration;

use storage::embedded::{EmbeddedOptions, EmbeddedStore};

storage::storage_contract_tests!(async {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = EmbeddedOptions {
        progress_interval: Duration::from_millis(100),
        ..EmbeddedOptions::default()
    };
    let store = EmbeddedStore::open_with(&dir.path().join("state.db"), options).expect("open");
    // The directory outlives the store: tuple fields drop in order.
    (Arc::new(store), dir)
});
