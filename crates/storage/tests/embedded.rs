//! Tests of the embedded SQLite backend beyond the shared contract: persistence across
//! restarts and crashes, concurrency, limits, lagging watchers, physical compaction.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use storage::embedded::{EmbeddedOptions, EmbeddedStore, DEFAULT_MAX_VALUE_BYTES};
use storage::{EventType, ListOptions, Storage, StorageError, WatchItem};

const TIMEOUT: Duration = Duration::from_secs(20);

fn open(path: &Path) -> EmbeddedStore {
    EmbeddedStore::open(path).expect("open store")
}

fn value(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn kv_rows(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).expect("open sqlite");
    conn.query_row("SELECT count(*) FROM kv", [], |row| row.get(0))
        .expect("count rows")
}

#[tokio::test]
async fn reopen_continues_data_and_revision() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.db");
    let store = open(&path);
    let r1 = store.create("/a", value("1")).await.expect("create");
    let r2 = store.update("/a", r1, value("2")).await.expect("update");
    store.create("/b", value("b")).await.expect("create");
    // The newest row is a tombstone that compaction removes: the revision must not go back.
    let (_, r4) = store.delete("/b", None).await.expect("delete");
    store.compact(r4).await.expect("compact");
    let before = store.current_revision().await.expect("revision");
    assert_eq!(before, r4);
    drop(store);

    let store = open(&path);
    assert_eq!(store.current_revision().await.expect("revision"), before);
    assert_eq!(store.compacted_revision().await.expect("compacted"), r4);
    let a = store.get("/a").await.expect("get").expect("key /a");
    assert_eq!(
        (a.value, a.create_revision, a.mod_revision),
        (value("2"), r1, r2)
    );
    assert_eq!(store.get("/b").await.expect("get"), None);
    let old = store
        .list(
            "/",
            ListOptions {
                revision: Some(r1),
                ..ListOptions::default()
            },
        )
        .await;
    assert!(
        matches!(old, Err(StorageError::Compacted { .. })),
        "{old:?}"
    );
    let r5 = store.create("/b", value("again")).await.expect("create");
    assert!(r5 > before, "revision {r5} after reopening at {before}");
    drop(store);

    let store = open(&path);
    assert_eq!(store.current_revision().await.expect("revision"), r5);
    assert_eq!(store.count("/").await.expect("count"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_burst_is_all_acknowledged_and_listed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(open(&dir.path().join("state.db")));
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .create(&format!("/burst/{i:04}"), value(&i.to_string()))
                    .await
            })
        })
        .collect();
    let mut revs = Vec::new();
    for task in tasks {
        revs.push(task.await.expect("task").expect("create"));
    }
    revs.sort_unstable();
    revs.dedup();
    assert_eq!(revs.len(), 1000, "every write has its own revision");
    let listed = store
        .list("/burst/", ListOptions::default())
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1000);
    assert_eq!(listed.revision, revs[999]);
    for (i, kv) in listed.items.iter().enumerate() {
        assert_eq!(kv.key, format!("/burst/{i:04}"));
        assert_eq!(kv.value, value(&i.to_string()));
    }
    assert_eq!(store.count("/burst/").await.expect("count"), 1000);
}

/// Writes that fail inside a batch (taken names, stale revisions) are rolled back on their own:
/// the batch's other writes commit, and only they get revisions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_writes_in_a_batch_leave_no_trace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.db");
    let store = Arc::new(open(&path));
    let base = store
        .create("/mixed/base", value("0"))
        .await
        .expect("create");
    let tasks: Vec<_> = (0..400)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                match i % 4 {
                    // Every key is created twice: one create wins.
                    0 | 1 => store
                        .create(&format!("/mixed/{:03}", i / 4), value(&i.to_string()))
                        .await
                        .map(Some),
                    // Updates at a revision that was never the base key's: conflicts.
                    2 => store
                        .update("/mixed/base", base + 1_000_000, value("stale"))
                        .await
                        .map(Some),
                    _ => store
                        .delete("/mixed/missing", None)
                        .await
                        .map(|(_, rev)| Some(rev)),
                }
                .or_else(|err| match err {
                    StorageError::AlreadyExists { .. }
                    | StorageError::Conflict { .. }
                    | StorageError::NotFound { .. } => Ok(None),
                    other => Err(other),
                })
            })
        })
        .collect();
    let mut revs = Vec::new();
    for task in tasks {
        if let Some(rev) = task.await.expect("task").expect("write") {
            revs.push(rev);
        }
    }
    revs.sort_unstable();
    // 100 creates won, and only they took revisions, one each, with no gaps.
    let expected: Vec<_> = (base + 1..=base + 100).collect();
    assert_eq!(revs, expected);
    assert_eq!(
        store.current_revision().await.expect("revision"),
        base + 100
    );
    assert_eq!(kv_rows(&path), 101);
    let listed = store
        .list("/mixed/", ListOptions::default())
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 101);
    let base_kv = store.get("/mixed/base").await.expect("get").expect("base");
    assert_eq!((base_kv.mod_revision, base_kv.value), (base, value("0")));
}

#[tokio::test]
async fn values_over_the_limit_are_too_large() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir.path().join("state.db"));
    let limit = DEFAULT_MAX_VALUE_BYTES;
    assert_eq!(limit, 1536 * 1024);
    let big = Bytes::from(vec![7u8; limit + 1]);
    let created = store.create("/big", big.clone()).await;
    assert_eq!(
        created,
        Err(StorageError::TooLarge {
            size: limit + 1,
            limit
        })
    );
    let at_limit = Bytes::from(vec![7u8; limit]);
    let rev = store
        .create("/big", at_limit.clone())
        .await
        .expect("create");
    let updated = store.update("/big", rev, big).await;
    assert!(
        matches!(updated, Err(StorageError::TooLarge { .. })),
        "{updated:?}"
    );
    let got = store.get("/big").await.expect("get").expect("key");
    assert_eq!(got.value, at_limit);
    assert_eq!(store.current_revision().await.expect("revision"), rev);
}

#[tokio::test]
async fn lagging_watcher_catches_up_from_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = EmbeddedOptions {
        watch_buffer: 2,
        ..EmbeddedOptions::default()
    };
    let store = EmbeddedStore::open_with(&dir.path().join("state.db"), options).expect("open");
    let mut stream = store.watch("/lag/", 0, false).await.expect("watch");
    let mut rev = store.create("/lag/a", value("0")).await.expect("create");
    let mut expected = vec![rev];
    // Far more batches than the watcher's buffer, while it reads nothing.
    for i in 1..300 {
        rev = store
            .update("/lag/a", rev, value(&i.to_string()))
            .await
            .expect("update");
        expected.push(rev);
    }
    for (i, &want) in expected.iter().enumerate() {
        let item = tokio::time::timeout(TIMEOUT, stream.next())
            .await
            .expect("event in time")
            .expect("stream open")
            .expect("no error");
        let WatchItem::Event(event) = item else {
            panic!("unexpected {item:?}");
        };
        assert_eq!(event.revision(), want);
        assert_eq!(event.kv.value, value(&i.to_string()));
    }
    let last = store.create("/lag/zz", value("end")).await.expect("create");
    let item = tokio::time::timeout(TIMEOUT, stream.next())
        .await
        .expect("event in time")
        .expect("stream open")
        .expect("no error");
    assert!(
        matches!(item, WatchItem::Event(ref e) if e.revision() == last),
        "{item:?}"
    );
}

#[tokio::test]
async fn watch_ends_when_the_store_closes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir.path().join("state.db"));
    let mut stream = store.watch("/", 0, false).await.expect("watch");
    let rev = store.create("/a", value("x")).await.expect("create");
    drop(store);
    let item = tokio::time::timeout(TIMEOUT, stream.next())
        .await
        .expect("in time");
    assert!(
        matches!(item, Some(Ok(WatchItem::Event(ref e))) if e.revision() == rev),
        "{item:?}"
    );
    let item = tokio::time::timeout(TIMEOUT, stream.next())
        .await
        .expect("in time");
    assert!(
        matches!(item, Some(Err(StorageError::Unavailable(_)))),
        "{item:?}"
    );
    let item = tokio::time::timeout(TIMEOUT, stream.next())
        .await
        .expect("in time");
    assert!(item.is_none(), "{item:?}");
}

#[tokio::test]
async fn compaction_deletes_superseded_rows_in_chunks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.db");
    let store = open(&path);
    // More revisions than one compaction chunk.
    let mut rev = store.create("/c/a", value("0")).await.expect("create");
    for i in 1..2500 {
        rev = store
            .update("/c/a", rev, value(&i.to_string()))
            .await
            .expect("update");
    }
    let b = store.create("/c/b", value("b")).await.expect("create");
    store.delete("/c/b", Some(b)).await.expect("delete");
    let kept = store.create("/c/c", value("c")).await.expect("create");
    let current = store.current_revision().await.expect("revision");
    assert_eq!(kv_rows(&path), 2503);

    // Writes keep working while compaction runs.
    let (compacted, written) = tokio::join!(store.compact(current), async {
        store.create("/c/d", value("d")).await
    });
    compacted.expect("compact");
    let d = written.expect("create during compaction");
    // Left: /c/a's newest row, /c/c, /c/d.
    assert_eq!(kv_rows(&path), 3);
    let listed = store
        .list("/c/", ListOptions::default())
        .await
        .expect("list");
    let keys: Vec<_> = listed
        .items
        .iter()
        .map(|kv| (kv.key.as_str(), kv.mod_revision))
        .collect();
    assert_eq!(keys, [("/c/a", rev), ("/c/c", kept), ("/c/d", d)]);
    // A key whose history was dropped can be created again.
    let again = store.create("/c/b", value("b2")).await.expect("create");
    let mut stream = store.watch("/c/", current, false).await.expect("watch");
    let mut seen = Vec::new();
    for _ in 0..2 {
        let item = tokio::time::timeout(TIMEOUT, stream.next())
            .await
            .expect("in time");
        match item {
            Some(Ok(WatchItem::Event(event))) => seen.push((event.event_type, event.revision())),
            other => panic!("unexpected {other:?}"),
        }
    }
    seen.sort_by_key(|&(_, rev)| rev);
    assert_eq!(seen, [(EventType::Created, d), (EventType::Created, again)]);
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.db");
    std::fs::write(&path, vec![0x5Au8; 8192]).expect("write garbage");
    match EmbeddedStore::open(&path) {
        Err(StorageError::Internal(message)) => assert!(message.contains("sqlite"), "{message}"),
        Err(other) => panic!("unexpected error {other:?}"),
        Ok(_) => panic!("opened a garbage file"),
    }
}

/// Set in the child process of the kill -9 tests: the database to write to.
const CRASH_CHILD_ENV: &str = "STORAGE_EMBEDDED_CRASH_CHILD_DB";

/// Set in the child process of the kill -9 tests: how many bytes each value has (at least the
/// key's length).
const CRASH_VALUE_BYTES_ENV: &str = "STORAGE_EMBEDDED_CRASH_VALUE_BYTES";

/// The value the crash child writes under `key`: the key, padded to `bytes`.
fn crash_value(key: &str, bytes: usize) -> Bytes {
    let mut text = key.to_owned();
    while text.len() < bytes {
        text.push('.');
    }
    Bytes::from(text)
}

/// In the child process: writes keys as fast as it can, printing each acknowledged one.
/// Without the environment variable (a normal test run) it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() {
    let Ok(path) = std::env::var(CRASH_CHILD_ENV) else {
        return;
    };
    let bytes: usize = std::env::var(CRASH_VALUE_BYTES_ENV)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(0);
    let store = Arc::new(open(Path::new(&path)));
    let (acks, mut acked) = tokio::sync::mpsc::unbounded_channel();
    for task in 0..8 {
        let store = Arc::clone(&store);
        let acks = acks.clone();
        tokio::spawn(async move {
            for i in 0.. {
                let key = format!("/crash/{task}/{i:06}");
                if let Ok(rev) = store.create(&key, crash_value(&key, bytes)).await {
                    let _ = acks.send(format!("{key} {rev}"));
                }
            }
        });
    }
    let mut stdout = std::io::stdout();
    while let Some(line) = acked.recv().await {
        let _ = writeln!(stdout, "ACK {line}");
        let _ = stdout.flush();
    }
}

/// Runs [`crash_child`] on a new database with values of `value_bytes`, kills it with SIGKILL
/// once `enough(database path, acknowledged so far)` holds, and checks that every acknowledged
/// write is there after reopening.
fn kill_9_and_check(value_bytes: usize, enough: impl Fn(&Path, usize) -> bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.db");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CRASH_CHILD_ENV, &path)
        .env(CRASH_VALUE_BYTES_ENV, value_bytes.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut acked = Vec::new();
    let mut reached = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read child output");
        if let Some(ack) = line.strip_prefix("ACK ") {
            let (key, rev) = ack.split_once(' ').expect("ack line");
            acked.push((key.to_owned(), rev.parse::<i64>().expect("revision")));
            if enough(&path, acked.len()) {
                reached = true;
                break;
            }
        }
    }
    // SIGKILL while writes are in flight.
    child.kill().expect("kill child");
    let _ = child.wait();
    assert!(
        reached,
        "the child stopped after {} acknowledged writes",
        acked.len()
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = open(&path);
        let current = store.current_revision().await.expect("revision");
        for (key, rev) in &acked {
            let kv = store.get(key).await.expect("get");
            let kv = kv.unwrap_or_else(|| panic!("acknowledged {key} at {rev} was lost"));
            assert_eq!(
                (kv.mod_revision, kv.value),
                (*rev, crash_value(key, value_bytes))
            );
            assert!(*rev <= current);
        }
        let next = store.create("/after", value("x")).await.expect("create");
        assert!(next > current);
    });
}

#[test]
fn kill_9_keeps_acknowledged_writes() {
    kill_9_and_check(0, |_, acked| acked >= 500);
}

/// The same after the WAL has been copied into the database file and started over at least
/// once, so that the crash leaves new frames over old ones in the WAL file.
#[test]
fn kill_9_after_checkpoints_keeps_acknowledged_writes() {
    // 8 KiB values: three pages each, so a few thousand writes fill the checkpoint window.
    let copied_at = std::cell::Cell::new(None::<usize>);
    kill_9_and_check(8 * 1024, |path, acked| {
        if copied_at.get().is_none() && acked % 50 == 0 {
            // Pages reach the database file only through checkpoints.
            let db = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if db > 8 << 20 {
                copied_at.set(Some(acked));
            }
        }
        // Keep writing for a while after that: the WAL starts over at the next commit.
        copied_at.get().is_some_and(|at| acked >= at + 1_000) || acked >= 20_000
    });
    assert!(
        copied_at.get().is_some(),
        "no checkpoint within 20,000 writes"
    );
}
