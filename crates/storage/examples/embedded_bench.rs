//! Measures the embedded store: concurrent creates (group commit with fsync), then reads.
//!
//! `cargo run -p storage --release --example embedded_bench -- [KEYS] [TASKS] [VALUE_BYTES]
//! [GROUP_COMMIT_WAIT_MICROS]` (defaults: 50000 keys, 16 tasks, 1024-byte values, 200 µs). Prints figures; asserts nothing beyond
//! the results being complete.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use storage::embedded::{EmbeddedOptions, EmbeddedStore};
use storage::{ListOptions, Storage, WatchItem};

fn arg(index: usize, default: usize) -> Result<usize, Box<dyn Error>> {
    match std::env::args().nth(index) {
        Some(text) => Ok(text.parse()?),
        None => Ok(default),
    }
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let keys = arg(1, 50_000)?;
    let tasks = arg(2, 16)?.max(1);
    let value_bytes = arg(3, 1024)?;
    let wait = Duration::from_micros(u64::try_from(arg(4, 200)?)?);
    let dir = tempfile::tempdir()?;
    let options = EmbeddedOptions {
        group_commit_wait: wait,
        ..EmbeddedOptions::default()
    };
    let store = Arc::new(EmbeddedStore::open_with(
        &dir.path().join("bench.db"),
        options,
    )?);
    let value = Bytes::from(vec![b'x'; value_bytes]);
    println!(
        "embedded store: {keys} keys, {tasks} writer tasks, {value_bytes}-byte values, \
         group commit wait {wait:?}"
    );

    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = Arc::clone(&store);
        let value = value.clone();
        handles.push(tokio::spawn(async move {
            let mut i = task;
            while i < keys {
                store
                    .create(
                        &format!("/registry/configmaps/ns{}/cm{i:06}", i % 10),
                        value.clone(),
                    )
                    .await?;
                i += tasks;
            }
            Ok::<_, storage::StorageError>(())
        }));
    }
    for handle in handles {
        handle.await??;
    }
    let elapsed = started.elapsed();
    println!(
        "creates:                {keys} in {:.2?} = {:.0} writes/s",
        elapsed,
        per_second(keys, elapsed)
    );
    let mid = store.current_revision().await? - (keys as i64) / 2;

    let started = Instant::now();
    let mut sequential = 0;
    for i in 0..500 {
        let key = format!("/registry/seq/k{i}");
        store.create(&key, value.clone()).await?;
        sequential += 1;
    }
    let elapsed = started.elapsed();
    println!(
        "sequential creates:     {sequential} in {:.2?} = {:.2?} per write",
        elapsed,
        elapsed / sequential
    );

    let prefix = "/registry/configmaps/";
    for round in 0..3 {
        let started = Instant::now();
        let listed = store.list(prefix, ListOptions::default()).await?;
        let elapsed = started.elapsed();
        assert_eq!(listed.items.len(), keys);
        println!(
            "list all at current:    {} items in {elapsed:.2?} (round {round})",
            listed.items.len()
        );
    }

    let started = Instant::now();
    let page = store
        .list(
            prefix,
            ListOptions {
                limit: 500,
                ..ListOptions::default()
            },
        )
        .await?;
    println!(
        "list limit 500:         {} items, remaining {} in {:.2?}",
        page.items.len(),
        page.remaining,
        started.elapsed()
    );

    let started = Instant::now();
    let count = store.count(prefix).await?;
    println!(
        "count:                  {count} in {:.2?}",
        started.elapsed()
    );

    let started = Instant::now();
    let old = store
        .list(
            prefix,
            ListOptions {
                revision: Some(mid),
                ..ListOptions::default()
            },
        )
        .await?;
    println!(
        "list all at revision {mid}: {} items in {:.2?}",
        old.items.len(),
        started.elapsed()
    );

    let started = Instant::now();
    let old_page = store
        .list(
            prefix,
            ListOptions {
                revision: Some(mid),
                limit: 500,
                ..ListOptions::default()
            },
        )
        .await?;
    println!(
        "list limit 500 at {mid}: {} items, remaining {} in {:.2?}",
        old_page.items.len(),
        old_page.remaining,
        started.elapsed()
    );

    let started = Instant::now();
    for i in 0..1000 {
        let key = format!("/registry/configmaps/ns{}/cm{i:06}", i % 10);
        if store.get(&key).await?.is_none() {
            return Err(format!("missing {key}").into());
        }
    }
    println!(
        "get:                    1000 in {:.2?} = {:.2?} per get",
        started.elapsed(),
        started.elapsed() / 1000
    );

    let started = Instant::now();
    let mut stream = store.watch(prefix, 0, false).await?;
    let mut replayed = 0;
    while replayed < keys {
        match stream.next().await {
            Some(Ok(WatchItem::Event(_))) => replayed += 1,
            Some(Ok(WatchItem::Progress(_))) => {}
            Some(Err(err)) => return Err(err.into()),
            None => return Err("watch ended".into()),
        }
    }
    let elapsed = started.elapsed();
    println!(
        "watch replay from 0:    {replayed} events in {elapsed:.2?} = {:.0} events/s",
        per_second(replayed, elapsed)
    );

    let current = store.current_revision().await?;
    let started = Instant::now();
    store.compact(current).await?;
    println!("compact at current:     {:.2?}", started.elapsed());

    let db = dir.path().join("bench.db");
    let wal = dir.path().join("bench.db-wal");
    println!(
        "file sizes:             db {} KiB, wal {} KiB",
        std::fs::metadata(&db).map(|m| m.len() / 1024).unwrap_or(0),
        std::fs::metadata(&wal).map(|m| m.len() / 1024).unwrap_or(0)
    );
    Ok(())
}
