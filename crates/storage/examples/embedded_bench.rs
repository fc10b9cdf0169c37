//! Measures the embedded store: concurrent creates as the store grows (group commit with fsync),
//! then reads.
//!
//! `cargo run -p storage --release --example embedded_bench -- [KEYS] [TASKS] [VALUE_BYTES]
//! [GROUP_COMMIT_WAIT_MICROS] [BATCH]` (defaults: 100000 keys, 16 tasks, 400-byte values,
//! 200 µs, batches of 10000).
//!
//! Keys look like the API server's (`/registry/configmaps/<namespace>/bench-xxxxx`, a random
//! 5-character suffix as `generateName` picks, retried when taken), and one watcher follows the
//! prefix as the API server's watch cache does. Every batch of creates reports its rate, the
//! process's CPU time (and the writer thread's), latency percentiles, RSS and the file sizes, so
//! a cost that grows with the store shows. Then reads, a watch replay and a compaction are
//! timed. Prints figures; asserts nothing beyond the results being complete.

use std::error::Error;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use storage::embedded::{EmbeddedOptions, EmbeddedStore};
use storage::{ListOptions, Storage, StorageError, WatchItem};

/// The namespaces keys are spread over.
const NAMESPACES: usize = 4;

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on Linux).
const CLOCK_TICKS: f64 = 100.0;

fn arg(index: usize, default: usize) -> Result<usize, Box<dyn Error>> {
    match std::env::args().nth(index) {
        Some(text) => Ok(text.parse()?),
        None => Ok(default),
    }
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// This process's CPU time (user + system, all threads, dead ones included), in seconds.
fn process_cpu() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command (which may hold spaces) start at field 3 (state).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15: indexes 11 and 12 after the command.
    (ticks(11) + ticks(12)) / CLOCK_TICKS
}

/// CPU time of the thread named `name`, in seconds (from its schedstat, in nanoseconds).
fn thread_cpu(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            let ns: f64 = stat
                .split_whitespace()
                .next()
                .and_then(|f| f.parse().ok())
                .unwrap_or(0.0);
            return ns / 1e9;
        }
    }
    0.0
}

/// A line of `/proc/self/status` in kB (`VmRSS`, `VmHWM`).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn file_kib(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len() / 1024).unwrap_or(0)
}

/// A small xorshift generator: names need to be spread, not unpredictable.
struct Names(u64);

impl Names {
    fn next(&mut self) -> String {
        // generateName's alphabet (no vowels, no confusable digits).
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut suffix = String::with_capacity(5);
        for _ in 0..5 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            suffix.push(char::from(
                ALPHABET[(self.0 % ALPHABET.len() as u64) as usize],
            ));
        }
        format!(
            "/registry/configmaps/ns{}/bench-{suffix}",
            self.0 % NAMESPACES as u64
        )
    }
}

/// A value of about `bytes` bytes that looks like a ConfigMap's JSON.
fn configmap_value(bytes: usize) -> Bytes {
    let mut value = String::from(
        r#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"generateName":"bench-","namespace":"ns0","uid":"8c1f0e55-64b4-4d55-9d2e-4a1c3c6f3e0b","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"kube-loadtest":"true"}},"data":{"value":""#,
    );
    while value.len() + 3 < bytes {
        value.push('x');
    }
    value.push_str(r#""}}"#);
    Bytes::from(value)
}

/// What one batch of creates did.
struct Batch {
    keys: Vec<String>,
    /// Names found taken (and retried).
    collisions: usize,
    /// Every create's latency, sorted.
    latencies: Vec<Duration>,
}

impl Batch {
    /// The latency at quantile `q` (nearest rank).
    fn latency(&self, q: f64) -> Duration {
        let rank = ((self.latencies.len() as f64 * q).ceil() as usize).max(1);
        self.latencies
            .get(rank - 1)
            .copied()
            .unwrap_or(Duration::ZERO)
    }
}

/// Creates `count` keys over `tasks` tasks.
async fn create_batch(
    store: &Arc<EmbeddedStore>,
    tasks: usize,
    count: usize,
    value: &Bytes,
    seed: u64,
) -> Result<Batch, Box<dyn Error>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = Arc::clone(store);
        let value = value.clone();
        let next = Arc::clone(&next);
        let mut names = Names(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((task as u64 + 1) << 20));
        handles.push(tokio::spawn(async move {
            let mut batch = Batch {
                keys: Vec::new(),
                collisions: 0,
                latencies: Vec::new(),
            };
            while next.fetch_add(1, Ordering::Relaxed) < count {
                loop {
                    let key = names.next();
                    let started = Instant::now();
                    let created = store.create(&key, value.clone()).await;
                    batch.latencies.push(started.elapsed());
                    match created {
                        Ok(_) => {
                            batch.keys.push(key);
                            break;
                        }
                        Err(StorageError::AlreadyExists { .. }) => batch.collisions += 1,
                        Err(err) => return Err(err),
                    }
                }
            }
            Ok::<_, StorageError>(batch)
        }));
    }
    let mut all = Batch {
        keys: Vec::with_capacity(count),
        collisions: 0,
        latencies: Vec::with_capacity(count),
    };
    for handle in handles {
        let batch = handle.await??;
        all.keys.extend(batch.keys);
        all.collisions += batch.collisions;
        all.latencies.extend(batch.latencies);
    }
    all.latencies.sort_unstable();
    Ok(all)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let keys = arg(1, 100_000)?;
    let tasks = arg(2, 16)?.max(1);
    let value_bytes = arg(3, 400)?;
    let wait = Duration::from_micros(u64::try_from(arg(4, 200)?)?);
    let batch = arg(5, 10_000)?.max(1);
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db");
    let wal = dir.path().join("bench.db-wal");
    let options = EmbeddedOptions {
        group_commit_wait: wait,
        ..EmbeddedOptions::default()
    };
    let store = Arc::new(EmbeddedStore::open_with(&db, options)?);
    let value = configmap_value(value_bytes);
    println!(
        "embedded store: {keys} keys, {tasks} writer tasks, {}-byte values, group commit wait \
         {wait:?}, batches of {batch}",
        value.len()
    );

    // One watcher on the prefix, as the API server's watch cache has.
    let prefix = "/registry/configmaps/";
    let mut watch = store.watch(prefix, 0, false).await?;
    let watched = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let watched = Arc::clone(&watched);
        tokio::spawn(async move {
            while let Some(item) = watch.next().await {
                match item {
                    Ok(WatchItem::Event(_)) => {
                        watched.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(WatchItem::Progress(_)) => {}
                    Err(err) => return Err(err),
                }
            }
            Ok(())
        })
    };

    println!(
        "{:>7} {:>9} {:>9} {:>8} {:>10} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "batch",
        "keys",
        "writes/s",
        "cpu s",
        "cpu µs/op",
        "writer s",
        "rss MiB",
        "db MiB",
        "wal MiB",
        "p50 ms",
        "p99 ms",
        "max ms"
    );
    let started_all = Instant::now();
    let cpu_all = process_cpu();
    let mut created: Vec<String> = Vec::with_capacity(keys);
    let mut collisions = 0;
    let mut round = 0;
    while created.len() < keys {
        let count = batch.min(keys - created.len());
        let cpu0 = process_cpu();
        let writer0 = thread_cpu("storage-writer");
        let started = Instant::now();
        let batch = create_batch(&store, tasks, count, &value, round + 1).await?;
        let elapsed = started.elapsed();
        let cpu = process_cpu() - cpu0;
        let writer = thread_cpu("storage-writer") - writer0;
        collisions += batch.collisions;
        round += 1;
        let ms = |q: f64| batch.latency(q).as_secs_f64() * 1e3;
        println!(
            "{round:>7} {:>9} {:>9.0} {:>8.2} {:>10.0} {:>9.2} {:>9.1} {:>8.1} {:>8.1} \
             {:>8.2} {:>8.2} {:>8.1}",
            created.len() + batch.keys.len(),
            per_second(count, elapsed),
            cpu,
            cpu * 1e6 / count as f64,
            writer,
            status_kb("VmRSS") as f64 / 1024.0,
            file_kib(&db) as f64 / 1024.0,
            file_kib(&wal) as f64 / 1024.0,
            ms(0.5),
            ms(0.99),
            ms(1.0)
        );
        created.extend(batch.keys);
    }
    let elapsed = started_all.elapsed();
    println!(
        "creates:                {keys} in {elapsed:.2?} = {:.0} writes/s, {:.2} s CPU \
         ({collisions} names found taken and retried)",
        per_second(keys, elapsed),
        process_cpu() - cpu_all
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while watched.load(Ordering::Relaxed) < keys && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "watcher:                {} of {keys} events",
        watched.load(Ordering::Relaxed)
    );
    watcher.abort();
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
    for key in created.iter().take(1000) {
        if store.get(key).await?.is_none() {
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
    drop(stream);

    let current = store.current_revision().await?;
    let started = Instant::now();
    store.compact(current).await?;
    println!("compact at current:     {:.2?}", started.elapsed());

    println!(
        "file sizes:             db {} KiB, wal {} KiB",
        file_kib(&db),
        file_kib(&wal)
    );
    println!(
        "memory:                 RSS {} KiB (peak {} KiB), of which anonymous {} KiB, \
         mapped files {} KiB",
        status_kb("VmRSS"),
        status_kb("VmHWM"),
        status_kb("RssAnon"),
        status_kb("RssFile")
    );
    Ok(())
}
