//! The storage contract, run against the etcd backend.
//!
//! Every case gets its own throwaway etcd (about a third of a second to start): the cases use
//! fixed keys and assert on global revisions and on the compacted revision (a case expects 0
//! before it compacts), so cases sharing one etcd, even under distinct key prefixes, would see
//! each other's writes and compactions. The server is killed when the case ends, pass or fail.
//! A missing or broken etcd fails every case with the reason.

use std::sync::Arc;
use std::time::Duration;

use storage::etcd::testing::TestEtcd;
use storage::etcd::{EtcdConfig, EtcdStore};

storage::storage_contract_tests!(async {
    let server = match TestEtcd::start().await {
        Ok(server) => server,
        Err(err) => panic!("cannot run the etcd contract: {err}"),
    };
    let config = EtcdConfig {
        progress_interval: Duration::from_millis(100),
        ..server.config()
    };
    let store = EtcdStore::connect(config).await.expect("etcd client");
    // The server outlives the store: tuple fields drop in order.
    (Arc::new(store), server)
});
