//! The storage contract: the behaviour every [`Storage`] backend must show, as a test suite.
//!
//! Each case is a public async function taking a fresh, empty store; it panics when the store
//! breaks the contract. [`storage_contract_tests!`](crate::storage_contract_tests) turns them
//! into one `#[tokio::test]` per case for a backend:
//!
//! ```ignore
//! // tests/my_backend_contract.rs (the crate needs `tokio` with `macros` and `rt-multi-thread`)
//! storage::storage_contract_tests!(async {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = MyBackend::open(dir.path()).await.unwrap();
//!     (std::sync::Arc::new(store), dir) // the guard lives as long as the store
//! });
//! ```
//!
//! The cases only rely on what etcd itself guarantees: revisions increase but need not be
//! contiguous, and compaction boundaries are tested a safe distance away from the compacted
//! revision. Every wait on a watch has a timeout, so a broken watch fails instead of hanging.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::{
    EventType, KeyValue, ListOptions, ListResult, Revision, Storage, StorageError, WatchEvent,
    WatchItem, WatchStream,
};

/// How long a case waits for an expected watch item.
pub const WATCH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a case waits for a progress notification (backends may use long intervals).
pub const PROGRESS_TIMEOUT: Duration = Duration::from_secs(20);

/// What a contract factory produces: a store, possibly with guards that must outlive it
/// (a temporary directory, a server process).
pub trait StoreFixture: Send + 'static {
    /// The store under test.
    fn store(&self) -> &dyn Storage;
}

impl StoreFixture for Arc<dyn Storage> {
    fn store(&self) -> &dyn Storage {
        &**self
    }
}

impl<S: Storage> StoreFixture for Arc<S> {
    fn store(&self) -> &dyn Storage {
        &**self
    }
}

impl<F: StoreFixture, G: Send + 'static> StoreFixture for (F, G) {
    fn store(&self) -> &dyn Storage {
        self.0.store()
    }
}

/// Expands into one `#[tokio::test]` per contract case, each on a fresh store from the given
/// future expression (evaluated once per test; see [`StoreFixture`]). Invoke it once per module.
#[macro_export]
macro_rules! storage_contract_tests {
    ($factory:expr) => {
        $crate::storage_contract_tests!(@cases $factory;
            create_then_get,
            get_missing_is_none,
            create_existing_fails,
            update_with_current_revision,
            update_with_stale_revision_conflicts,
            update_missing_is_not_found,
            delete_missing_is_not_found,
            delete_with_precondition,
            recreate_after_delete,
            empty_value_round_trips,
            revisions_strictly_increase,
            concurrent_updates_one_wins,
            failed_writes_do_not_advance_revision,
            list_prefix_isolation,
            list_in_key_order,
            list_at_old_revision,
            list_future_revision_fails,
            pagination_at_pinned_revision,
            more_and_remaining,
            count_prefix,
            watch_from_zero_replays_then_follows,
            watch_from_mid_revision,
            watch_filters_prefix,
            watch_event_contents,
            watch_during_concurrent_writes,
            compaction,
            compaction_never_goes_back,
            compaction_keeps_current_state,
            progress_notifications,
            health_check,
            ttl_expires_keys,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = $factory.await;
                $crate::contract::$case($crate::contract::StoreFixture::store(&fixture)).await;
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn bytes(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[track_caller]
fn ok<T>(result: Result<T, StorageError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{what}: unexpected error: {err:?}"),
    }
}

async fn create(store: &dyn Storage, key: &str, value: &str) -> Revision {
    ok(
        store.create(key, bytes(value)).await,
        &format!("create {key}"),
    )
}

async fn update(store: &dyn Storage, key: &str, expected: Revision, value: &str) -> Revision {
    ok(
        store.update(key, expected, bytes(value)).await,
        &format!("update {key}"),
    )
}

async fn delete(store: &dyn Storage, key: &str) -> Revision {
    ok(store.delete(key, None).await, &format!("delete {key}")).1
}

async fn list(store: &dyn Storage, prefix: &str, opts: ListOptions) -> ListResult {
    ok(store.list(prefix, opts).await, &format!("list {prefix}"))
}

async fn list_at(store: &dyn Storage, prefix: &str, revision: Revision) -> ListResult {
    list(
        store,
        prefix,
        ListOptions {
            revision: Some(revision),
            ..ListOptions::default()
        },
    )
    .await
}

fn keys(result: &ListResult) -> Vec<&str> {
    result.items.iter().map(|kv| kv.key.as_str()).collect()
}

fn kv(key: &str, value: &str, create_revision: Revision, mod_revision: Revision) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: bytes(value),
        create_revision,
        mod_revision,
    }
}

async fn watch(store: &dyn Storage, prefix: &str, after: Revision) -> WatchStream {
    ok(
        store.watch(prefix, after, false).await,
        &format!("watch {prefix}"),
    )
}

async fn within<F: Future>(what: &str, timeout: Duration, future: F) -> F::Output {
    match tokio::time::timeout(timeout, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: nothing within {timeout:?}"),
    }
}

async fn next_item(stream: &mut WatchStream, timeout: Duration) -> WatchItem {
    match within("watch", timeout, stream.next()).await {
        Some(Ok(item)) => item,
        Some(Err(err)) => panic!("watch: unexpected error: {err:?}"),
        None => panic!("watch: stream ended"),
    }
}

async fn next_event(stream: &mut WatchStream) -> WatchEvent {
    match next_item(stream, WATCH_TIMEOUT).await {
        WatchItem::Event(event) => event,
        WatchItem::Progress(rev) => panic!("watch: unexpected progress notification at {rev}"),
    }
}

/// Expects the next events to be exactly these `(type, key, revision)`s, in order.
async fn expect_events(stream: &mut WatchStream, expected: &[(EventType, &str, Revision)]) {
    for &(event_type, key, revision) in expected {
        let event = next_event(stream).await;
        assert_eq!(
            (event.event_type, event.kv.key.as_str(), event.revision()),
            (event_type, key, revision),
            "watch: unexpected event {event:?}"
        );
    }
}

/// Writes a sentinel key and expects it to be the very next event: proves nothing else (a
/// duplicate, a stray key) was pending before it.
async fn expect_only_sentinel_next(store: &dyn Storage, stream: &mut WatchStream, key: &str) {
    let rev = create(store, key, "sentinel").await;
    expect_events(stream, &[(EventType::Created, key, rev)]).await;
}

fn is_compacted<T>(result: &Result<T, StorageError>) -> bool {
    matches!(result, Err(StorageError::Compacted { .. }))
}

/// Expects a watch after `after` to fail with `Compacted`, at once or as its first item.
async fn expect_watch_compacted(store: &dyn Storage, prefix: &str, after: Revision) {
    match store.watch(prefix, after, false).await {
        Err(StorageError::Compacted { .. }) => {}
        Err(err) => panic!("watch after {after}: expected Compacted, got {err:?}"),
        Ok(mut stream) => match within("compacted watch", WATCH_TIMEOUT, stream.next()).await {
            Some(Err(StorageError::Compacted { .. })) => {}
            other => panic!("watch after {after}: expected Compacted, got {other:?}"),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Single keys.

/// A created key reads back with its value and the create's revision.
pub async fn create_then_get(store: &dyn Storage) {
    let rev = create(store, "/c/a", "one").await;
    assert!(rev > 0, "revisions are positive");
    let got = ok(store.get("/c/a").await, "get");
    assert_eq!(got, Some(kv("/c/a", "one", rev, rev)));
    assert!(ok(store.current_revision().await, "current revision") >= rev);
}

/// Reading a key that never existed gives `None`.
pub async fn get_missing_is_none(store: &dyn Storage) {
    create(store, "/g/a", "x").await;
    assert_eq!(ok(store.get("/g/b").await, "get"), None);
    assert_eq!(ok(store.get("/g/").await, "get"), None);
}

/// Creating an existing key fails with `AlreadyExists` and leaves it alone.
pub async fn create_existing_fails(store: &dyn Storage) {
    let rev = create(store, "/c/a", "one").await;
    let again = store.create("/c/a", bytes("two")).await;
    assert_eq!(
        again,
        Err(StorageError::AlreadyExists { key: "/c/a".into() })
    );
    assert_eq!(
        ok(store.get("/c/a").await, "get"),
        Some(kv("/c/a", "one", rev, rev))
    );
}

/// An update at the current mod revision succeeds with a newer revision.
pub async fn update_with_current_revision(store: &dyn Storage) {
    let r1 = create(store, "/u/a", "one").await;
    let r2 = update(store, "/u/a", r1, "two").await;
    assert!(r2 > r1);
    assert_eq!(
        ok(store.get("/u/a").await, "get"),
        Some(kv("/u/a", "two", r1, r2))
    );
}

/// An update at a stale revision fails with `Conflict` carrying the actual revision.
pub async fn update_with_stale_revision_conflicts(store: &dyn Storage) {
    let r1 = create(store, "/u/a", "one").await;
    let r2 = update(store, "/u/a", r1, "two").await;
    let stale = store.update("/u/a", r1, bytes("three")).await;
    assert_eq!(
        stale,
        Err(StorageError::Conflict {
            key: "/u/a".into(),
            expected: r1,
            actual: r2
        })
    );
    assert_eq!(
        ok(store.get("/u/a").await, "get"),
        Some(kv("/u/a", "two", r1, r2))
    );
}

/// Updating a missing key fails with `NotFound`.
pub async fn update_missing_is_not_found(store: &dyn Storage) {
    let r1 = create(store, "/u/a", "one").await;
    let missing = store.update("/u/b", r1, bytes("x")).await;
    assert_eq!(missing, Err(StorageError::NotFound { key: "/u/b".into() }));
    delete(store, "/u/a").await;
    let deleted = store.update("/u/a", r1, bytes("x")).await;
    assert_eq!(deleted, Err(StorageError::NotFound { key: "/u/a".into() }));
}

/// Deleting a missing key fails with `NotFound`, with or without a precondition.
pub async fn delete_missing_is_not_found(store: &dyn Storage) {
    let rev = create(store, "/d/a", "one").await;
    let not_found = Err(StorageError::NotFound { key: "/d/b".into() });
    assert_eq!(store.delete("/d/b", None).await, not_found);
    assert_eq!(store.delete("/d/b", Some(rev)).await, not_found);
}

/// A delete with a stale precondition conflicts; with the right one it returns the deleted
/// state and the deletion's revision.
pub async fn delete_with_precondition(store: &dyn Storage) {
    let r1 = create(store, "/d/a", "one").await;
    let r2 = update(store, "/d/a", r1, "two").await;
    let stale = store.delete("/d/a", Some(r1)).await;
    assert_eq!(
        stale,
        Err(StorageError::Conflict {
            key: "/d/a".into(),
            expected: r1,
            actual: r2
        })
    );
    let (deleted, r3) = ok(store.delete("/d/a", Some(r2)).await, "delete");
    assert_eq!(deleted, kv("/d/a", "two", r1, r2));
    assert!(r3 > r2);
    assert_eq!(ok(store.get("/d/a").await, "get"), None);
    assert_eq!(
        store.delete("/d/a", None).await,
        Err(StorageError::NotFound { key: "/d/a".into() })
    );
    // Without a precondition any state is deleted.
    let r4 = create(store, "/d/b", "b").await;
    let (deleted, r5) = ok(store.delete("/d/b", None).await, "delete");
    assert_eq!(deleted, kv("/d/b", "b", r4, r4));
    assert!(r5 > r4);
}

/// A key created again after a delete starts a new life: a new create revision.
pub async fn recreate_after_delete(store: &dyn Storage) {
    let r1 = create(store, "/r/a", "one").await;
    let r2 = delete(store, "/r/a").await;
    let r3 = create(store, "/r/a", "two").await;
    assert!(r1 < r2 && r2 < r3);
    assert_eq!(
        ok(store.get("/r/a").await, "get"),
        Some(kv("/r/a", "two", r3, r3))
    );
}

/// An empty value is a value.
pub async fn empty_value_round_trips(store: &dyn Storage) {
    let rev = create(store, "/e/a", "").await;
    assert_eq!(
        ok(store.get("/e/a").await, "get"),
        Some(kv("/e/a", "", rev, rev))
    );
    let listed = list(store, "/e/", ListOptions::default()).await;
    assert_eq!(listed.items, vec![kv("/e/a", "", rev, rev)]);
}

// ---------------------------------------------------------------------------------------------
// Revisions.

/// Every write gets a new, larger revision, also under concurrency; the current revision
/// follows.
pub async fn revisions_strictly_increase(store: &dyn Storage) {
    let mut last = 0;
    for i in 0..5 {
        let rev = create(store, &format!("/rev/seq/{i}"), "x").await;
        assert!(rev > last, "revision {rev} after {last}");
        last = rev;
        let rev = update(store, &format!("/rev/seq/{i}"), rev, "y").await;
        assert!(rev > last, "revision {rev} after {last}");
        last = rev;
    }
    let current = ok(store.current_revision().await, "current revision");
    assert!(current >= last);

    let writes = (0..50).map(|i| async move {
        ok(
            store.create(&format!("/rev/par/{i:02}"), bytes("x")).await,
            "concurrent create",
        )
    });
    let revs = futures::future::join_all(writes).await;
    let distinct: BTreeSet<Revision> = revs.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        revs.len(),
        "concurrent writes share a revision"
    );
    assert!(revs.iter().all(|&rev| rev > current));
    let max = revs.iter().copied().max().unwrap_or(0);
    assert!(ok(store.current_revision().await, "current revision") >= max);
    assert_eq!(ok(store.count("/rev/par/").await, "count"), 50);
}

/// Of concurrent updates at the same expected revision exactly one wins; the others conflict
/// and see the winner's revision, while unrelated concurrent writes all succeed.
pub async fn concurrent_updates_one_wins(store: &dyn Storage) {
    let r1 = create(store, "/cas/a", "0").await;
    let updates = futures::future::join_all((0..20).map(|i| async move {
        store
            .update("/cas/a", r1, bytes(&format!("writer {i}")))
            .await
    }));
    let creates = futures::future::join_all((0..20).map(|i| async move {
        store
            .create(&format!("/cas/other/{i:02}"), bytes("x"))
            .await
    }));
    let (updates, creates) = tokio::join!(updates, creates);
    let winners: Vec<Revision> = updates
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .copied()
        .collect();
    assert_eq!(winners.len(), 1, "exactly one update wins: {updates:?}");
    let winner = winners[0];
    for result in &updates {
        match result {
            Ok(rev) => assert_eq!(*rev, winner),
            Err(StorageError::Conflict {
                key,
                expected,
                actual,
            }) => {
                assert_eq!((key.as_str(), *expected, *actual), ("/cas/a", r1, winner));
            }
            Err(err) => panic!("unexpected error {err:?}"),
        }
    }
    assert!(creates.iter().all(Result::is_ok), "creates: {creates:?}");
    let current = ok(store.get("/cas/a").await, "get");
    assert_eq!(current.map(|kv| kv.mod_revision), Some(winner));
}

/// Refused writes do not create revisions.
pub async fn failed_writes_do_not_advance_revision(store: &dyn Storage) {
    let r1 = create(store, "/f/a", "one").await;
    let r2 = update(store, "/f/a", r1, "two").await;
    let before = ok(store.current_revision().await, "current revision");
    assert_eq!(before, r2);
    assert!(store.create("/f/a", bytes("x")).await.is_err());
    assert!(store.update("/f/a", r1, bytes("x")).await.is_err());
    assert!(store.update("/f/b", r1, bytes("x")).await.is_err());
    assert!(store.delete("/f/a", Some(r1)).await.is_err());
    assert!(store.delete("/f/b", None).await.is_err());
    assert_eq!(
        ok(store.current_revision().await, "current revision"),
        before
    );
}

// ---------------------------------------------------------------------------------------------
// Lists.

/// A list sees exactly the keys under its prefix: `/a/` does not include `/ab/`.
pub async fn list_prefix_isolation(store: &dyn Storage) {
    for key in ["/p/a/1", "/p/a/2", "/p/ab/1", "/p/b", "/p/a", "/q/a/1"] {
        create(store, key, key).await;
    }
    let current = ok(store.current_revision().await, "current revision");
    let a = list(store, "/p/a/", ListOptions::default()).await;
    assert_eq!(keys(&a), ["/p/a/1", "/p/a/2"]);
    assert_eq!(a.revision, current);
    assert!(!a.more);
    assert_eq!(a.remaining, 0);
    assert!(a.items.iter().all(|kv| kv.value == bytes(&kv.key)));
    let ab = list(store, "/p/ab/", ListOptions::default()).await;
    assert_eq!(keys(&ab), ["/p/ab/1"]);
    let p = list(store, "/p/", ListOptions::default()).await;
    assert_eq!(keys(&p), ["/p/a", "/p/a/1", "/p/a/2", "/p/ab/1", "/p/b"]);
    let none = list(store, "/p/c/", ListOptions::default()).await;
    assert!(none.items.is_empty());
}

/// Lists are in byte order of the keys, whatever the order of the writes.
pub async fn list_in_key_order(store: &dyn Storage) {
    let names = ["m", "b", "z", "a", "B", "aa", "a0", "é", "~"];
    for name in names {
        create(store, &format!("/o/{name}"), name).await;
    }
    let mut expected: Vec<String> = names.iter().map(|name| format!("/o/{name}")).collect();
    expected.sort();
    let listed = list(store, "/o/", ListOptions::default()).await;
    assert_eq!(keys(&listed), expected);
}

/// A list at an older revision sees the state as it was then.
pub async fn list_at_old_revision(store: &dyn Storage) {
    let r1 = create(store, "/h/a", "a1").await;
    let r2 = create(store, "/h/b", "b1").await;
    let r3 = update(store, "/h/a", r1, "a2").await;
    let r4 = delete(store, "/h/b").await;
    let r5 = create(store, "/h/c", "c1").await;

    let at = |rev| list_at(store, "/h/", rev);
    let l1 = at(r1).await;
    assert_eq!(l1.items, vec![kv("/h/a", "a1", r1, r1)]);
    assert_eq!(l1.revision, r1);
    let l2 = at(r2).await;
    assert_eq!(
        l2.items,
        vec![kv("/h/a", "a1", r1, r1), kv("/h/b", "b1", r2, r2)]
    );
    let l3 = at(r3).await;
    assert_eq!(
        l3.items,
        vec![kv("/h/a", "a2", r1, r3), kv("/h/b", "b1", r2, r2)]
    );
    let l4 = at(r4).await;
    assert_eq!(l4.items, vec![kv("/h/a", "a2", r1, r3)]);
    assert_eq!(l4.revision, r4);
    let now = list(store, "/h/", ListOptions::default()).await;
    assert_eq!(
        now.items,
        vec![kv("/h/a", "a2", r1, r3), kv("/h/c", "c1", r5, r5)]
    );
    assert_eq!(at(r5).await.items, now.items);
}

/// A list at a revision the store has not reached fails with `FutureRevision`.
pub async fn list_future_revision_fails(store: &dyn Storage) {
    create(store, "/fr/a", "x").await;
    let current = ok(store.current_revision().await, "current revision");
    let future = store
        .list(
            "/fr/",
            ListOptions {
                revision: Some(current + 1000),
                ..ListOptions::default()
            },
        )
        .await;
    assert!(
        matches!(future, Err(StorageError::FutureRevision { .. })),
        "got {future:?}"
    );
}

/// Pages read at the revision of the first page see that revision's state, whatever changed
/// in between.
pub async fn pagination_at_pinned_revision(store: &dyn Storage) {
    let mut revs = Vec::new();
    for i in 0..10 {
        revs.push(create(store, &format!("/pg/k{i:02}"), &format!("v{i}")).await);
    }
    let page = |revision: Option<Revision>, start_key: Option<String>| ListOptions {
        revision,
        limit: 4,
        start_key,
    };
    let first = list(store, "/pg/", page(None, None)).await;
    assert_eq!(keys(&first), ["/pg/k00", "/pg/k01", "/pg/k02", "/pg/k03"]);
    assert!(first.more);
    assert_eq!(first.remaining, 6);
    let pinned = first.revision;

    // Changes between pages: a new key inside the next page, a delete and an update there.
    create(store, "/pg/k045", "new").await;
    delete(store, "/pg/k06").await;
    update(store, "/pg/k07", revs[7], "changed").await;

    let continue_after =
        |result: &ListResult| result.items.last().map(|kv| format!("{}\u{0}", kv.key));
    let second = list(store, "/pg/", page(Some(pinned), continue_after(&first))).await;
    assert_eq!(second.revision, pinned);
    assert_eq!(keys(&second), ["/pg/k04", "/pg/k05", "/pg/k06", "/pg/k07"]);
    assert_eq!(second.items[3], kv("/pg/k07", "v7", revs[7], revs[7]));
    assert!(second.more);
    assert_eq!(second.remaining, 2);
    let third = list(store, "/pg/", page(Some(pinned), continue_after(&second))).await;
    assert_eq!(keys(&third), ["/pg/k08", "/pg/k09"]);
    assert!(!third.more);
    assert_eq!(third.remaining, 0);

    // The current state has moved on.
    let now = list(store, "/pg/", ListOptions::default()).await;
    assert_eq!(now.items.len(), 10);
    assert!(keys(&now).contains(&"/pg/k045"));
    assert!(!keys(&now).contains(&"/pg/k06"));
}

/// `more` and `remaining` follow etcd: whether and how many items follow the returned ones.
pub async fn more_and_remaining(store: &dyn Storage) {
    for i in 0..5 {
        create(store, &format!("/mr/{i}"), "x").await;
    }
    create(store, "/mr0", "outside").await;
    let opts = |limit: usize, start: Option<&str>| ListOptions {
        revision: None,
        limit,
        start_key: start.map(str::to_owned),
    };
    let cases: [(usize, Option<&str>, usize, bool, usize); 8] = [
        (0, None, 5, false, 0),
        (5, None, 5, false, 0),
        (10, None, 5, false, 0),
        (2, None, 2, true, 3),
        (4, None, 4, true, 1),
        (1, Some("/mr/2"), 1, true, 2),
        (2, Some("/mr/3"), 2, false, 0),
        (2, Some("/mr/9"), 0, false, 0),
    ];
    for (limit, start, len, more, remaining) in cases {
        let result = list(store, "/mr/", opts(limit, start)).await;
        assert_eq!(
            (result.items.len(), result.more, result.remaining),
            (len, more, remaining),
            "limit {limit}, start {start:?}"
        );
    }
    let from_two = list(store, "/mr/", opts(0, Some("/mr/2"))).await;
    assert_eq!(keys(&from_two), ["/mr/2", "/mr/3", "/mr/4"]);
}

/// `count` counts the live keys under a prefix.
pub async fn count_prefix(store: &dyn Storage) {
    assert_eq!(ok(store.count("/n/").await, "count"), 0);
    for i in 0..7 {
        create(store, &format!("/n/{i}"), "x").await;
    }
    create(store, "/nn/0", "x").await;
    delete(store, "/n/3").await;
    assert_eq!(ok(store.count("/n/").await, "count"), 6);
    assert_eq!(ok(store.count("/nn/").await, "count"), 1);
}

// ---------------------------------------------------------------------------------------------
// Watches.

/// A watch from revision 0 replays all history under its prefix, then follows new writes.
pub async fn watch_from_zero_replays_then_follows(store: &dyn Storage) {
    let r1 = create(store, "/w/a", "1").await;
    let r2 = update(store, "/w/a", r1, "2").await;
    let r3 = delete(store, "/w/a").await;
    let mut stream = watch(store, "/w/", 0).await;
    expect_events(
        &mut stream,
        &[
            (EventType::Created, "/w/a", r1),
            (EventType::Updated, "/w/a", r2),
            (EventType::Deleted, "/w/a", r3),
        ],
    )
    .await;
    let r4 = create(store, "/w/b", "live").await;
    let event = next_event(&mut stream).await;
    assert_eq!(event.event_type, EventType::Created);
    assert_eq!(event.kv, kv("/w/b", "live", r4, r4));
    expect_only_sentinel_next(store, &mut stream, "/w/zz").await;
}

/// A watch after a mid revision replays exactly the later events, then follows.
pub async fn watch_from_mid_revision(store: &dyn Storage) {
    let r1 = create(store, "/w/a", "1").await;
    let r2 = create(store, "/w/b", "1").await;
    let r3 = update(store, "/w/a", r1, "2").await;
    let r4 = delete(store, "/w/b").await;
    let mut stream = watch(store, "/w/", r2).await;
    expect_events(
        &mut stream,
        &[
            (EventType::Updated, "/w/a", r3),
            (EventType::Deleted, "/w/b", r4),
        ],
    )
    .await;
    let r5 = update(store, "/w/a", r3, "3").await;
    expect_events(&mut stream, &[(EventType::Updated, "/w/a", r5)]).await;
    expect_only_sentinel_next(store, &mut stream, "/w/zz").await;

    // Watching from the current revision sees only what comes next.
    let current = ok(store.current_revision().await, "current revision");
    let mut fresh = watch(store, "/w/", current).await;
    expect_only_sentinel_next(store, &mut fresh, "/w/zzz").await;
}

/// A watch only sees keys under its prefix (`/a/` not `/ab/`), replayed and live.
pub async fn watch_filters_prefix(store: &dyn Storage) {
    let r1 = create(store, "/wp/a/1", "x").await;
    create(store, "/wp/ab/1", "x").await;
    create(store, "/wp/a", "x").await;
    let mut stream = watch(store, "/wp/a/", 0).await;
    expect_events(&mut stream, &[(EventType::Created, "/wp/a/1", r1)]).await;
    create(store, "/wp/ab/2", "x").await;
    create(store, "/wp/b", "x").await;
    let r2 = create(store, "/wp/a/2", "x").await;
    expect_events(&mut stream, &[(EventType::Created, "/wp/a/2", r2)]).await;
    expect_only_sentinel_next(store, &mut stream, "/wp/a/zz").await;
}

/// Events carry the new state; updates and deletes carry the previous value; a delete's `kv`
/// is the last state at the deletion's revision.
pub async fn watch_event_contents(store: &dyn Storage) {
    let start = ok(store.current_revision().await, "current revision");
    let r1 = create(store, "/we/a", "one").await;
    let r2 = update(store, "/we/a", r1, "two").await;
    let r3 = delete(store, "/we/a").await;
    let expected = [
        WatchEvent {
            event_type: EventType::Created,
            kv: kv("/we/a", "one", r1, r1),
            prev_value: None,
        },
        WatchEvent {
            event_type: EventType::Updated,
            kv: kv("/we/a", "two", r1, r2),
            prev_value: Some(bytes("one")),
        },
        WatchEvent {
            event_type: EventType::Deleted,
            kv: kv("/we/a", "two", r1, r3),
            prev_value: Some(bytes("two")),
        },
    ];
    // Replayed from history...
    let mut replayed = watch(store, "/we/", start).await;
    for event in &expected {
        assert_eq!(&next_event(&mut replayed).await, event);
    }
    // ...and live.
    let mut live = watch(store, "/we/", r3).await;
    let r4 = create(store, "/we/a", "three").await;
    let r5 = update(store, "/we/a", r4, "four").await;
    let r6 = delete(store, "/we/a").await;
    let expected_live = [
        WatchEvent {
            event_type: EventType::Created,
            kv: kv("/we/a", "three", r4, r4),
            prev_value: None,
        },
        WatchEvent {
            event_type: EventType::Updated,
            kv: kv("/we/a", "four", r4, r5),
            prev_value: Some(bytes("three")),
        },
        WatchEvent {
            event_type: EventType::Deleted,
            kv: kv("/we/a", "four", r4, r6),
            prev_value: Some(bytes("four")),
        },
    ];
    for event in &expected_live {
        assert_eq!(&next_event(&mut live).await, event);
    }
}

/// A watch opened while writes are in flight sees every later event exactly once, in order.
pub async fn watch_during_concurrent_writes(store: &dyn Storage) {
    for i in 0..20 {
        create(store, &format!("/wc/before/{i:02}"), "x").await;
    }
    let after = ok(store.current_revision().await, "current revision");
    let writes = futures::future::join_all((0..100).map(|i| async move {
        tokio::task::yield_now().await;
        ok(
            store
                .create(&format!("/wc/during/{i:03}"), bytes("x"))
                .await,
            "concurrent create",
        )
    }));
    let watching = async {
        tokio::task::yield_now().await;
        let mut stream = watch(store, "/wc/", after).await;
        let mut seen = Vec::new();
        for _ in 0..100 {
            seen.push(next_event(&mut stream).await);
        }
        (stream, seen)
    };
    let (revs, (mut stream, seen)) = tokio::join!(writes, watching);
    let seen_revs: Vec<Revision> = seen.iter().map(WatchEvent::revision).collect();
    let mut sorted = revs.clone();
    sorted.sort_unstable();
    assert_eq!(
        seen_revs, sorted,
        "events out of order, missing or duplicated"
    );
    assert!(seen
        .iter()
        .all(|event| event.event_type == EventType::Created));
    expect_only_sentinel_next(store, &mut stream, "/wc/zz").await;
}

// ---------------------------------------------------------------------------------------------
// Compaction.

/// After compaction, history below the compacted revision is gone (lists and watches there fail
/// with `Compacted`) while the current state and later history are intact.
pub async fn compaction(store: &dyn Storage) {
    let r1 = create(store, "/k/a", "a1").await;
    let r2 = update(store, "/k/a", r1, "a2").await;
    let r3 = create(store, "/k/b", "b1").await;
    let r4 = delete(store, "/k/b").await;
    let r5 = create(store, "/k/c", "c1").await;
    let r6 = update(store, "/k/a", r2, "a3").await;
    let r7 = create(store, "/k/d", "d1").await;
    assert_eq!(
        ok(store.compacted_revision().await, "compacted revision"),
        0
    );

    ok(store.compact(r5).await, "compact");
    assert_eq!(
        ok(store.compacted_revision().await, "compacted revision"),
        r5
    );

    for old in [r1, r2, r3, r4] {
        let result = store
            .list(
                "/k/",
                ListOptions {
                    revision: Some(old),
                    ..ListOptions::default()
                },
            )
            .await;
        assert!(is_compacted(&result), "list at {old}: {result:?}");
    }
    expect_watch_compacted(store, "/k/", r1).await;
    expect_watch_compacted(store, "/k/", r3).await;
    expect_watch_compacted(store, "/k/", 0).await;

    let now = list(store, "/k/", ListOptions::default()).await;
    assert_eq!(
        now.items,
        vec![
            kv("/k/a", "a3", r1, r6),
            kv("/k/c", "c1", r5, r5),
            kv("/k/d", "d1", r7, r7)
        ]
    );
    assert_eq!(
        ok(store.get("/k/a").await, "get"),
        Some(kv("/k/a", "a3", r1, r6))
    );
    assert_eq!(ok(store.get("/k/b").await, "get"), None);
    assert_eq!(ok(store.count("/k/").await, "count"), 3);
    assert_eq!(
        list_at(store, "/k/", r6).await.items,
        vec![kv("/k/a", "a3", r1, r6), kv("/k/c", "c1", r5, r5)]
    );

    // History after the compacted revision still replays.
    let mut stream = watch(store, "/k/", r5).await;
    expect_events(
        &mut stream,
        &[
            (EventType::Updated, "/k/a", r6),
            (EventType::Created, "/k/d", r7),
        ],
    )
    .await;
    expect_only_sentinel_next(store, &mut stream, "/k/zz").await;

    // Compacting the future fails.
    let current = ok(store.current_revision().await, "current revision");
    let future = store.compact(current + 1000).await;
    assert!(
        matches!(future, Err(StorageError::FutureRevision { .. })),
        "got {future:?}"
    );
    // Writes go on with newer revisions.
    let r8 = update(store, "/k/c", r5, "c2").await;
    assert!(r8 > current);
}

/// The compacted revision never goes back, and revisions go on above it.
pub async fn compaction_never_goes_back(store: &dyn Storage) {
    let r1 = create(store, "/kb/a", "1").await;
    let r2 = update(store, "/kb/a", r1, "2").await;
    let r3 = delete(store, "/kb/a").await;
    ok(store.compact(r3).await, "compact");
    assert_eq!(ok(store.compacted_revision().await, "compacted"), r3);
    // Compacting an older revision again is refused or a no-op; never a step back.
    let again = store.compact(r2).await;
    assert!(again.is_ok() || is_compacted(&again), "got {again:?}");
    assert_eq!(ok(store.compacted_revision().await, "compacted"), r3);
    assert!(ok(store.current_revision().await, "current revision") >= r3);
    let r4 = create(store, "/kb/a", "3").await;
    assert!(r4 > r3, "revision {r4} after compacting at {r3}");
    assert_eq!(
        ok(store.get("/kb/a").await, "get"),
        Some(kv("/kb/a", "3", r4, r4))
    );
}

/// Compacting at the current revision keeps every live key and lets watches go on.
pub async fn compaction_keeps_current_state(store: &dyn Storage) {
    let mut revs = Vec::new();
    for i in 0..5 {
        revs.push(create(store, &format!("/kc/{i}"), "0").await);
    }
    for round in 1..4 {
        for (i, rev) in revs.iter_mut().enumerate() {
            *rev = update(store, &format!("/kc/{i}"), *rev, &round.to_string()).await;
        }
    }
    delete(store, "/kc/4").await;
    let current = ok(store.current_revision().await, "current revision");
    ok(store.compact(current).await, "compact");
    let now = list(store, "/kc/", ListOptions::default()).await;
    assert_eq!(keys(&now), ["/kc/0", "/kc/1", "/kc/2", "/kc/3"]);
    assert!(now.items.iter().all(|kv| kv.value == bytes("3")));
    assert_eq!(now.revision, current);
    let at_current = list_at(store, "/kc/", current).await;
    assert_eq!(at_current.items, now.items);
    let mut stream = watch(store, "/kc/", current).await;
    let rev = update(store, "/kc/0", revs[0], "4").await;
    expect_events(&mut stream, &[(EventType::Updated, "/kc/0", rev)]).await;
}

// ---------------------------------------------------------------------------------------------
// Progress and health.

/// A watch that asks for progress gets `Progress` items while no events flow, at a revision
/// covering the writes so far (also writes outside its prefix).
pub async fn progress_notifications(store: &dyn Storage) {
    let r1 = create(store, "/pn/a", "x").await;
    let mut stream = ok(store.watch("/pn/", r1, true).await, "watch");
    match next_item(&mut stream, PROGRESS_TIMEOUT).await {
        WatchItem::Progress(rev) => assert!(rev >= r1, "progress at {rev} before {r1}"),
        WatchItem::Event(event) => panic!("unexpected event {event:?}"),
    }
    let r2 = create(store, "/other/a", "x").await;
    let deadline = tokio::time::Instant::now() + PROGRESS_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_item(&mut stream, left).await {
            WatchItem::Progress(rev) if rev >= r2 => break,
            WatchItem::Progress(_) => {}
            WatchItem::Event(event) => panic!("unexpected event {event:?}"),
        }
    }
    // Events still arrive on a progress watch.
    let r3 = create(store, "/pn/b", "x").await;
    loop {
        match next_item(&mut stream, WATCH_TIMEOUT).await {
            WatchItem::Progress(rev) => assert!(rev < r3, "progress at {rev} before event {r3}"),
            WatchItem::Event(event) => {
                assert_eq!(event.kv, kv("/pn/b", "x", r3, r3));
                break;
            }
        }
    }
}

/// A working store reports healthy.
pub async fn health_check(store: &dyn Storage) {
    ok(store.check_health().await, "health");
    create(store, "/hc/a", "x").await;
    ok(store.check_health().await, "health");
}

/// Keys written with a time to live are deleted once it has passed (not before), as deletions
/// at new revisions that watches see; a later write without one keeps the key, and an update
/// with one makes a key expire.
pub async fn ttl_expires_keys(store: &dyn Storage) {
    const TTL: Duration = Duration::from_secs(2);
    let start = ok(store.current_revision().await, "current revision");
    let mut events = watch(store, "/ttl/", start).await;
    let began = std::time::Instant::now();
    let a = ok(
        store.create_with_ttl("/ttl/a", bytes("a"), Some(TTL)).await,
        "create /ttl/a with a ttl",
    );
    let b = ok(
        store.create_with_ttl("/ttl/b", bytes("b"), Some(TTL)).await,
        "create /ttl/b with a ttl",
    );
    let b2 = update(store, "/ttl/b", b, "b2").await;
    let c = create(store, "/ttl/c", "c").await;
    let c2 = ok(
        store
            .update_with_ttl("/ttl/c", c, bytes("c2"), Some(TTL))
            .await,
        "update /ttl/c with a ttl",
    );
    expect_events(
        &mut events,
        &[
            (EventType::Created, "/ttl/a", a),
            (EventType::Created, "/ttl/b", b),
            (EventType::Updated, "/ttl/b", b2),
            (EventType::Created, "/ttl/c", c),
            (EventType::Updated, "/ttl/c", c2),
        ],
    )
    .await;
    let mut expired = BTreeSet::new();
    for _ in 0..2 {
        let event = next_event(&mut events).await;
        assert_eq!(event.event_type, EventType::Deleted, "{event:?}");
        assert!(event.revision() > c2, "{event:?}");
        expired.insert(event.kv.key.clone());
    }
    assert!(
        began.elapsed() >= TTL - Duration::from_millis(100),
        "expired after {:?}, before the ttl",
        began.elapsed()
    );
    assert_eq!(
        expired,
        BTreeSet::from(["/ttl/a".to_string(), "/ttl/c".to_string()])
    );
    assert_eq!(ok(store.get("/ttl/a").await, "get /ttl/a"), None);
    assert_eq!(ok(store.get("/ttl/c").await, "get /ttl/c"), None);
    let kept = ok(store.get("/ttl/b").await, "get /ttl/b").expect("/ttl/b kept");
    assert_eq!(kept.mod_revision, b2);
}
