//! Opening SQLite connections, creating the schema, and the small reads every part shares.
//!
//! The schema (kine's shape):
//! - `kv` is the append-only revision log; a row's `id` is the revision of the write. Creates
//!   have `created = 1`, deletions are tombstones with `deleted = 1`, an empty `value` and the
//!   last value in `old_value`; updates keep the previous value in `old_value`.
//!   `UNIQUE (name, prev_revision)` makes a lost compare-and-swap impossible even if the
//!   single-writer rule were broken. The `(name, id, deleted)` index serves a key's history
//!   (its newest row, the state at a past revision) without touching the table.
//! - `current` maps each live key to the `kv` row holding its newest state, so reads at the
//!   current revision never scan history.
//! - `meta` holds the schema version and the compacted revision.
//! - `expiry` holds when each key written with a time to live expires (milliseconds since
//!   the Unix epoch); the writer deletes such keys once their time has come. Older files
//!   get the table when opened (it is created if missing).
//! - The current revision is `sqlite_sequence`'s counter for `kv`: `AUTOINCREMENT` keeps it
//!   monotonic even when compaction deletes the newest row (a tombstone).

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, ToSql};

use crate::{Revision, StorageError};

/// The version of the on-disk layout this code reads and writes.
const SCHEMA_VERSION: i64 = 1;

/// The `meta` key of the schema version.
const META_SCHEMA_VERSION: &str = "schema_version";

/// The `meta` key of the compacted revision.
pub(crate) const META_COMPACTED: &str = "compacted_revision";

const CREATE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value BLOB NOT NULL,
    old_value BLOB,
    UNIQUE (name, prev_revision)
);
CREATE INDEX IF NOT EXISTS kv_name_id_deleted ON kv (name, id, deleted);
CREATE TABLE IF NOT EXISTS current (
    name TEXT PRIMARY KEY,
    id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS expiry (
    name TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS expiry_at ON expiry (expires_at);
";

/// A read connection's page cache, in KiB. Small: the OS page cache holds the file anyway,
/// and pages kept here are the process's memory.
const READER_CACHE_KIB: i64 = 4 * 1024;

/// How long a connection waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl From<rusqlite::Error> for StorageError {
    /// Every SQLite failure is an internal error carrying SQLite's message.
    fn from(err: rusqlite::Error) -> Self {
        StorageError::Internal(format!("sqlite: {err}"))
    }
}

/// Opens (creating if missing) the database file with the pragmas every connection needs:
/// WAL journal, `synchronous = FULL` (a committed transaction survives power loss / kill -9).
///
/// The query planner stability guarantee is on. Without it, SQLite lets some bound values steer
/// a statement's plan (`name = ?1` is estimated differently when the value is 0 or 1, and so is
/// `LIMIT ?3`) and marks such a statement to be prepared again whenever that parameter's binding
/// changes; `sqlite3_clear_bindings`, which rusqlite's statement cache calls on every statement
/// it takes back, counts as a change. So every use of a "cached" statement parsed and planned
/// its SQL again. Nothing here needs plans that depend on values.
pub(crate) fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StorageError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::Internal(format!(
            "sqlite: could not switch {} to WAL mode (got {mode})",
            path.display()
        )));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32768;",
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON;")?;
        // Readers copy pages through read(2) rather than map the file: every page a reader
        // touched through a mapping stayed in the process's RSS (GETs spread over 30,000
        // objects took it from 63 to 140 MiB, paginated LISTs of 50,000 added 34 MiB), for
        // no measurable gain on GETs or paginated LISTs. Only full LISTs from storage (with
        // the watch cache off) are slower, by about a quarter (docs/benchmarks.md).
        conn.pragma_update(None, "mmap_size", 0)?;
        conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    }
    Ok(conn)
}

/// Creates the schema if missing and checks the file's schema version.
pub(crate) fn init_schema(conn: &mut Connection) -> Result<(), StorageError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(CREATE_SCHEMA)?;
    let version: Option<i64> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [META_SCHEMA_VERSION],
            |row| row.get(0),
        )
        .optional()?;
    match version {
        None => {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                rusqlite::params![META_SCHEMA_VERSION, SCHEMA_VERSION],
            )?;
        }
        Some(SCHEMA_VERSION) => {}
        Some(other) => {
            return Err(StorageError::Internal(format!(
                "unsupported storage schema version {other} (this build reads {SCHEMA_VERSION})"
            )));
        }
    }
    tx.commit()?;
    Ok(())
}

/// The newest revision ever assigned (0 for an empty store).
pub(crate) fn current_revision(conn: &Connection) -> Result<Revision, StorageError> {
    let rev: Option<i64> = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'kv'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    Ok(rev.unwrap_or(0))
}

/// The compacted revision (0 when never compacted).
pub(crate) fn compacted_revision(conn: &Connection) -> Result<Revision, StorageError> {
    let rev: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [META_COMPACTED],
            |row| row.get(0),
        )
        .optional()?;
    Ok(rev.unwrap_or(0))
}

/// The half-open byte range `[prefix, end)` of the keys under a prefix, for index range scans.
///
/// `end` is the prefix with its last byte incremented. It need not be valid UTF-8, so it is bound
/// as raw TEXT bytes: SQLite compares TEXT with `memcmp` under the default `BINARY` collation,
/// which is also Rust's `str` order and etcd's key order. A valid UTF-8 string never contains the
/// byte `0xFF`, so the empty prefix's end is `[0xFF]` and the increment never overflows.
pub(crate) fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    match end.last_mut() {
        Some(last) => *last = last.saturating_add(1),
        None => end.push(0xFF),
    }
    end
}

/// Raw bytes bound as a TEXT value (see [`prefix_end`]).
pub(crate) struct TextBytes<'a>(pub(crate) &'a [u8]);

impl ToSql for TextBytes<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end("/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end(""), vec![0xFF]);
        assert_eq!(prefix_end("é"), vec![0xC3, 0xAA]);
    }
}
