//! API errors serialised as `metav1.Status`, field-level validation errors and
//! field paths — the Rust counterparts of upstream's `k8s.io/apimachinery/pkg/api/errors`
//! and `k8s.io/apimachinery/pkg/util/validation/field`.
//!
//! Messages, reasons and codes are those of kube-apiserver v1.36, because
//! clients (kubectl, client-go, controllers) compare them.

use crate::gofmt::{go_format_float_g, go_json, go_quote};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::fmt;

/// Upstream's optimistic-concurrency message (`OptimisticLockErrorMsg` in the
/// generic registry), used with [`ApiError::conflict`].
pub const OPTIMISTIC_LOCK_ERROR_MSG: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// Message of a list whose resourceVersion has been compacted away (410 Expired).
pub const EXPIRED_LIST_MESSAGE: &str = "The resourceVersion for the provided list is too old.";

/// Message of a watch whose resourceVersion has been compacted away (410 Expired).
pub const EXPIRED_WATCH_MESSAGE: &str = "The resourceVersion for the provided watch is too old.";

/// Message of a paginated list whose continue token has expired (410 Expired).
pub const CONTINUE_EXPIRED_MESSAGE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";

/// Message of a paginated list whose continue token expired, when the server
/// offers an inconsistent continuation (410 Expired).
pub const INCONSISTENT_CONTINUE_MESSAGE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

// ---------------------------------------------------------------------------
// Field paths
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum PathSeg {
    Name(String),
    Index(String),
}

/// A path from a root to a field (upstream's `field.Path`), rendered as
/// `metadata.labels[app]` or `spec.containers[0].name`.
///
/// The default value is the *nil* path, which renders as `<nil>` exactly as a
/// nil `*field.Path` does upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath {
    segs: Vec<PathSeg>,
}

impl FieldPath {
    /// A root path (`field.NewPath(name)`).
    pub fn new(name: &str) -> FieldPath {
        FieldPath {
            segs: vec![PathSeg::Name(name.to_string())],
        }
    }

    /// The nil path, rendered as `<nil>`; children of it start a new root.
    pub fn nil() -> FieldPath {
        FieldPath::default()
    }

    /// Whether this is the nil path.
    pub fn is_nil(&self) -> bool {
        self.segs.is_empty()
    }

    /// A child field: `metadata` → `metadata.name`.
    pub fn child(&self, name: &str) -> FieldPath {
        let mut p = self.clone();
        p.segs.push(PathSeg::Name(name.to_string()));
        p
    }

    /// A list subscript: `items` → `items[0]`.
    pub fn index(&self, index: usize) -> FieldPath {
        let mut p = self.clone();
        p.segs.push(PathSeg::Index(index.to_string()));
        p
    }

    /// A map subscript: `labels` → `labels[app]`.
    pub fn key(&self, key: &str) -> FieldPath {
        let mut p = self.clone();
        p.segs.push(PathSeg::Index(key.to_string()));
        p
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segs.is_empty() {
            return f.write_str("<nil>");
        }
        for (i, seg) in self.segs.iter().enumerate() {
            match seg {
                PathSeg::Name(n) if !n.is_empty() => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(n)?;
                }
                // An empty name renders as an (empty) subscript upstream.
                PathSeg::Name(_) => f.write_str("[]")?,
                PathSeg::Index(ix) => write!(f, "[{ix}]")?,
            }
        }
        Ok(())
    }
}

impl From<&str> for FieldPath {
    fn from(name: &str) -> FieldPath {
        FieldPath::new(name)
    }
}

// ---------------------------------------------------------------------------
// Field errors
// ---------------------------------------------------------------------------

/// The type of a field error (upstream's `field.ErrorType`); its
/// [`reason`](FieldErrorKind::reason) is the `StatusCause.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorKind {
    /// `FieldValueNotFound` — "Not found".
    NotFound,
    /// `FieldValueRequired` — "Required value".
    Required,
    /// `FieldValueDuplicate` — "Duplicate value".
    Duplicate,
    /// `FieldValueInvalid` — "Invalid value".
    Invalid,
    /// `FieldValueNotSupported` — "Unsupported value".
    NotSupported,
    /// `FieldValueForbidden` — "Forbidden".
    Forbidden,
    /// `FieldValueTooLong` — "Too long".
    TooLong,
    /// `FieldValueTooShort` — "Too short".
    TooShort,
    /// `FieldValueTooMany` — "Too many".
    TooMany,
    /// `FieldValueTooFew` — "Too few".
    TooFew,
    /// `InternalError` — "Internal error".
    InternalError,
    /// `FieldValueTypeInvalid` — "Invalid value".
    TypeInvalid,
}

impl FieldErrorKind {
    /// The machine-readable type (`StatusCause.reason`), e.g. `FieldValueInvalid`.
    pub fn reason(self) -> &'static str {
        match self {
            FieldErrorKind::NotFound => "FieldValueNotFound",
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::Duplicate => "FieldValueDuplicate",
            FieldErrorKind::Invalid => "FieldValueInvalid",
            FieldErrorKind::NotSupported => "FieldValueNotSupported",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::TooLong => "FieldValueTooLong",
            FieldErrorKind::TooShort => "FieldValueTooShort",
            FieldErrorKind::TooMany => "FieldValueTooMany",
            FieldErrorKind::TooFew => "FieldValueTooFew",
            FieldErrorKind::InternalError => "InternalError",
            FieldErrorKind::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    /// The human-readable prefix of the message, e.g. `Invalid value`.
    pub fn description(self) -> &'static str {
        match self {
            FieldErrorKind::NotFound => "Not found",
            FieldErrorKind::Required => "Required value",
            FieldErrorKind::Duplicate => "Duplicate value",
            FieldErrorKind::Invalid => "Invalid value",
            FieldErrorKind::NotSupported => "Unsupported value",
            FieldErrorKind::Forbidden => "Forbidden",
            FieldErrorKind::TooLong => "Too long",
            FieldErrorKind::TooShort => "Too short",
            FieldErrorKind::TooMany => "Too many",
            FieldErrorKind::TooFew => "Too few",
            FieldErrorKind::InternalError => "Internal error",
            FieldErrorKind::TypeInvalid => "Invalid value",
        }
    }
}

impl fmt::Display for FieldErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// A field-level validation error (upstream's `field.Error`).
///
/// `bad_value` of `None` means the value is omitted from the message (upstream's
/// `omitValue`); `Some(Value::Null)` prints `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// What is wrong.
    pub kind: FieldErrorKind,
    /// The field's path, e.g. `metadata.name`.
    pub field: String,
    /// The offending value, printed in the message for value-carrying kinds.
    pub bad_value: Option<Value>,
    /// Free-form detail appended to the message.
    pub detail: String,
}

impl FieldError {
    fn new(
        kind: FieldErrorKind,
        path: &FieldPath,
        bad_value: Option<Value>,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError {
            kind,
            field: path.to_string(),
            bad_value,
            detail: detail.into(),
        }
    }

    /// `field.Required`: `metadata.name: Required value: <detail>`.
    pub fn required(path: &FieldPath, detail: &str) -> FieldError {
        FieldError::new(FieldErrorKind::Required, path, Some(json!("")), detail)
    }

    /// `field.Invalid`: `metadata.name: Invalid value: "Foo": <detail>`.
    pub fn invalid(path: &FieldPath, value: impl Into<Value>, detail: &str) -> FieldError {
        FieldError::new(FieldErrorKind::Invalid, path, Some(value.into()), detail)
    }

    /// `field.TypeInvalid`: like [`invalid`](Self::invalid) with reason `FieldValueTypeInvalid`.
    pub fn type_invalid(path: &FieldPath, value: impl Into<Value>, detail: &str) -> FieldError {
        FieldError::new(
            FieldErrorKind::TypeInvalid,
            path,
            Some(value.into()),
            detail,
        )
    }

    /// `field.NotSupported`: `Unsupported value: "x": supported values: "a", "b"`.
    pub fn not_supported<S: AsRef<str>>(
        path: &FieldPath,
        value: impl Into<Value>,
        valid_values: &[S],
    ) -> FieldError {
        let detail = if valid_values.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid_values.iter().map(|v| go_quote(v.as_ref())).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        FieldError::new(
            FieldErrorKind::NotSupported,
            path,
            Some(value.into()),
            detail,
        )
    }

    /// `field.Forbidden`: `spec.x: Forbidden: <detail>`.
    pub fn forbidden(path: &FieldPath, detail: &str) -> FieldError {
        FieldError::new(FieldErrorKind::Forbidden, path, Some(json!("")), detail)
    }

    /// `field.Duplicate`: `Duplicate value: "x"`.
    pub fn duplicate(path: &FieldPath, value: impl Into<Value>) -> FieldError {
        FieldError::new(FieldErrorKind::Duplicate, path, Some(value.into()), "")
    }

    /// `field.NotFound`: `Not found: "x"`.
    pub fn not_found(path: &FieldPath, value: impl Into<Value>) -> FieldError {
        FieldError::new(FieldErrorKind::NotFound, path, Some(value.into()), "")
    }

    /// `field.TooLong` (byte length): `Too long: may not be more than 253 bytes`;
    /// a negative `max_len` gives `Too long: value is too long`. The value is
    /// not shown (upstream ignores it too).
    pub fn too_long(
        path: &FieldPath,
        _value: impl Into<Value>,
        max_len: impl TryInto<i64>,
    ) -> FieldError {
        FieldError::new(
            FieldErrorKind::TooLong,
            path,
            Some(json!("<value omitted>")),
            too_long_detail(max_len.try_into().unwrap_or(i64::MAX), "byte", "bytes"),
        )
    }

    /// `field.TooLongCharacters`: `Too long: may not be more than 63 characters`.
    pub fn too_long_characters(
        path: &FieldPath,
        _value: impl Into<Value>,
        max_len: impl TryInto<i64>,
    ) -> FieldError {
        FieldError::new(
            FieldErrorKind::TooLong,
            path,
            Some(json!("<value omitted>")),
            too_long_detail(
                max_len.try_into().unwrap_or(i64::MAX),
                "character",
                "characters",
            ),
        )
    }

    /// `field.TooShort`: `Too short: must be at least 3 characters`.
    pub fn too_short(path: &FieldPath, value: &str, min_len: i64) -> FieldError {
        let detail = if min_len >= 0 {
            format!(
                "must be at least {min_len} {}",
                if min_len == 1 {
                    "character"
                } else {
                    "characters"
                }
            )
        } else {
            "value is too short".to_string()
        };
        FieldError::new(FieldErrorKind::TooShort, path, Some(json!(value)), detail)
    }

    /// `field.TooMany`: `Too many: 5: must have at most 3 items`; `actual` of
    /// `None` omits the count, a negative `max` gives `has too many items`.
    pub fn too_many(path: &FieldPath, actual: Option<i64>, max: i64) -> FieldError {
        let detail = if max >= 0 {
            format!(
                "must have at most {max} {}",
                if max == 1 { "item" } else { "items" }
            )
        } else {
            "has too many items".to_string()
        };
        let value = actual.filter(|a| *a >= 0).map(Value::from);
        FieldError::new(FieldErrorKind::TooMany, path, value, detail)
    }

    /// `field.TooFew`: `Too few: 1: must have at least 2 items`.
    pub fn too_few(path: &FieldPath, actual: i64, min: i64) -> FieldError {
        let detail = if min >= 0 {
            format!(
                "must have at least {min} {}",
                if min == 1 { "item" } else { "items" }
            )
        } else {
            "has too few items".to_string()
        };
        FieldError::new(FieldErrorKind::TooFew, path, Some(json!(actual)), detail)
    }

    /// `field.InternalError`: `Internal error: <message>`.
    pub fn internal_error(path: &FieldPath, message: &str) -> FieldError {
        FieldError::new(
            FieldErrorKind::InternalError,
            path,
            Some(json!(message)),
            message,
        )
    }

    /// The message without the field name (upstream's `ErrorBody`), which is
    /// also the `StatusCause.message` of an Invalid status.
    pub fn error_body(&self) -> String {
        let mut s = match self.kind {
            FieldErrorKind::Required
            | FieldErrorKind::Forbidden
            | FieldErrorKind::TooLong
            | FieldErrorKind::TooShort
            | FieldErrorKind::InternalError => self.kind.description().to_string(),
            _ => match &self.bad_value {
                None => self.kind.description().to_string(),
                Some(v) => format!("{}: {}", self.kind.description(), format_bad_value(v)),
            },
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

fn too_long_detail(max_len: i64, one: &str, many: &str) -> String {
    if max_len < 0 {
        return "value is too long".to_string();
    }
    format!(
        "may not be more than {max_len} {}",
        if max_len == 1 { one } else { many }
    )
}

/// Prints a bad value as upstream does: strings with `%q`, numbers and bools
/// plainly, everything else as compact JSON.
fn format_bad_value(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if let Some(u) = n.as_u64() {
                u.to_string()
            } else {
                go_format_float_g(n.as_f64().unwrap_or(0.0))
            }
        }
        other => go_json(other),
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.error_body())
    }
}

impl std::error::Error for FieldError {}

/// The message of upstream's `ErrorList.ToAggregate()`: duplicates removed,
/// one error printed as itself, several as `[e1, e2]`; `None` when empty.
pub fn aggregate_message(errs: &[FieldError]) -> Option<String> {
    let mut seen = HashSet::new();
    let msgs: Vec<String> = errs
        .iter()
        .map(ToString::to_string)
        .filter(|m| seen.insert(m.clone()))
        .collect();
    match msgs.len() {
        0 => None,
        1 => msgs.into_iter().next(),
        _ => Some(format!("[{}]", msgs.join(", "))),
    }
}

// ---------------------------------------------------------------------------
// API errors
// ---------------------------------------------------------------------------

/// One cause of a failure (`metav1.StatusCause`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCause {
    /// Machine-readable cause type (JSON `reason`), e.g. `FieldValueInvalid`.
    pub reason: String,
    /// Human-readable description.
    pub message: String,
    /// The field at fault, e.g. `metadata.name`.
    pub field: String,
}

/// Extended data of a failure (`metav1.StatusDetails`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusDetails {
    /// The name of the object concerned.
    pub name: String,
    /// The API group of the object concerned.
    pub group: String,
    /// The kind — upstream puts the *resource* here for most errors.
    pub kind: String,
    /// The UID of the object concerned (rarely set).
    pub uid: String,
    /// The individual causes.
    pub causes: Vec<StatusCause>,
    /// Seconds the client should wait before retrying.
    pub retry_after_seconds: Option<u32>,
}

/// An API error, written to clients as a `metav1.Status` (see [`ApiError::to_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `metav1.StatusReason`, e.g. `NotFound` (may be empty).
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// Extended data; `Some` even when empty serialises as `"details":{}`.
    /// Boxed: keeps `Result<_, ApiError>` small on every hot path.
    pub details: Option<Box<StatusDetails>>,
}

fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn details(group: &str, kind: &str, name: &str) -> Option<Box<StatusDetails>> {
    Some(Box::new(StatusDetails {
        name: name.to_string(),
        group: group.to_string(),
        kind: kind.to_string(),
        ..Default::default()
    }))
}

fn retry_details(retry_after_seconds: u32) -> Option<Box<StatusDetails>> {
    Some(Box::new(StatusDetails {
        retry_after_seconds: (retry_after_seconds > 0).then_some(retry_after_seconds),
        ..Default::default()
    }))
}

impl ApiError {
    /// An error with the given code, reason and message and no details.
    pub fn new(code: u16, reason: &str, message: &str) -> ApiError {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.to_string(),
            details: None,
        }
    }

    /// 404 NotFound: `configmaps "x" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> ApiError {
        ApiError {
            code: 404,
            reason: "NotFound".into(),
            message: format!(
                "{} {} not found",
                qualified(group, resource),
                go_quote(name)
            ),
            details: details(group, resource, name),
        }
    }

    /// 404 NotFound with a free message and empty details, as the apiserver
    /// answers for unknown paths (`the server could not find the requested resource`).
    pub fn not_found_message(message: &str) -> ApiError {
        ApiError {
            code: 404,
            reason: "NotFound".into(),
            message: message.to_string(),
            details: Some(Box::default()),
        }
    }

    /// 409 AlreadyExists: `configmaps "x" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> ApiError {
        ApiError {
            code: 409,
            reason: "AlreadyExists".into(),
            message: format!(
                "{} {} already exists",
                qualified(group, resource),
                go_quote(name)
            ),
            details: details(group, resource, name),
        }
    }

    /// 409 AlreadyExists after generateName collisions (`NewGenerateNameConflict`).
    pub fn generate_name_conflict(
        group: &str,
        resource: &str,
        name: &str,
        retry_after_seconds: u32,
    ) -> ApiError {
        let mut d = details(group, resource, name);
        if let Some(d) = d.as_mut() {
            d.retry_after_seconds = (retry_after_seconds > 0).then_some(retry_after_seconds);
        }
        ApiError {
            code: 409,
            reason: "AlreadyExists".into(),
            message: format!(
                "{} {} already exists, the server was not able to generate a unique name for the object",
                qualified(group, resource),
                go_quote(name)
            ),
            details: d,
        }
    }

    /// 409 Conflict: `Operation cannot be fulfilled on configmaps "x": <err_msg>`.
    pub fn conflict(group: &str, resource: &str, name: &str, err_msg: &str) -> ApiError {
        ApiError {
            code: 409,
            reason: "Conflict".into(),
            message: format!(
                "Operation cannot be fulfilled on {} {}: {err_msg}",
                qualified(group, resource),
                go_quote(name)
            ),
            details: details(group, resource, name),
        }
    }

    /// 409 Conflict of server-side apply (`NewApplyConflict`): the causes only.
    pub fn apply_conflict(causes: Vec<StatusCause>, message: &str) -> ApiError {
        ApiError {
            code: 409,
            reason: "Conflict".into(),
            message: message.to_string(),
            details: Some(Box::new(StatusDetails {
                causes,
                ..Default::default()
            })),
        }
    }

    /// 409 Conflict of a delete whose UID precondition fails (upstream's
    /// `BeforeDelete`, which qualifies by *kind*): `Operation cannot be fulfilled
    /// on ConfigMap "x": the UID in the precondition (a) does not match the UID in
    /// record (b). The object might have been deleted and then recreated`.
    pub fn precondition_uid_mismatch(
        group: &str,
        kind: &str,
        name: &str,
        precondition_uid: &str,
        actual_uid: &str,
    ) -> ApiError {
        ApiError::conflict(
            group,
            kind,
            name,
            &format!(
                "the UID in the precondition ({precondition_uid}) does not match the UID in record ({actual_uid}). The object might have been deleted and then recreated"
            ),
        )
    }

    /// 409 Conflict of a delete whose resourceVersion precondition fails
    /// (upstream's `BeforeDelete`, qualified by *kind*).
    pub fn precondition_resource_version_mismatch(
        group: &str,
        kind: &str,
        name: &str,
        precondition_rv: &str,
        actual_rv: &str,
    ) -> ApiError {
        ApiError::conflict(
            group,
            kind,
            name,
            &format!(
                "the ResourceVersion in the precondition ({precondition_rv}) does not match the ResourceVersion in record ({actual_rv}). The object might have been modified"
            ),
        )
    }

    /// 409 Conflict from a storage-level precondition failure (an etcd3 store
    /// `InvalidObj` error as `InterpretUpdateError`/`InterpretDeleteError` return
    /// it): `Operation cannot be fulfilled on configmaps "x": StorageError: invalid
    /// object, Code: 4, Key: <key>, ResourceVersion: 0, AdditionalErrorMsg: <msg>`.
    /// See [`precondition_failed_uid_message`] for `msg`.
    pub fn storage_invalid_object(
        group: &str,
        resource: &str,
        name: &str,
        key: &str,
        msg: &str,
    ) -> ApiError {
        ApiError::conflict(
            group,
            resource,
            name,
            &format!(
                "StorageError: invalid object, Code: 4, Key: {key}, ResourceVersion: 0, AdditionalErrorMsg: {msg}"
            ),
        )
    }

    /// 422 Invalid: `ConfigMap "x" is invalid: <aggregate>` with one cause per
    /// field error. `kind` is qualified by `group` (`Deployment.apps`).
    pub fn invalid(group: &str, kind: &str, name: &str, errs: Vec<FieldError>) -> ApiError {
        let qualified_kind = qualified(group, kind);
        let message = match aggregate_message(&errs) {
            None => format!("{qualified_kind} {} is invalid", go_quote(name)),
            Some(agg) => format!("{qualified_kind} {} is invalid: {agg}", go_quote(name)),
        };
        let causes = errs
            .iter()
            .map(|e| StatusCause {
                reason: e.kind.reason().to_string(),
                message: e.error_body(),
                field: e.field.clone(),
            })
            .collect();
        ApiError {
            code: 422,
            reason: "Invalid".into(),
            message,
            details: Some(Box::new(StatusDetails {
                name: name.to_string(),
                group: group.to_string(),
                kind: kind.to_string(),
                causes,
                ..Default::default()
            })),
        }
    }

    /// 422 with reason Invalid, a free message and empty details (as upstream's
    /// generic 422 responses, e.g. a JSON patch that fails to apply).
    pub fn unprocessable(message: &str) -> ApiError {
        ApiError {
            code: 422,
            reason: "Invalid".into(),
            message: message.to_string(),
            details: Some(Box::default()),
        }
    }

    /// 400 BadRequest with the given message.
    pub fn bad_request(message: &str) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// 401 Unauthorized; an empty message becomes `not authorized`.
    pub fn unauthorized(message: &str) -> ApiError {
        let message = if message.is_empty() {
            "not authorized"
        } else {
            message
        };
        ApiError::new(401, "Unauthorized", message)
    }

    /// 403 Forbidden: `configmaps "x" is forbidden: <reason>`, `configmaps is
    /// forbidden: <reason>` without a name, `forbidden: <reason>` without a resource.
    pub fn forbidden(group: &str, resource: &str, name: &str, reason: &str) -> ApiError {
        let message = if group.is_empty() && resource.is_empty() {
            format!("forbidden: {reason}")
        } else if name.is_empty() {
            format!("{} is forbidden: {reason}", qualified(group, resource))
        } else {
            format!(
                "{} {} is forbidden: {reason}",
                qualified(group, resource),
                go_quote(name)
            )
        };
        ApiError {
            code: 403,
            reason: "Forbidden".into(),
            message,
            details: details(group, resource, name),
        }
    }

    /// 405 MethodNotAllowed: `<verb> is not supported on resources of kind "<resource>"`.
    pub fn method_not_supported(group: &str, resource: &str, verb: &str) -> ApiError {
        ApiError {
            code: 405,
            reason: "MethodNotAllowed".into(),
            message: format!(
                "{verb} is not supported on resources of kind {}",
                go_quote(&qualified(group, resource))
            ),
            details: details(group, resource, ""),
        }
    }

    /// 406 NotAcceptable with the given message.
    pub fn not_acceptable(message: &str) -> ApiError {
        ApiError::new(406, "NotAcceptable", message)
    }

    /// 406 NotAcceptable as content negotiation reports it:
    /// `only the following media types are accepted: a, b`.
    pub fn not_acceptable_media_types<S: AsRef<str>>(accepted: &[S]) -> ApiError {
        ApiError::not_acceptable(&format!(
            "only the following media types are accepted: {}",
            join(accepted)
        ))
    }

    /// 406 NotAcceptable for an unsupported conversion target
    /// (`only the following media types are accepted when converting to <target>: ...`).
    pub fn not_acceptable_conversion<S: AsRef<str>>(target: &str, accepted: &[S]) -> ApiError {
        ApiError::not_acceptable(&format!(
            "only the following media types are accepted when converting to {target}: {}",
            join(accepted)
        ))
    }

    /// 410 Gone with the given message.
    pub fn gone(message: &str) -> ApiError {
        ApiError::new(410, "Gone", message)
    }

    /// 410 Expired with the given message.
    pub fn expired(message: &str) -> ApiError {
        ApiError::new(410, "Expired", message)
    }

    /// 410 Expired of the watch cache: `too old resource version: 5 (10)`.
    pub fn too_old_resource_version(requested: u64, oldest: u64) -> ApiError {
        ApiError::expired(&format!("too old resource version: {requested} ({oldest})"))
    }

    /// 413 RequestEntityTooLarge: `Request entity too large: <message>`.
    pub fn request_entity_too_large(message: &str) -> ApiError {
        ApiError::new(
            413,
            "RequestEntityTooLarge",
            &format!("Request entity too large: {message}"),
        )
    }

    /// 415 UnsupportedMediaType with the given message. For upstream's exact
    /// text use [`unsupported_media_type_accepted`](Self::unsupported_media_type_accepted).
    pub fn unsupported_media_type(message: &str) -> ApiError {
        ApiError::new(415, "UnsupportedMediaType", message)
    }

    /// 415 UnsupportedMediaType as upstream's negotiation words it: `the body of
    /// the request was in an unknown format - accepted media types include: a, b`.
    pub fn unsupported_media_type_accepted<S: AsRef<str>>(accepted: &[S]) -> ApiError {
        ApiError::unsupported_media_type(&format!(
            "the body of the request was in an unknown format - accepted media types include: {}",
            join(accepted)
        ))
    }

    /// 429 TooManyRequests with the given message and `Retry-After` seconds.
    pub fn too_many_requests(message: &str, retry_after_seconds: u32) -> ApiError {
        ApiError {
            code: 429,
            reason: "TooManyRequests".into(),
            message: message.to_string(),
            details: retry_details(retry_after_seconds),
        }
    }

    /// 500 InternalError: `Internal error occurred: <message>` with the message as cause.
    pub fn internal(message: &str) -> ApiError {
        ApiError {
            code: 500,
            reason: "InternalError".into(),
            message: format!("Internal error occurred: {message}"),
            details: Some(Box::new(StatusDetails {
                causes: vec![StatusCause {
                    message: message.to_string(),
                    ..Default::default()
                }],
                ..Default::default()
            })),
        }
    }

    /// 500 ServerTimeout: `The <operation> operation against <resource> could not
    /// be completed at this time, please try again.`
    pub fn server_timeout(
        group: &str,
        resource: &str,
        operation: &str,
        retry_after_seconds: u32,
    ) -> ApiError {
        let mut d = details(group, resource, operation);
        if let Some(d) = d.as_mut() {
            d.retry_after_seconds = (retry_after_seconds > 0).then_some(retry_after_seconds);
        }
        ApiError {
            code: 500,
            reason: "ServerTimeout".into(),
            message: format!(
                "The {operation} operation against {} could not be completed at this time, please try again.",
                qualified(group, resource)
            ),
            details: d,
        }
    }

    /// 503 ServiceUnavailable with the given message.
    pub fn service_unavailable(message: &str) -> ApiError {
        ApiError::new(503, "ServiceUnavailable", message)
    }

    /// 504 Timeout: `Timeout: <message>` with `Retry-After` seconds.
    pub fn timeout(message: &str, retry_after_seconds: u32) -> ApiError {
        ApiError {
            code: 504,
            reason: "Timeout".into(),
            message: format!("Timeout: {message}"),
            details: retry_details(retry_after_seconds),
        }
    }

    /// 504 Timeout for a resourceVersion ahead of the store (upstream's
    /// `NewTooLargeResourceVersionError`): `Timeout: Too large resource version:
    /// 12, current: 10` with a `ResourceVersionTooLarge` cause.
    pub fn too_large_resource_version(
        requested: u64,
        current: u64,
        retry_after_seconds: u32,
    ) -> ApiError {
        let mut err = ApiError::timeout(
            &format!("Too large resource version: {requested}, current: {current}"),
            retry_after_seconds,
        );
        if let Some(d) = err.details.as_mut() {
            d.causes = vec![StatusCause {
                reason: "ResourceVersionTooLarge".into(),
                message: "Too large resource version".into(),
                field: String::new(),
            }];
        }
        err
    }

    /// Upstream's `NewGenericServerResponse`: the status a client builds from an
    /// unexpected HTTP response (also used by the apiserver for some 4xx).
    #[allow(clippy::too_many_arguments)]
    pub fn generic_server_response(
        code: u16,
        verb: &str,
        group: &str,
        resource: &str,
        name: &str,
        server_message: &str,
        retry_after_seconds: u32,
        is_unexpected_response: bool,
    ) -> ApiError {
        let (reason, mut message) = match code {
            409 => (
                if verb == "POST" {
                    "AlreadyExists"
                } else {
                    "Conflict"
                },
                "the server reported a conflict".to_string(),
            ),
            404 => (
                "NotFound",
                "the server could not find the requested resource".to_string(),
            ),
            400 => (
                "BadRequest",
                "the server rejected our request for an unknown reason".to_string(),
            ),
            401 => (
                "Unauthorized",
                "the server has asked for the client to provide credentials".to_string(),
            ),
            403 => ("Forbidden", server_message.to_string()),
            406 => (
                "NotAcceptable",
                if server_message.is_empty() || server_message == "unknown" {
                    "the server was unable to respond with a content type that the client supports"
                        .to_string()
                } else {
                    server_message.to_string()
                },
            ),
            415 => ("UnsupportedMediaType", server_message.to_string()),
            405 => (
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource".to_string(),
            ),
            422 => (
                "Invalid",
                "the server rejected our request due to an error in our request".to_string(),
            ),
            503 => (
                "ServiceUnavailable",
                "the server is currently unable to handle the request".to_string(),
            ),
            504 => (
                "Timeout",
                "the server was unable to return a response in the time allotted, but may still be processing the request".to_string(),
            ),
            429 => (
                "TooManyRequests",
                "the server has received too many requests and has asked us to try again later"
                    .to_string(),
            ),
            c if c >= 500 => (
                "InternalError",
                format!(
                    "an error on the server ({}) has prevented the request from succeeding",
                    go_quote(server_message)
                ),
            ),
            c => (
                "",
                format!(
                    "the server responded with the status code {c} but did not return more information"
                ),
            ),
        };
        let qualified_resource = qualified(group, resource);
        let has_resource = !group.is_empty() || !resource.is_empty();
        if has_resource && !name.is_empty() {
            message = format!(
                "{message} ({} {qualified_resource} {name})",
                verb.to_lowercase()
            );
        } else if has_resource {
            message = format!("{message} ({} {qualified_resource})", verb.to_lowercase());
        }
        let causes = if is_unexpected_response {
            vec![StatusCause {
                reason: "UnexpectedServerResponse".into(),
                message: server_message.to_string(),
                field: String::new(),
            }]
        } else {
            Vec::new()
        };
        ApiError {
            code,
            reason: reason.to_string(),
            message,
            details: Some(Box::new(StatusDetails {
                name: name.to_string(),
                group: group.to_string(),
                kind: resource.to_string(),
                causes,
                retry_after_seconds: (retry_after_seconds > 0).then_some(retry_after_seconds),
                ..Default::default()
            })),
        }
    }

    /// Whether the reason is `NotFound`.
    pub fn is_not_found(&self) -> bool {
        self.reason == "NotFound"
    }

    /// Whether the reason is `AlreadyExists`.
    pub fn is_already_exists(&self) -> bool {
        self.reason == "AlreadyExists"
    }

    /// Whether the reason is `Conflict`.
    pub fn is_conflict(&self) -> bool {
        self.reason == "Conflict"
    }

    /// Whether the reason is `Invalid`.
    pub fn is_invalid(&self) -> bool {
        self.reason == "Invalid"
    }

    /// The `metav1.Status` JSON exactly as upstream serialises it: `kind`,
    /// `apiVersion`, `metadata` (always `{}`), `status`, then `message`, `reason`,
    /// `details` and `code`, each omitted when empty.
    pub fn to_status(&self) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), json!("Status"));
        m.insert("apiVersion".into(), json!("v1"));
        m.insert("metadata".into(), json!({}));
        m.insert("status".into(), json!("Failure"));
        if !self.message.is_empty() {
            m.insert("message".into(), json!(self.message));
        }
        if !self.reason.is_empty() {
            m.insert("reason".into(), json!(self.reason));
        }
        if let Some(d) = &self.details {
            let mut dm = Map::new();
            for (k, v) in [
                ("name", &d.name),
                ("group", &d.group),
                ("kind", &d.kind),
                ("uid", &d.uid),
            ] {
                if !v.is_empty() {
                    dm.insert(k.into(), json!(v));
                }
            }
            if !d.causes.is_empty() {
                let causes: Vec<Value> = d
                    .causes
                    .iter()
                    .map(|c| {
                        let mut cm = Map::new();
                        for (k, v) in [
                            ("reason", &c.reason),
                            ("message", &c.message),
                            ("field", &c.field),
                        ] {
                            if !v.is_empty() {
                                cm.insert(k.into(), json!(v));
                            }
                        }
                        Value::Object(cm)
                    })
                    .collect();
                dm.insert("causes".into(), Value::Array(causes));
            }
            if let Some(r) = d.retry_after_seconds.filter(|r| *r > 0) {
                dm.insert("retryAfterSeconds".into(), json!(r));
            }
            m.insert("details".into(), Value::Object(dm));
        }
        if self.code != 0 {
            m.insert("code".into(), json!(self.code));
        }
        Value::Object(m)
    }

    /// Reads a `Status` object back (e.g. from an aggregated server);
    /// `None` unless `kind` is `Status`.
    pub fn from_status(status: &Value) -> Option<ApiError> {
        if status.get("kind").and_then(Value::as_str) != Some("Status") {
            return None;
        }
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let details = status
            .get("details")
            .filter(|d| d.is_object())
            .map(|d| StatusDetails {
                name: s(d, "name"),
                group: s(d, "group"),
                kind: s(d, "kind"),
                uid: s(d, "uid"),
                causes: d
                    .get("causes")
                    .and_then(Value::as_array)
                    .map(|cs| {
                        cs.iter()
                            .map(|c| StatusCause {
                                reason: s(c, "reason"),
                                message: s(c, "message"),
                                field: s(c, "field"),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                retry_after_seconds: d
                    .get("retryAfterSeconds")
                    .and_then(Value::as_u64)
                    .and_then(|r| u32::try_from(r).ok())
                    .filter(|r| *r > 0),
            });
        Some(ApiError {
            code: status
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(0),
            reason: s(status, "reason"),
            message: s(status, "message"),
            details: details.map(Box::new),
        })
    }
}

fn join<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Detail of a storage UID precondition failure:
/// `Precondition failed: UID in precondition: a, UID in object meta: b`.
pub fn precondition_failed_uid_message(precondition_uid: &str, actual_uid: &str) -> String {
    format!("Precondition failed: UID in precondition: {precondition_uid}, UID in object meta: {actual_uid}")
}

/// Detail of a storage resourceVersion precondition failure:
/// `Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: 2`.
pub fn precondition_failed_resource_version_message(
    precondition_rv: &str,
    actual_rv: &str,
) -> String {
    format!("Precondition failed: ResourceVersion in precondition: {precondition_rv}, ResourceVersion in object meta: {actual_rv}")
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> FieldPath {
        FieldPath::new("metadata")
    }

    #[test]
    fn field_paths() {
        assert_eq!(
            meta().child("labels").key("a").to_string(),
            "metadata.labels[a]"
        );
        assert_eq!(
            FieldPath::new("spec")
                .child("containers")
                .index(0)
                .child("name")
                .to_string(),
            "spec.containers[0].name"
        );
        assert_eq!(FieldPath::nil().to_string(), "<nil>");
        assert_eq!(FieldPath::nil().child("key").to_string(), "key");
        assert_eq!(
            FieldPath::nil()
                .child("values")
                .index(0)
                .key("x")
                .to_string(),
            "values[0][x]"
        );
        assert_eq!(FieldPath::nil().index(2).to_string(), "[2]");
        assert_eq!(FieldPath::new("").to_string(), "[]");
    }

    #[test]
    fn field_error_messages() {
        let name = meta().child("name");
        assert_eq!(
            FieldError::required(&name, "name or generateName is required").to_string(),
            "metadata.name: Required value: name or generateName is required"
        );
        assert_eq!(
            FieldError::required(&meta().child("namespace"), "").to_string(),
            "metadata.namespace: Required value"
        );
        assert_eq!(
            FieldError::invalid(&name, "Foo", "bad").to_string(),
            "metadata.name: Invalid value: \"Foo\": bad"
        );
        assert_eq!(
            FieldError::invalid(
                &meta().child("generation"),
                -1,
                "must be greater than or equal to 0"
            )
            .to_string(),
            "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(
            FieldError::invalid(&name, 1.5, "x").to_string(),
            "metadata.name: Invalid value: 1.5: x"
        );
        assert_eq!(
            FieldError::invalid(&name, true, "").to_string(),
            "metadata.name: Invalid value: true"
        );
        assert_eq!(
            FieldError::invalid(&name, Value::Null, "x").to_string(),
            "metadata.name: Invalid value: null: x"
        );
        assert_eq!(
            FieldError::invalid(&name, json!(["a", "b"]), "x").to_string(),
            "metadata.name: Invalid value: [\"a\",\"b\"]: x"
        );
        assert_eq!(
            FieldError::forbidden(&meta().child("namespace"), "not allowed on this type")
                .to_string(),
            "metadata.namespace: Forbidden: not allowed on this type"
        );
        assert_eq!(
            FieldError::not_supported(&FieldPath::new("spec").child("policy"), "x", &["A", "B"])
                .to_string(),
            "spec.policy: Unsupported value: \"x\": supported values: \"A\", \"B\""
        );
        assert_eq!(
            FieldError::not_supported::<&str>(&FieldPath::new("p"), "x", &[]).to_string(),
            "p: Unsupported value: \"x\""
        );
        assert_eq!(
            FieldError::too_long(&meta().child("annotations"), "", 262144).to_string(),
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
        assert_eq!(
            FieldError::too_long(&name, "x", 1).error_body(),
            "Too long: may not be more than 1 byte"
        );
        assert_eq!(
            FieldError::too_long_characters(&name, "x", 63).error_body(),
            "Too long: may not be more than 63 characters"
        );
        assert_eq!(
            FieldError::too_short(&name, "a", 3).error_body(),
            "Too short: must be at least 3 characters"
        );
        assert_eq!(
            FieldError::too_many(&name, Some(5), 3).error_body(),
            "Too many: 5: must have at most 3 items"
        );
        assert_eq!(
            FieldError::too_many(&name, None, 1).error_body(),
            "Too many: must have at most 1 item"
        );
        assert_eq!(
            FieldError::too_many(&name, Some(2), -1).error_body(),
            "Too many: 2: has too many items"
        );
        assert_eq!(
            FieldError::too_few(&name, 1, 2).error_body(),
            "Too few: 1: must have at least 2 items"
        );
        assert_eq!(
            FieldError::duplicate(&name, "a").error_body(),
            "Duplicate value: \"a\""
        );
        assert_eq!(
            FieldError::not_found(&name, "a").error_body(),
            "Not found: \"a\""
        );
        assert_eq!(
            FieldError::internal_error(&name, "boom").error_body(),
            "Internal error: boom"
        );
        assert_eq!(
            FieldError::type_invalid(&name, 3, "must be a string").to_string(),
            "metadata.name: Invalid value: 3: must be a string"
        );
        assert_eq!(
            FieldError::type_invalid(&name, 3, "").kind.reason(),
            "FieldValueTypeInvalid"
        );
    }

    #[test]
    fn upstream_error_formatting() {
        // TestErrorFormatting of upstream's field package.
        let p = FieldPath::new("path.to.field");
        let cases: Vec<(FieldError, &str)> = vec![
            (FieldError::required(&p, "the details"), "path.to.field: Required value: the details"),
            (FieldError::forbidden(&p, "the details"), "path.to.field: Forbidden: the details"),
            (FieldError::too_long(&p, "the value", 1), "path.to.field: Too long: may not be more than 1 byte"),
            (FieldError::too_long(&p, "the value", 2), "path.to.field: Too long: may not be more than 2 bytes"),
            (FieldError::too_long(&p, "the value", -1), "path.to.field: Too long: value is too long"),
            (FieldError::too_many(&p, Some(2), 1), "path.to.field: Too many: 2: must have at most 1 item"),
            (FieldError::too_many(&p, Some(3), 2), "path.to.field: Too many: 3: must have at most 2 items"),
            (FieldError::too_many(&p, Some(2), -1), "path.to.field: Too many: 2: has too many items"),
            (FieldError::too_many(&p, Some(-1), 1), "path.to.field: Too many: must have at most 1 item"),
            (FieldError::internal_error(&p, "the error"), "path.to.field: Internal error: the error"),
            (FieldError::invalid(&p, "the value", "the details"), "path.to.field: Invalid value: \"the value\": the details"),
            (FieldError::invalid(&p, -42, "the details"), "path.to.field: Invalid value: -42: the details"),
            (FieldError::invalid(&p, true, "the details"), "path.to.field: Invalid value: true: the details"),
            (
                FieldError::invalid(&p, json!({"stringField": "stringval", "intField": 9376, "boolField": true}), "the details"),
                "path.to.field: Invalid value: {\"stringField\":\"stringval\",\"intField\":9376,\"boolField\":true}: the details",
            ),
            (
                FieldError::invalid(&p, json!(["one", "two", "three"]), "the details"),
                "path.to.field: Invalid value: [\"one\",\"two\",\"three\"]: the details",
            ),
            (
                FieldError { kind: FieldErrorKind::Invalid, field: p.to_string(), bad_value: None, detail: "the details".into() },
                "path.to.field: Invalid value: the details",
            ),
            (FieldError::invalid(&p, Value::Null, "the details"), "path.to.field: Invalid value: null: the details"),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn upstream_new_invalid() {
        // TestNewInvalid of upstream's api/errors package.
        let p = FieldPath::new("field[0].name");
        let cases: Vec<(FieldError, &str, &str)> = vec![
            (
                FieldError::duplicate(&p, "bar"),
                "FieldValueDuplicate",
                "Kind \"name\" is invalid: field[0].name: Duplicate value: \"bar\"",
            ),
            (
                FieldError::invalid(&p, "bar", "detail"),
                "FieldValueInvalid",
                "Kind \"name\" is invalid: field[0].name: Invalid value: \"bar\": detail",
            ),
            (
                FieldError::not_found(&p, "bar"),
                "FieldValueNotFound",
                "Kind \"name\" is invalid: field[0].name: Not found: \"bar\"",
            ),
            (
                FieldError::not_supported::<&str>(&p, "bar", &[]),
                "FieldValueNotSupported",
                "Kind \"name\" is invalid: field[0].name: Unsupported value: \"bar\"",
            ),
            (
                FieldError::required(&p, ""),
                "FieldValueRequired",
                "Kind \"name\" is invalid: field[0].name: Required value",
            ),
        ];
        for (err, reason, msg) in cases {
            let body = err.error_body();
            let e = ApiError::invalid("", "Kind", "name", vec![err]);
            assert_eq!(
                (e.code, e.reason.as_str(), e.message.as_str()),
                (422, "Invalid", msg)
            );
            assert_eq!(
                e.details.map(|d| *d),
                Some(StatusDetails {
                    name: "name".into(),
                    kind: "Kind".into(),
                    causes: vec![StatusCause {
                        reason: reason.into(),
                        message: body,
                        field: "field[0].name".into()
                    }],
                    ..Default::default()
                })
            );
        }
    }

    #[test]
    fn aggregate() {
        let a = FieldError::required(&meta().child("name"), "x");
        let b = FieldError::required(&meta().child("namespace"), "");
        assert_eq!(aggregate_message(&[]), None);
        assert_eq!(
            aggregate_message(std::slice::from_ref(&a)).as_deref(),
            Some("metadata.name: Required value: x")
        );
        assert_eq!(
            aggregate_message(&[a.clone(), a.clone()]).as_deref(),
            Some("metadata.name: Required value: x")
        );
        assert_eq!(
            aggregate_message(&[a.clone(), b.clone(), a]).as_deref(),
            Some("[metadata.name: Required value: x, metadata.namespace: Required value]")
        );
    }

    #[test]
    fn status_not_found() {
        let e = ApiError::not_found("", "configmaps", "x");
        assert_eq!(e.to_string(), "configmaps \"x\" not found");
        assert_eq!(
            serde_json::to_string(&e.to_status()).unwrap(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"configmaps"},"code":404}"#
        );
        let e = ApiError::not_found("apps", "deployments", "d");
        assert_eq!(e.message, "deployments.apps \"d\" not found");
        assert_eq!(
            e.to_status()["details"],
            json!({"name": "d", "group": "apps", "kind": "deployments"})
        );
    }

    #[test]
    fn status_messages() {
        assert_eq!(
            ApiError::already_exists("", "configmaps", "x").message,
            "configmaps \"x\" already exists"
        );
        let c = ApiError::conflict("", "configmaps", "x", OPTIMISTIC_LOCK_ERROR_MSG);
        assert_eq!((c.code, c.reason.as_str()), (409, "Conflict"));
        assert_eq!(
            c.message,
            "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
        assert_eq!(
            ApiError::precondition_uid_mismatch("", "ConfigMap", "x", "a", "b").message,
            "Operation cannot be fulfilled on ConfigMap \"x\": the UID in the precondition (a) does not match the UID in record (b). The object might have been deleted and then recreated"
        );
        assert_eq!(
            ApiError::precondition_resource_version_mismatch("apps", "Deployment", "d", "1", "2").message,
            "Operation cannot be fulfilled on Deployment.apps \"d\": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (2). The object might have been modified"
        );
        assert_eq!(
            ApiError::storage_invalid_object(
                "",
                "pods",
                "p",
                "/registry/pods/default/p",
                &precondition_failed_uid_message("a", "b")
            )
            .message,
            "Operation cannot be fulfilled on pods \"p\": StorageError: invalid object, Code: 4, Key: /registry/pods/default/p, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: a, UID in object meta: b"
        );
        let m = ApiError::method_not_supported("", "pods", "create");
        assert_eq!((m.code, m.reason.as_str()), (405, "MethodNotAllowed"));
        assert_eq!(
            m.message,
            "create is not supported on resources of kind \"pods\""
        );
        assert_eq!(
            ApiError::method_not_supported("apps", "deployments", "patch").message,
            "patch is not supported on resources of kind \"deployments.apps\""
        );
        assert_eq!(
            ApiError::forbidden("", "secrets", "s", "nope").message,
            "secrets \"s\" is forbidden: nope"
        );
        assert_eq!(
            ApiError::forbidden("", "secrets", "", "nope").message,
            "secrets is forbidden: nope"
        );
        assert_eq!(
            ApiError::forbidden("", "", "", "nope").message,
            "forbidden: nope"
        );
        assert_eq!(ApiError::unauthorized("").message, "not authorized");
        let i = ApiError::internal("boom");
        assert_eq!(i.message, "Internal error occurred: boom");
        assert_eq!(
            serde_json::to_string(&i.to_status()["details"]).unwrap(),
            r#"{"causes":[{"message":"boom"}]}"#
        );
        let t = ApiError::timeout("slow", 2);
        assert_eq!((t.code, t.message.as_str()), (504, "Timeout: slow"));
        assert_eq!(t.to_status()["details"], json!({"retryAfterSeconds": 2}));
        assert_eq!(
            ApiError::timeout("slow", 0).to_status()["details"],
            json!({})
        );
        let r = ApiError::too_many_requests("slow down", 1);
        assert_eq!((r.code, r.reason.as_str()), (429, "TooManyRequests"));
        assert_eq!(
            ApiError::request_entity_too_large("limit is 3").message,
            "Request entity too large: limit is 3"
        );
        assert_eq!(ApiError::request_entity_too_large("x").code, 413);
        assert_eq!(
            ApiError::too_old_resource_version(5, 10).message,
            "too old resource version: 5 (10)"
        );
        assert_eq!(ApiError::too_old_resource_version(5, 10).reason, "Expired");
        assert_eq!(ApiError::gone("g").code, 410);
        assert_eq!(ApiError::service_unavailable("x").code, 503);
        assert_eq!(
            ApiError::unsupported_media_type_accepted(&["application/json", "application/yaml"]).message,
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml"
        );
        assert_eq!(
            ApiError::not_acceptable_media_types(&["application/json"]).message,
            "only the following media types are accepted: application/json"
        );
        assert_eq!(
            ApiError::server_timeout("", "pods", "get", 2).message,
            "The get operation against pods could not be completed at this time, please try again."
        );
        let big = ApiError::too_large_resource_version(12, 10, 1);
        assert_eq!(
            big.message,
            "Timeout: Too large resource version: 12, current: 10"
        );
        assert_eq!(
            big.to_status()["details"],
            json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1})
        );
        assert_eq!(
            serde_json::to_string(
                &ApiError::not_found_message("the server could not find the requested resource")
                    .to_status()
            )
            .unwrap(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#
        );
        let g = ApiError::generic_server_response(422, "", "", "", "", "boom", 0, false);
        assert_eq!(
            g.message,
            "the server rejected our request due to an error in our request"
        );
        let g = ApiError::generic_server_response(500, "GET", "", "pods", "p", "boom", 0, true);
        assert_eq!(
            g.message,
            "an error on the server (\"boom\") has prevented the request from succeeding (get pods p)"
        );
    }

    #[test]
    fn status_invalid() {
        let errs = vec![
            FieldError::invalid(
                &FieldPath::new("metadata").child("name"),
                "Foo",
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            ),
        ];
        let e = ApiError::invalid("", "ConfigMap", "Foo", errs);
        assert_eq!(
            e.message,
            "ConfigMap \"Foo\" is invalid: metadata.name: Invalid value: \"Foo\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
        let st = e.to_status();
        assert_eq!(st["code"], json!(422));
        assert_eq!(st["reason"], json!("Invalid"));
        assert_eq!(st["details"]["kind"], json!("ConfigMap"));
        assert_eq!(
            st["details"]["causes"][0]["reason"],
            json!("FieldValueInvalid")
        );
        assert_eq!(st["details"]["causes"][0]["field"], json!("metadata.name"));
        assert!(st["details"]["causes"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid value: \"Foo\": a lowercase"));

        let two = ApiError::invalid(
            "apps",
            "Deployment",
            "d",
            vec![
                FieldError::required(&FieldPath::new("spec").child("selector"), ""),
                FieldError::required(&FieldPath::new("spec").child("template"), ""),
            ],
        );
        assert_eq!(
            two.message,
            "Deployment.apps \"d\" is invalid: [spec.selector: Required value, spec.template: Required value]"
        );
        assert_eq!(
            ApiError::invalid("", "Pod", "p", vec![]).message,
            "Pod \"p\" is invalid"
        );
        // A required field's cause omits the value.
        assert_eq!(two.details.unwrap().causes[0].message, "Required value");
    }

    #[test]
    fn status_round_trip() {
        let e = ApiError::invalid(
            "",
            "Pod",
            "p",
            vec![FieldError::required(&FieldPath::new("spec"), "")],
        );
        assert_eq!(ApiError::from_status(&e.to_status()), Some(e));
        assert_eq!(ApiError::from_status(&json!({"kind": "Pod"})), None);
    }
}
