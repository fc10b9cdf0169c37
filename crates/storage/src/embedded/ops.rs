//! The write operations: each checks its precondition against the current state and appends
//! its row to the log, inside the writer's transaction.

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension};

use crate::{EventType, KeyValue, Revision, StorageError, WatchEvent};

/// One write request.
#[derive(Debug)]
pub(crate) enum WriteOp {
    Create {
        key: String,
        value: Bytes,
        /// When the key expires, in milliseconds since the Unix epoch.
        expires_at: Option<i64>,
    },
    Update {
        key: String,
        expected: Revision,
        value: Bytes,
        expires_at: Option<i64>,
    },
    Delete {
        key: String,
        expected: Option<Revision>,
    },
    /// Deletes `key` if it is (still) due to expire at `now` (ms since the Unix epoch).
    Expire { key: String, now: i64 },
}

/// What a successful write returns to its caller.
#[derive(Debug)]
pub(crate) enum WriteOutcome {
    /// The revision of a create or update.
    Written(Revision),
    /// The state a delete removed, and the revision of the deletion.
    Deleted(KeyValue, Revision),
}

/// A successful write: the caller's answer and the event for watchers.
pub(crate) struct Applied {
    pub(crate) outcome: WriteOutcome,
    pub(crate) event: WatchEvent,
}

/// A key's newest state, as the writer reads it.
struct Current {
    id: Revision,
    create_revision: Revision,
    value: Bytes,
}

/// A key's newest row, through the `current` table.
const SELECT_CURRENT: &str = "SELECT kv.id, kv.create_revision, kv.value
     FROM current CROSS JOIN kv ON kv.id = current.id
     WHERE current.name = ?1";

/// The id of a key's newest row in the log, live or not (0 when it has none).
const SELECT_NEWEST_ID: &str = "SELECT coalesce(max(id), 0) FROM kv WHERE name = ?1";

fn current(conn: &Connection, key: &str) -> Result<Option<Current>, StorageError> {
    let mut stmt = conn.prepare_cached(SELECT_CURRENT)?;
    let row = stmt
        .query_row([key], |row| {
            Ok(Current {
                id: row.get(0)?,
                create_revision: row.get(1)?,
                value: Bytes::from(row.get::<_, Vec<u8>>(2)?),
            })
        })
        .optional()?;
    Ok(row)
}

/// One log row to append.
struct NewRow<'a> {
    id: Revision,
    name: &'a str,
    created: bool,
    deleted: bool,
    create_revision: Revision,
    prev_revision: Revision,
    value: &'a [u8],
    old_value: Option<&'a [u8]>,
}

fn append(conn: &Connection, row: &NewRow<'_>) -> Result<(), StorageError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, value,
                         old_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(rusqlite::params![
        row.id,
        row.name,
        row.created,
        row.deleted,
        row.create_revision,
        row.prev_revision,
        row.value,
        row.old_value
    ])?;
    Ok(())
}

/// Checks one op against the current state and appends its row; `rev` is its revision.
pub(crate) fn apply_op(
    conn: &Connection,
    op: &WriteOp,
    rev: Revision,
) -> Result<Applied, StorageError> {
    match op {
        WriteOp::Create {
            key,
            value,
            expires_at,
        } => {
            if current(conn, key)?.is_some() {
                return Err(StorageError::AlreadyExists { key: key.clone() });
            }
            let prev_revision: i64 = conn
                .prepare_cached(SELECT_NEWEST_ID)?
                .query_row([key], |row| row.get(0))?;
            append(
                conn,
                &NewRow {
                    id: rev,
                    name: key,
                    created: true,
                    deleted: false,
                    create_revision: rev,
                    prev_revision,
                    value,
                    old_value: None,
                },
            )?;
            conn.prepare_cached("INSERT INTO current (name, id) VALUES (?1, ?2)")?
                .execute(rusqlite::params![key, rev])?;
            set_expiry(conn, key, *expires_at)?;
            let kv = KeyValue {
                key: key.clone(),
                value: value.clone(),
                create_revision: rev,
                mod_revision: rev,
            };
            Ok(Applied {
                outcome: WriteOutcome::Written(rev),
                event: WatchEvent {
                    event_type: EventType::Created,
                    kv,
                    prev_value: None,
                },
            })
        }
        WriteOp::Update {
            key,
            expected,
            value,
            expires_at,
        } => {
            let cur = current_checked(conn, key, Some(*expected))?;
            append(
                conn,
                &NewRow {
                    id: rev,
                    name: key,
                    created: false,
                    deleted: false,
                    create_revision: cur.create_revision,
                    prev_revision: cur.id,
                    value,
                    old_value: Some(&cur.value),
                },
            )?;
            conn.prepare_cached("UPDATE current SET id = ?2 WHERE name = ?1")?
                .execute(rusqlite::params![key, rev])?;
            set_expiry(conn, key, *expires_at)?;
            Ok(Applied {
                outcome: WriteOutcome::Written(rev),
                event: WatchEvent {
                    event_type: EventType::Updated,
                    kv: KeyValue {
                        key: key.clone(),
                        value: value.clone(),
                        create_revision: cur.create_revision,
                        mod_revision: rev,
                    },
                    prev_value: Some(cur.value),
                },
            })
        }
        WriteOp::Expire { key, now } => {
            let due: Option<i64> = conn
                .prepare_cached("SELECT expires_at FROM expiry WHERE name = ?1")?
                .query_row([key], |row| row.get(0))
                .optional()?;
            match due {
                Some(at) if at <= *now => apply_op(
                    conn,
                    &WriteOp::Delete {
                        key: key.clone(),
                        expected: None,
                    },
                    rev,
                ),
                // Written again since (with a later expiry, or none): it stays.
                _ => Err(StorageError::NotFound { key: key.clone() }),
            }
        }
        WriteOp::Delete { key, expected } => {
            let cur = current_checked(conn, key, *expected)?;
            append(
                conn,
                &NewRow {
                    id: rev,
                    name: key,
                    created: false,
                    deleted: true,
                    create_revision: cur.create_revision,
                    prev_revision: cur.id,
                    value: &[],
                    old_value: Some(&cur.value),
                },
            )?;
            conn.prepare_cached("DELETE FROM current WHERE name = ?1")?
                .execute([key])?;
            set_expiry(conn, key, None)?;
            let deleted = KeyValue {
                key: key.clone(),
                value: cur.value.clone(),
                create_revision: cur.create_revision,
                mod_revision: cur.id,
            };
            Ok(Applied {
                event: WatchEvent {
                    event_type: EventType::Deleted,
                    kv: KeyValue {
                        mod_revision: rev,
                        ..deleted.clone()
                    },
                    prev_value: Some(cur.value),
                },
                outcome: WriteOutcome::Deleted(deleted, rev),
            })
        }
    }
}

/// Records when `key` expires, or that it does not.
fn set_expiry(conn: &Connection, key: &str, expires_at: Option<i64>) -> Result<(), StorageError> {
    match expires_at {
        Some(at) => conn
            .prepare_cached(
                "INSERT INTO expiry (name, expires_at) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at",
            )?
            .execute(rusqlite::params![key, at])?,
        None => conn
            .prepare_cached("DELETE FROM expiry WHERE name = ?1")?
            .execute([key])?,
    };
    Ok(())
}

/// The keys whose time has come at `now` (milliseconds since the Unix epoch), at most `limit`.
pub(crate) fn expired(
    conn: &Connection,
    now: i64,
    limit: usize,
) -> Result<Vec<String>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM expiry WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let names = stmt
        .query_map(rusqlite::params![now, limit], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

/// The key's current state, which must exist and, when `expected` is given, be at that revision.
fn current_checked(
    conn: &Connection,
    key: &str,
    expected: Option<Revision>,
) -> Result<Current, StorageError> {
    let cur = current(conn, key)?.ok_or_else(|| StorageError::NotFound {
        key: key.to_owned(),
    })?;
    match expected {
        Some(expected) if expected != cur.id => Err(StorageError::Conflict {
            key: key.to_owned(),
            expected,
            actual: cur.id,
        }),
        _ => Ok(cur),
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;
    use crate::embedded::schema;

    /// The writer's queries run from rusqlite's statement cache without being prepared again
    /// (see `schema::open_connection` on the query planner stability guarantee).
    #[test]
    fn cached_queries_are_not_prepared_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut conn =
            schema::open_connection(&dir.path().join("ops.db"), false).expect("open sqlite");
        schema::init_schema(&mut conn).expect("schema");
        let tx = conn.transaction().expect("transaction");
        let mut rev = 0;
        for i in 0..20 {
            let key = format!("/registry/configmaps/ns/k{i}");
            let value = Bytes::from_static(b"value");
            rev += 1;
            apply_op(
                &tx,
                &WriteOp::Create {
                    key: key.clone(),
                    value: value.clone(),
                    expires_at: None,
                },
                rev,
            )
            .expect("create");
            rev += 1;
            apply_op(
                &tx,
                &WriteOp::Update {
                    key: key.clone(),
                    expected: rev - 1,
                    value,
                    expires_at: None,
                },
                rev,
            )
            .expect("update");
            if i % 2 == 0 {
                rev += 1;
                apply_op(
                    &tx,
                    &WriteOp::Delete {
                        key,
                        expected: None,
                    },
                    rev,
                )
                .expect("delete");
            }
        }
        for sql in [SELECT_CURRENT, SELECT_NEWEST_ID] {
            let stmt = tx.prepare_cached(sql).expect("cached statement");
            assert!(
                stmt.get_status(StatementStatus::VmStep) > 0,
                "{sql} never ran"
            );
            assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0, "{sql}");
        }
    }
}
