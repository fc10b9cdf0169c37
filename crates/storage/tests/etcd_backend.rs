//! Tests of the etcd backend beyond the shared contract: key layout, request limits, progress,
//! several stores on one etcd (HA), coordinated compaction, and failures (unreachable,
//! frozen or dying etcd). Each test starts its own throwaway etcd and fails if it cannot.

use std::time::Duration;

use bytes::Bytes;
use etcd_client::{Client, GetOptions};
use futures::StreamExt;
use storage::etcd::testing::{TestEtcd, TestEtcdOptions};
use storage::etcd::{CompactionRound, CompactionState, EtcdConfig, EtcdStore};
use storage::{EventType, ListOptions, Revision, Storage, StorageError, WatchItem, WatchStream};

const TIMEOUT: Duration = Duration::from_secs(20);

async fn server_with(options: TestEtcdOptions) -> TestEtcd {
    match TestEtcd::start_with(options).await {
        Ok(server) => server,
        Err(err) => panic!("cannot start a test etcd: {err}"),
    }
}

async fn server() -> TestEtcd {
    server_with(TestEtcdOptions::default()).await
}

async fn store(config: EtcdConfig) -> EtcdStore {
    EtcdStore::connect(config).await.expect("etcd client")
}

fn value(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

async fn next(stream: &mut WatchStream) -> Result<WatchItem, StorageError> {
    match tokio::time::timeout(TIMEOUT, stream.next()).await {
        Ok(Some(item)) => item,
        Ok(None) => panic!("watch stream ended"),
        Err(_) => panic!("no watch item within {TIMEOUT:?}"),
    }
}

async fn next_event(stream: &mut WatchStream) -> storage::WatchEvent {
    loop {
        match next(stream).await {
            Ok(WatchItem::Event(event)) => return event,
            Ok(WatchItem::Progress(_)) => {}
            Err(err) => panic!("watch failed: {err:?}"),
        }
    }
}

/// Waits for a progress item at or above `at_least`; events are not expected.
async fn progress_reaching(stream: &mut WatchStream, at_least: Revision) -> Revision {
    loop {
        match next(stream).await {
            Ok(WatchItem::Progress(rev)) if rev >= at_least => return rev,
            Ok(WatchItem::Progress(_)) => {}
            other => panic!("expected progress, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Layout and limits.

/// Keys land in etcd exactly as given, with the given bytes, and nothing else is written.
#[tokio::test]
async fn keys_are_stored_as_given() {
    let etcd = server().await;
    let store = store(etcd.config()).await;
    let key = "/registry/configmaps/ns/name";
    let rev = store
        .create(key, value("{\"data\":1}"))
        .await
        .expect("create");
    store.check_health().await.expect("health");
    store.current_revision().await.expect("revision");

    let mut raw = Client::connect([etcd.endpoint()], None)
        .await
        .expect("raw client");
    let got = raw.get(key, None).await.expect("raw get");
    let kvs = got.kvs();
    assert_eq!(kvs.len(), 1);
    assert_eq!(kvs[0].key(), key.as_bytes());
    assert_eq!(kvs[0].value(), b"{\"data\":1}");
    assert_eq!(
        (kvs[0].create_revision(), kvs[0].mod_revision()),
        (rev, rev)
    );
    let everything = raw
        .get("", Some(GetOptions::new().with_all_keys().with_keys_only()))
        .await
        .expect("raw range");
    let keys: Vec<&[u8]> = everything.kvs().iter().map(|kv| kv.key()).collect();
    assert_eq!(keys, [key.as_bytes()], "no prefix, no bookkeeping keys");

    // And what others write is read as is.
    raw.put("/registry/secrets/ns/s", "raw", None)
        .await
        .expect("raw put");
    let read = store.get("/registry/secrets/ns/s").await.expect("get");
    assert_eq!(read.map(|kv| kv.value), Some(value("raw")));
}

/// Values over etcd's request limit fail with `TooLarge`, whether etcd's own check or the gRPC
/// message limit refuses them; the store stays usable.
#[tokio::test]
async fn values_over_the_request_limit_are_too_large() {
    const LIMIT: usize = 1024 * 1024;
    let etcd = server_with(TestEtcdOptions {
        max_request_bytes: Some(LIMIT),
        ..TestEtcdOptions::default()
    })
    .await;
    let store = store(EtcdConfig {
        max_request_bytes: LIMIT,
        ..etcd.config()
    })
    .await;
    // Over etcd's limit, under gRPC's (limit + 512 KiB): "etcdserver: request is too large".
    let over = Bytes::from(vec![b'x'; LIMIT + LIMIT / 4]);
    // Over both: "grpc: received message larger than max".
    let far_over = Bytes::from(vec![b'x'; 2 * LIMIT]);
    for big in [over, far_over] {
        let size = big.len();
        let created = store.create("/big/a", big.clone()).await;
        assert_eq!(created, Err(StorageError::TooLarge { size, limit: LIMIT }));
        let rev = store
            .create("/big/b", value("small"))
            .await
            .expect("create");
        let updated = store.update("/big/b", rev, big).await;
        assert_eq!(updated, Err(StorageError::TooLarge { size, limit: LIMIT }));
        store.delete("/big/b", Some(rev)).await.expect("delete");
    }
    let fits = Bytes::from(vec![b'x'; LIMIT / 2]);
    store.create("/big/c", fits.clone()).await.expect("create");
    assert_eq!(
        store.get("/big/c").await.expect("get").map(|kv| kv.value),
        Some(fits)
    );
}

/// A list larger than gRPC's default 4 MiB message limit still comes back in one response.
#[tokio::test]
async fn large_lists_are_received() {
    let etcd = server().await;
    let store = store(etcd.config()).await;
    let big = Bytes::from(vec![b'v'; 1024 * 1024]);
    for i in 0..6 {
        store
            .create(&format!("/large/{i}"), big.clone())
            .await
            .expect("create");
    }
    let listed = store
        .list("/large/", ListOptions::default())
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 6);
}

// ---------------------------------------------------------------------------------------------
// Progress.

/// With progress requests, `Progress` items flow on an idle watch, cover writes elsewhere,
/// never run ahead of an event, and stop nothing from arriving.
#[tokio::test]
async fn progress_from_progress_requests() {
    let etcd = server().await;
    let store = store(EtcdConfig {
        progress_interval: Duration::from_millis(50),
        ..etcd.config()
    })
    .await;
    let start = store.create("/p/a", value("x")).await.expect("create");
    let mut stream = store.watch("/p/", start, true).await.expect("watch");
    progress_reaching(&mut stream, start).await;
    let elsewhere = store.create("/q/a", value("x")).await.expect("create");
    progress_reaching(&mut stream, elsewhere).await;
    // Writes under the prefix interleaved with progress: every item is in revision order.
    let mut last = elsewhere;
    for i in 0..20 {
        let rev = store
            .create(&format!("/p/{i:02}"), value("x"))
            .await
            .expect("create");
        loop {
            match next(&mut stream).await.expect("watch item") {
                WatchItem::Progress(p) => {
                    assert!(
                        p >= last && p < rev,
                        "progress {p} out of order before {rev}"
                    );
                    last = p;
                }
                WatchItem::Event(event) => {
                    assert_eq!(event.revision(), rev);
                    last = rev;
                    break;
                }
            }
        }
    }
}

/// etcd's own progress notifications (`--experimental-watch-progress-notify-interval`) are
/// reported too, without progress requests.
#[tokio::test]
async fn progress_from_etcd_notifications() {
    let etcd = server_with(TestEtcdOptions {
        progress_notify_interval: Some(Duration::from_millis(200)),
        ..TestEtcdOptions::default()
    })
    .await;
    let store = store(EtcdConfig {
        progress_interval: Duration::ZERO,
        ..etcd.config()
    })
    .await;
    let start = store.create("/n/a", value("x")).await.expect("create");
    let mut stream = store.watch("/n/", start, true).await.expect("watch");
    let elsewhere = store.create("/m/a", value("x")).await.expect("create");
    progress_reaching(&mut stream, elsewhere).await;

    // A watch that did not ask for progress gets none.
    let mut quiet = store.watch("/n/", start, false).await.expect("watch");
    let nothing = tokio::time::timeout(Duration::from_secs(1), quiet.next()).await;
    assert!(nothing.is_err(), "unexpected item {nothing:?}");
}

// ---------------------------------------------------------------------------------------------
// Several API servers on one etcd.

/// Two stores (two API servers) on one etcd see each other's writes, in watches and lists,
/// and their compare-and-swaps conflict with each other.
#[tokio::test]
async fn two_stores_share_one_etcd() {
    let etcd = server().await;
    let a = store(etcd.config()).await;
    let b = store(etcd.config()).await;
    let start = b.current_revision().await.expect("revision");
    let mut b_watch = b
        .watch("/registry/pods/", start, false)
        .await
        .expect("watch");

    let r1 = a
        .create("/registry/pods/ns/p", value("v1"))
        .await
        .expect("create on a");
    let seen = next_event(&mut b_watch).await;
    assert_eq!(
        (seen.event_type, seen.kv.key.as_str(), seen.revision()),
        (EventType::Created, "/registry/pods/ns/p", r1)
    );
    assert_eq!(
        b.create("/registry/pods/ns/p", value("dup")).await,
        Err(StorageError::AlreadyExists {
            key: "/registry/pods/ns/p".into()
        })
    );

    let r2 = b
        .update("/registry/pods/ns/p", r1, value("v2"))
        .await
        .expect("update on b");
    assert_eq!(
        a.update("/registry/pods/ns/p", r1, value("stale")).await,
        Err(StorageError::Conflict {
            key: "/registry/pods/ns/p".into(),
            expected: r1,
            actual: r2
        })
    );
    assert_eq!(
        a.delete("/registry/pods/ns/p", Some(r1)).await,
        Err(StorageError::Conflict {
            key: "/registry/pods/ns/p".into(),
            expected: r1,
            actual: r2
        })
    );
    let seen = next_event(&mut b_watch).await;
    assert_eq!(
        (seen.event_type, seen.revision(), seen.prev_value),
        (EventType::Updated, r2, Some(value("v1")))
    );

    let (deleted, r3) = a
        .delete("/registry/pods/ns/p", Some(r2))
        .await
        .expect("delete on a");
    assert_eq!(deleted.value, value("v2"));
    let seen = next_event(&mut b_watch).await;
    assert_eq!((seen.event_type, seen.revision()), (EventType::Deleted, r3));

    let at = ListOptions {
        revision: Some(r2),
        ..ListOptions::default()
    };
    let on_a = a.list("/registry/pods/", at.clone()).await.expect("list");
    let on_b = b.list("/registry/pods/", at).await.expect("list");
    assert_eq!(on_a, on_b);
    assert_eq!(on_a.items.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Compaction.

/// Upstream's protocol, round by round: with two servers, one compaction per interval.
#[tokio::test]
async fn coordinated_compaction_rounds() {
    let etcd = server().await;
    let a = store(etcd.config()).await;
    let b = store(etcd.config()).await;
    let (mut sa, mut sb) = (CompactionState::default(), CompactionState::default());
    let write = |i: usize| {
        let a = a.clone();
        async move {
            a.create(&format!("/c/{i}"), value("x"))
                .await
                .expect("create")
        }
    };

    // Interval 1: a records the protocol on a fresh key; b sees it.
    assert_eq!(
        a.compaction_round(&mut sa).await,
        Ok(CompactionRound::Bootstrapped)
    );
    assert_eq!(
        b.compaction_round(&mut sb).await,
        Ok(CompactionRound::Lost { recorded: None })
    );
    let first_target = sa.revision;
    let old = write(0).await;
    write(1).await;

    // Interval 2: a compacts at what it saw in interval 1; b only learns of it.
    assert_eq!(
        a.compaction_round(&mut sa).await,
        Ok(CompactionRound::Compacted(first_target))
    );
    assert_eq!(
        b.compaction_round(&mut sb).await,
        Ok(CompactionRound::Lost {
            recorded: Some(first_target)
        })
    );
    assert_eq!(b.compacted_revision().await, Ok(first_target));
    let below = b
        .list(
            "/c/",
            ListOptions {
                revision: Some(first_target - 1),
                ..ListOptions::default()
            },
        )
        .await;
    assert!(
        matches!(below, Err(StorageError::Compacted { .. })),
        "{below:?}"
    );
    write(2).await;

    // Interval 3: b goes first this time and wins; a loses.
    let b_target = sb.revision;
    assert_eq!(
        b.compaction_round(&mut sb).await,
        Ok(CompactionRound::Compacted(b_target))
    );
    assert_eq!(
        a.compaction_round(&mut sa).await,
        Ok(CompactionRound::Lost {
            recorded: Some(b_target)
        })
    );
    assert!(b_target > old);
    assert_eq!(a.compacted_revision().await, Ok(b_target));
    assert_eq!(sa.version, sb.version);
}

/// Two compactors running on one etcd with the same interval compact about once per
/// interval between them, not once each.
#[tokio::test]
async fn coordinated_compactors_share_the_work() {
    const INTERVAL: Duration = Duration::from_millis(300);
    let etcd = server().await;
    let a = store(etcd.config()).await;
    let b = store(etcd.config()).await;
    let started = tokio::time::Instant::now();
    let mut ca = a.compact_coordinated(INTERVAL).expect("compactor");
    let mut cb = b.compact_coordinated(INTERVAL).expect("compactor");
    let mut i = 0;
    while started.elapsed() < INTERVAL * 8 {
        a.create(&format!("/cc/{i}"), value("x"))
            .await
            .expect("create");
        i += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ca.stop();
    cb.stop();
    let elapsed = started.elapsed();
    let total = ca.compactions() + cb.compactions();
    let intervals = (elapsed.as_millis() / INTERVAL.as_millis()) as u64;
    assert!(total >= 1, "no compaction in {elapsed:?}");
    assert!(
        total <= intervals + 1,
        "{total} compactions in {intervals} intervals ({} + {})",
        ca.compactions(),
        cb.compactions()
    );
    let compacted = a.compacted_revision().await.expect("compacted");
    assert!(compacted > 0);
    assert_eq!(b.compacted_revision().await, Ok(compacted));
}

/// A watch below another server's compaction fails with etcd's compact revision, which the
/// store then remembers.
#[tokio::test]
async fn compacted_watch_reports_the_compact_revision() {
    let etcd = server().await;
    let a = store(etcd.config()).await;
    let b = store(etcd.config()).await;
    let r1 = a.create("/w/a", value("1")).await.expect("create");
    let r2 = a.update("/w/a", r1, value("2")).await.expect("update");
    a.compact(r2).await.expect("compact");
    assert_eq!(b.compacted_revision().await, Ok(0), "b has not seen it yet");
    match b.watch("/w/", 0, false).await {
        Err(err) => panic!("expected the stream to report compaction, got {err:?}"),
        Ok(mut stream) => {
            assert_eq!(
                next(&mut stream).await,
                Err(StorageError::Compacted {
                    requested: 0,
                    compacted: r2
                })
            );
            assert!(stream.next().await.is_none(), "the stream ends after it");
        }
    }
    assert_eq!(b.compacted_revision().await, Ok(r2));
    // Now known, a watch below it fails at once.
    let again = b.watch("/w/", r1, false).await.err();
    assert_eq!(
        again,
        Some(StorageError::Compacted {
            requested: r1,
            compacted: r2
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Failures.

/// Nothing listening: requests fail with `Unavailable`, the preflight gives up after its
/// deadline, and nothing panics.
#[tokio::test]
async fn unreachable_etcd() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let store = store(EtcdConfig {
        dial_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(2),
        health_timeout: Duration::from_millis(500),
        ..EtcdConfig::new([format!("http://127.0.0.1:{port}")])
    })
    .await;
    let got = store.get("/a").await;
    assert!(matches!(got, Err(StorageError::Unavailable(_))), "{got:?}");
    let started = tokio::time::Instant::now();
    let ready = store.wait_ready(Duration::from_secs(1)).await;
    assert!(
        matches!(ready, Err(StorageError::Unavailable(_))),
        "{ready:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(store.check_health().await.is_err());
    let watched = store.watch("/a/", 0, false).await.err();
    assert!(
        matches!(watched, Some(StorageError::Unavailable(_))),
        "{watched:?}"
    );
}

/// A frozen etcd makes requests time out; once it thaws, the store serves again.
#[tokio::test]
async fn frozen_etcd_times_out() {
    let etcd = server().await;
    let store = store(EtcdConfig {
        request_timeout: Duration::from_millis(500),
        health_timeout: Duration::from_millis(500),
        ..etcd.config()
    })
    .await;
    store.create("/f/a", value("x")).await.expect("create");
    etcd.pause().expect("pause etcd");
    let got = store.get("/f/a").await;
    let health = store.check_health().await;
    etcd.resume().expect("resume etcd");
    assert!(matches!(got, Err(StorageError::Timeout(_))), "{got:?}");
    assert!(
        matches!(health, Err(StorageError::Timeout(_))),
        "{health:?}"
    );
    store
        .wait_ready(Duration::from_secs(10))
        .await
        .expect("ready again");
    assert!(store.get("/f/a").await.expect("get").is_some());
}

/// A watch whose etcd goes away ends with `Unavailable`.
#[tokio::test]
async fn watch_ends_when_etcd_stops() {
    let mut etcd = server().await;
    let store = store(etcd.config()).await;
    let rev = store.create("/s/a", value("x")).await.expect("create");
    let mut stream = store.watch("/s/", rev, false).await.expect("watch");
    etcd.kill();
    match next(&mut stream).await {
        Err(StorageError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the error"
    );
}

/// Configuration mistakes are reported by `connect`, not at the first request.
#[tokio::test]
async fn bad_configuration_fails_connect() {
    let none = EtcdStore::connect(EtcdConfig::default()).await.err();
    assert!(matches!(none, Some(StorageError::Internal(_))), "{none:?}");
    let missing_ca = EtcdStore::connect(EtcdConfig {
        ca_file: Some("/nonexistent/ca.crt".into()),
        ..EtcdConfig::new(["https://127.0.0.1:2379"])
    })
    .await
    .err();
    assert!(
        matches!(&missing_ca, Some(StorageError::Internal(msg)) if msg.contains("ca.crt")),
        "{missing_ca:?}"
    );
    let half_identity = EtcdStore::connect(EtcdConfig {
        cert_file: Some("/nonexistent/client.crt".into()),
        ..EtcdConfig::new(["https://127.0.0.1:2379"])
    })
    .await
    .err();
    assert!(
        matches!(half_identity, Some(StorageError::Internal(_))),
        "{half_identity:?}"
    );
}
