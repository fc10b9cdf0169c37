//! Reads: a small pool of read-only connections (WAL lets them read while the writer writes)
//! and the queries behind `get`, `list`, `count` and watch replay.
//!
//! Every read runs in its own deferred transaction, so all its queries see one snapshot.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, Row};
use tokio::sync::Semaphore;

use super::schema::{self, TextBytes};
use crate::{EventType, KeyValue, ListOptions, ListResult, Revision, StorageError, WatchEvent};

/// A bounded pool of read connections, used from blocking threads.
pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl ReadPool {
    /// A pool of at most `size` concurrent readers of `path` (connections open lazily).
    pub(crate) fn new(path: PathBuf, size: usize) -> Self {
        ReadPool {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    /// Runs `f` on a pooled connection on tokio's blocking thread pool.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StorageError::Unavailable("storage read pool closed".into()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.take()?;
            let result = f(&mut conn);
            pool.give_back(conn);
            result
        })
        .await
        .map_err(|err| StorageError::Internal(format!("storage read task failed: {err}")))?
    }

    fn take(&self) -> Result<Connection, StorageError> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        match pooled {
            Some(conn) => Ok(conn),
            None => schema::open_connection(&self.path, true),
        }
    }

    fn give_back(&self, conn: Connection) {
        // A connection left inside a transaction (after an error) is not reused.
        if conn.is_autocommit() {
            self.idle
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(conn);
        }
    }
}

/// The current state of one key.
pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<KeyValue>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT kv.id, kv.create_revision, kv.value
         FROM current CROSS JOIN kv ON kv.id = current.id
         WHERE current.name = ?1",
    )?;
    let row = stmt
        .query_row([key], |row| {
            Ok(KeyValue {
                key: key.to_owned(),
                mod_revision: row.get(0)?,
                create_revision: row.get(1)?,
                value: Bytes::from(row.get::<_, Vec<u8>>(2)?),
            })
        })
        .optional()?;
    Ok(row)
}

/// The state under `prefix` at the revision `opts` asks for.
pub(crate) fn list(
    conn: &mut Connection,
    prefix: &str,
    opts: &ListOptions,
) -> Result<ListResult, StorageError> {
    let tx = conn.transaction()?;
    let current = schema::current_revision(&tx)?;
    let at = resolve_revision(&tx, opts.revision, current)?;
    let end = schema::prefix_end(prefix);
    let start = match &opts.start_key {
        Some(start) if start.as_str() > prefix => start.as_str(),
        _ => prefix,
    };
    let page = match at {
        None => list_current(&tx, start, &end, opts.limit)?,
        Some(rev) => list_at(&tx, start, &end, rev, opts.limit)?,
    };
    tx.commit()?;
    Ok(ListResult {
        more: page.remaining > 0,
        items: page.items,
        revision: at.unwrap_or(current),
        remaining: page.remaining,
    })
}

/// Counts the live keys under `prefix` at the current revision.
pub(crate) fn count(conn: &Connection, prefix: &str) -> Result<usize, StorageError> {
    count_range(conn, prefix, &schema::prefix_end(prefix))
}

/// One page of watch replay: what [`history_page`] read.
pub(crate) struct HistoryPage {
    /// Events under the prefix with revisions in `(after, through]`, in revision order.
    pub(crate) events: Vec<WatchEvent>,
    /// Every event under the prefix up to this revision is in `events` or was before `after`.
    pub(crate) through: Revision,
    /// Whether `through` is the current revision of the page's snapshot.
    pub(crate) complete: bool,
}

/// Reads up to `page` events under `prefix` after `after`, in one snapshot.
/// Fails with [`StorageError::Compacted`] when history after `after` has been compacted.
pub(crate) fn history_page(
    conn: &mut Connection,
    prefix: &str,
    after: Revision,
    page: usize,
) -> Result<HistoryPage, StorageError> {
    let tx = conn.transaction()?;
    let compacted = schema::compacted_revision(&tx)?;
    if after < compacted {
        return Err(StorageError::Compacted {
            requested: after,
            compacted,
        });
    }
    let current = schema::current_revision(&tx)?;
    let end = schema::prefix_end(prefix);
    let limit = i64::try_from(page.max(1)).unwrap_or(i64::MAX);
    let mut stmt = tx.prepare_cached(
        "SELECT id, name, created, deleted, create_revision, value, old_value FROM kv
         WHERE id > ?1 AND id <= ?2 AND name >= ?3 AND name < ?4
         ORDER BY id LIMIT ?5",
    )?;
    let mut rows = stmt.query(rusqlite::params![
        after,
        current,
        prefix,
        TextBytes(&end),
        limit
    ])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        events.push(event_from_row(row)?);
    }
    drop(rows);
    drop(stmt);
    tx.commit()?;
    let full = events.len() >= page.max(1);
    let through = match events.last() {
        Some(last) if full => last.revision(),
        _ => current.max(after),
    };
    Ok(HistoryPage {
        events,
        through,
        complete: !full,
    })
}

/// Checks the database answers a trivial query.
pub(crate) fn health(conn: &Connection) -> Result<(), StorageError> {
    let one: i64 = conn.query_row("SELECT 1", [], |row| row.get(0))?;
    if one == 1 {
        Ok(())
    } else {
        Err(StorageError::Internal(
            "sqlite: health query answered wrongly".into(),
        ))
    }
}

/// Decodes a `kv` log row (`id, name, created, deleted, create_revision, value, old_value`)
/// into the watch event it records.
pub(crate) fn event_from_row(row: &Row<'_>) -> Result<WatchEvent, StorageError> {
    let id: i64 = row.get(0)?;
    let key: String = row.get(1)?;
    let created: bool = row.get(2)?;
    let deleted: bool = row.get(3)?;
    let create_revision: i64 = row.get(4)?;
    let value: Vec<u8> = row.get(5)?;
    let old_value: Option<Vec<u8>> = row.get(6)?;
    let old_value = old_value.map(Bytes::from);
    let (event_type, value) = if deleted {
        (EventType::Deleted, old_value.clone().unwrap_or_default())
    } else if created {
        (EventType::Created, Bytes::from(value))
    } else {
        (EventType::Updated, Bytes::from(value))
    };
    Ok(WatchEvent {
        event_type,
        kv: KeyValue {
            key,
            value,
            create_revision,
            mod_revision: id,
        },
        prev_value: if created { None } else { old_value },
    })
}

/// Which revision a list reads: `None` for the current state (fast path), `Some` for history.
fn resolve_revision(
    conn: &Connection,
    requested: Option<Revision>,
    current: Revision,
) -> Result<Option<Revision>, StorageError> {
    let Some(rev) = requested.filter(|&rev| rev > 0 && rev != current) else {
        return Ok(None);
    };
    if rev > current {
        return Err(StorageError::FutureRevision {
            requested: rev,
            current,
        });
    }
    let compacted = schema::compacted_revision(conn)?;
    if rev <= compacted {
        return Err(StorageError::Compacted {
            requested: rev,
            compacted,
        });
    }
    Ok(Some(rev))
}

/// A list's items and how many more follow them.
struct Page {
    items: Vec<KeyValue>,
    remaining: usize,
}

/// The live keys in `[start, end)` from the `current` table, at most `limit` (0: all).
fn list_current(
    conn: &Connection,
    start: &str,
    end: &[u8],
    limit: usize,
) -> Result<Page, StorageError> {
    let sql_limit = if limit == 0 {
        -1
    } else {
        i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1)
    };
    let mut stmt = conn.prepare_cached(
        "SELECT c.name, kv.id, kv.create_revision, kv.value
         FROM current AS c CROSS JOIN kv ON kv.id = c.id
         WHERE c.name >= ?1 AND c.name < ?2
         ORDER BY c.name LIMIT ?3",
    )?;
    let mut rows = stmt.query(rusqlite::params![start, TextBytes(end), sql_limit])?;
    let mut items = Vec::new();
    while let Some(row) = rows.next()? {
        items.push(KeyValue {
            key: row.get(0)?,
            mod_revision: row.get(1)?,
            create_revision: row.get(2)?,
            value: Bytes::from(row.get::<_, Vec<u8>>(3)?),
        });
    }
    let remaining = if limit > 0 && items.len() > limit {
        items.truncate(limit);
        count_range(conn, start, end)?.saturating_sub(limit)
    } else {
        0
    };
    Ok(Page { items, remaining })
}

/// The keys in `[start, end)` live at revision `rev`, rebuilt from the log, at most `limit`
/// (0: all).
///
/// The grouped scan reads only the `(name, id, deleted)` index, in key order; SQLite gives the
/// bare `deleted` column the value from the row holding `max(id)`. Values are then fetched by
/// id for the returned items only.
fn list_at(
    conn: &Connection,
    start: &str,
    end: &[u8],
    rev: Revision,
    limit: usize,
) -> Result<Page, StorageError> {
    let mut newest = conn.prepare_cached(
        "SELECT max(id), deleted FROM kv
         WHERE name >= ?1 AND name < ?2 AND id <= ?3
         GROUP BY name ORDER BY name",
    )?;
    let mut rows = newest.query(rusqlite::params![start, TextBytes(end), rev])?;
    let mut ids = Vec::new();
    let mut remaining = 0;
    while let Some(row) = rows.next()? {
        let deleted: bool = row.get(1)?;
        if deleted {
            continue;
        }
        if limit == 0 || ids.len() < limit {
            ids.push(row.get::<_, i64>(0)?);
        } else {
            remaining += 1;
        }
    }
    let mut fetch =
        conn.prepare_cached("SELECT name, create_revision, value FROM kv WHERE id = ?1")?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(fetch.query_row([id], |row| {
            Ok(KeyValue {
                key: row.get(0)?,
                mod_revision: id,
                create_revision: row.get(1)?,
                value: Bytes::from(row.get::<_, Vec<u8>>(2)?),
            })
        })?);
    }
    Ok(Page { items, remaining })
}

/// How many live keys are in `[start, end)` at the current revision.
fn count_range(conn: &Connection, start: &str, end: &[u8]) -> Result<usize, StorageError> {
    let mut stmt =
        conn.prepare_cached("SELECT count(*) FROM current WHERE name >= ?1 AND name < ?2")?;
    let n: i64 = stmt.query_row(rusqlite::params![start, TextBytes(end)], |row| row.get(0))?;
    usize::try_from(n).map_err(|_| StorageError::Internal(format!("sqlite: bad count {n}")))
}
