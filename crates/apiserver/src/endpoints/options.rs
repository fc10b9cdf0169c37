//! The options a request carries besides its object, read and validated as upstream's
//! handlers do: `CreateOptions`, `UpdateOptions` and `PatchOptions` from the query string,
//! and `DeleteOptions` from the body or, when the body is empty, from the query string.
//! Values that do not parse are a 400; values that parse but are not allowed are a 422
//! naming the options type (`DeleteOptions.meta.k8s.io "" is invalid: ...`).

use apimachinery::errors::{ApiError, FieldError, FieldPath};
use apimachinery::fieldvalidation::Directive;
use apimachinery::validation::{validate_dry_run, validate_field_manager};
use serde_json::Value;

use crate::registry::{DeleteOptions, Preconditions, Propagation};
use crate::request_info::{query_param, query_values};

/// The group of every options type.
const META_GROUP: &str = "meta.k8s.io";

/// The query options of a create, update or patch.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// `dryRun=All`.
    pub dry_run: bool,
    pub field_validation: Directive,
    /// `fieldManager` (empty when not given).
    pub field_manager: String,
    /// `force` (apply only).
    pub force: bool,
    /// The options as an object of their kind (`CreateOptions`...), as admission sees them.
    pub object: Value,
}

/// What kind of patch the options are read for (they differ only for patches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOptionsFor {
    /// Not a patch, or a JSON, merge or strategic merge patch.
    Other,
    /// Server-side apply: `fieldManager` is required, `force` allowed.
    Apply,
}

impl WriteOptions {
    /// Reads and validates the options; `kind` names the options type in errors
    /// (`CreateOptions`, `UpdateOptions`, `PatchOptions`).
    pub fn from_query(query: Option<&str>, kind: &str) -> Result<WriteOptions, ApiError> {
        Self::read(query, kind, None)
    }

    /// Reads and validates `PatchOptions` for a patch of this kind: an apply needs a
    /// `fieldManager`; other patches may not set `force` (upstream's checks, first).
    pub fn for_patch(
        query: Option<&str>,
        patch: PatchOptionsFor,
    ) -> Result<WriteOptions, ApiError> {
        Self::read(query, "PatchOptions", Some(patch))
    }

    fn read(
        query: Option<&str>,
        kind: &str,
        patch: Option<PatchOptionsFor>,
    ) -> Result<WriteOptions, ApiError> {
        let mut errs = Vec::new();
        let manager = query_param(query, "fieldManager").unwrap_or_default();
        let force = query_param(query, "force");
        match patch {
            Some(PatchOptionsFor::Apply) if manager.is_empty() => errs.push(FieldError::required(
                &FieldPath::new("fieldManager"),
                "is required for apply patch",
            )),
            Some(PatchOptionsFor::Other) if force.is_some() => errs.push(FieldError::forbidden(
                &FieldPath::new("force"),
                "may not be specified for non-apply patch",
            )),
            _ => {}
        }
        errs.extend(validate_field_manager(
            &manager,
            &FieldPath::new("fieldManager"),
        ));
        let dry_run = query_values(query, "dryRun");
        errs.extend(validate_dry_run(&dry_run, &FieldPath::new("dryRun")));
        let field_validation = Directive::parse(query_param(query, "fieldValidation").as_deref())
            .unwrap_or_else(|e| {
                errs.push(*e);
                Directive::Warn
            });
        if !errs.is_empty() {
            return Err(ApiError::invalid(META_GROUP, kind, "", errs));
        }
        let mut object = serde_json::Map::new();
        object.insert("kind".into(), Value::from(kind));
        object.insert("apiVersion".into(), Value::from("meta.k8s.io/v1"));
        if !dry_run.is_empty() {
            object.insert("dryRun".into(), Value::from(dry_run.clone()));
        }
        if !manager.is_empty() {
            object.insert("fieldManager".into(), Value::from(manager.clone()));
        }
        let force = force.is_some_and(|v| !(v == "0" || v.eq_ignore_ascii_case("false")));
        if force {
            object.insert("force".into(), Value::from(true));
        }
        if let Some(v) = query_param(query, "fieldValidation") {
            object.insert("fieldValidation".into(), Value::from(v));
        }
        Ok(WriteOptions {
            dry_run: !dry_run.is_empty(),
            field_validation,
            field_manager: manager,
            // Booleans in query strings: false only for `0` and `false`.
            force,
            object: Value::Object(object),
        })
    }
}

/// `DeleteOptions` as upstream's delete handlers read them: from the body when there is
/// one (`body_json`: a JSON body, or a protobuf one already turned into JSON), else from
/// the query string; then validated.
pub fn delete_options(
    query: Option<&str>,
    body_json: Option<&Value>,
) -> Result<DeleteOptions, ApiError> {
    let raw = match body_json {
        Some(body) => RawDeleteOptions::from_json(body)?,
        None => RawDeleteOptions::from_query(query)?,
    };
    raw.validate()
}

/// The fields of a `DeleteOptions` as given, before validation.
#[derive(Debug, Default)]
struct RawDeleteOptions {
    grace_period_seconds: Option<i64>,
    preconditions: Preconditions,
    orphan_dependents: Option<bool>,
    propagation_policy: Option<String>,
    dry_run: Vec<String>,
}

impl RawDeleteOptions {
    /// Query parameters as upstream's parameter codec converts them: the first value of
    /// each (every value of `dryRun`); booleans are false only for `0` and `false`.
    fn from_query(query: Option<&str>) -> Result<RawDeleteOptions, ApiError> {
        let grace_period_seconds = match query_param(query, "gracePeriodSeconds") {
            None => None,
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                ApiError::bad_request(&format!(
                    "strconv.ParseInt: parsing {}: invalid syntax",
                    apimachinery::go_quote(&v)
                ))
            })?),
        };
        let orphan_dependents = query_param(query, "orphanDependents")
            .map(|v| !(v == "0" || v.eq_ignore_ascii_case("false")));
        Ok(RawDeleteOptions {
            grace_period_seconds,
            preconditions: Preconditions::default(),
            orphan_dependents,
            propagation_policy: query_param(query, "propagationPolicy"),
            dry_run: query_values(query, "dryRun"),
        })
    }

    /// A `DeleteOptions` body; a field of the wrong JSON type is a 400 worded as Go's
    /// decoder words it.
    fn from_json(body: &Value) -> Result<RawDeleteOptions, ApiError> {
        let Some(obj) = body.as_object() else {
            return Err(ApiError::bad_request(
                "decoded object cannot be converted to DeleteOptions",
            ));
        };
        if let Some(kind) = obj.get("kind").and_then(Value::as_str) {
            if !kind.is_empty() && kind != "DeleteOptions" {
                return Err(ApiError::bad_request(
                    "decoded object cannot be converted to DeleteOptions",
                ));
            }
        }
        let field = |name: &str| obj.get(name).filter(|v| !v.is_null());
        let grace_period_seconds = match field("gracePeriodSeconds") {
            None => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| type_error(v, "gracePeriodSeconds", "int64"))?,
            ),
        };
        let orphan_dependents = match field("orphanDependents") {
            None => None,
            Some(v) => Some(
                v.as_bool()
                    .ok_or_else(|| type_error(v, "orphanDependents", "bool"))?,
            ),
        };
        let propagation_policy = match field("propagationPolicy") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .ok_or_else(|| type_error(v, "propagationPolicy", "v1.DeletionPropagation"))?
                    .to_string(),
            ),
        };
        let dry_run = match field("dryRun") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| type_error(i, "dryRun", "string"))
                })
                .collect::<Result<_, _>>()?,
            Some(v) => return Err(type_error(v, "dryRun", "[]string")),
        };
        let mut preconditions = Preconditions::default();
        if let Some(p) = field("preconditions") {
            let Some(p) = p.as_object() else {
                return Err(type_error(p, "preconditions", "v1.Preconditions"));
            };
            let text = |name: &str| -> Result<Option<String>, ApiError> {
                match p.get(name).filter(|v| !v.is_null()) {
                    None => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(v) => Err(type_error(v, &format!("preconditions.{name}"), "string")),
                }
            };
            preconditions.uid = text("uid")?;
            preconditions.resource_version = text("resourceVersion")?;
        }
        Ok(RawDeleteOptions {
            grace_period_seconds,
            preconditions,
            orphan_dependents,
            propagation_policy,
            dry_run,
        })
    }

    /// Upstream's `ValidateDeleteOptions`.
    fn validate(self) -> Result<DeleteOptions, ApiError> {
        let mut errs = Vec::new();
        let policy_path = FieldPath::new("propagationPolicy");
        if let (Some(_), Some(policy)) = (self.orphan_dependents, &self.propagation_policy) {
            errs.push(FieldError::invalid(
                &policy_path,
                policy.as_str(),
                "orphanDependents and deletionPropagation cannot be both set",
            ));
        }
        let mut propagation_policy = None;
        if let Some(policy) = &self.propagation_policy {
            match Propagation::parse(policy) {
                Some(p) => propagation_policy = Some(p),
                None => {
                    let mut supported = Propagation::NAMES.to_vec();
                    supported.push("nil");
                    errs.push(FieldError::not_supported(
                        &policy_path,
                        policy.as_str(),
                        &supported,
                    ));
                }
            }
        }
        errs.extend(validate_dry_run(&self.dry_run, &FieldPath::new("dryRun")));
        if !errs.is_empty() {
            return Err(ApiError::invalid(META_GROUP, "DeleteOptions", "", errs));
        }
        Ok(DeleteOptions {
            preconditions: self.preconditions,
            dry_run: !self.dry_run.is_empty(),
            propagation_policy,
            orphan_dependents: self.orphan_dependents,
            grace_period_seconds: self.grace_period_seconds,
        })
    }
}

/// Go's `json: cannot unmarshal <kind> into Go struct field DeleteOptions.<field> of type
/// <type>`.
fn type_error(value: &Value, field: &str, go_type: &str) -> ApiError {
    let kind = apimachinery::json_kind(value);
    ApiError::bad_request(&format!(
        "json: cannot unmarshal {kind} into Go struct field DeleteOptions.{field} of type {go_type}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn write_options_aggregate_every_problem_in_one_422() {
        let ok =
            WriteOptions::from_query(Some("dryRun=All&fieldValidation=Strict"), "CreateOptions")
                .unwrap();
        assert!(ok.dry_run);
        assert_eq!(ok.field_validation, Directive::Strict);
        assert!(
            !WriteOptions::from_query(None, "CreateOptions")
                .unwrap()
                .dry_run
        );
        let e = WriteOptions::from_query(
            Some("dryRun=All&dryRun=Some&fieldValidation=strict"),
            "PatchOptions",
        )
        .unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: [dryRun: Unsupported value: [\"All\",\"Some\"]: supported values: \"All\", fieldValidation: Unsupported value: \"strict\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"]"
        );
    }

    #[test]
    fn delete_options_from_the_query_when_there_is_no_body() {
        let o = delete_options(
            Some("propagationPolicy=Orphan&gracePeriodSeconds=5&dryRun=All"),
            None,
        )
        .unwrap();
        assert_eq!(o.propagation_policy, Some(Propagation::Orphan));
        assert_eq!(o.grace_period_seconds, Some(5));
        assert!(o.dry_run);
        let o = delete_options(Some("orphanDependents=false"), None).unwrap();
        assert_eq!(o.orphan_dependents, Some(false));
        let o = delete_options(Some("orphanDependents=yes"), None).unwrap();
        assert_eq!(o.orphan_dependents, Some(true));
        let e = delete_options(Some("gracePeriodSeconds=soon"), None).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "strconv.ParseInt: parsing \"soon\": invalid syntax")
        );
    }

    #[test]
    fn a_body_wins_over_the_query() {
        let body = json!({"kind": "DeleteOptions", "apiVersion": "v1",
            "preconditions": {"uid": "u1"}, "dryRun": ["All"]});
        let o = delete_options(Some("propagationPolicy=Orphan"), Some(&body)).unwrap();
        assert_eq!(o.propagation_policy, None);
        assert_eq!(o.preconditions.uid.as_deref(), Some("u1"));
        assert!(o.dry_run);
        let e = delete_options(None, Some(&json!({"gracePeriodSeconds": "1"}))).unwrap_err();
        assert_eq!(
            e.message,
            "json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64"
        );
        let e = delete_options(None, Some(&json!({"kind": "Pod"}))).unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[test]
    fn invalid_delete_options_are_a_422_as_upstream_words_it() {
        let e = delete_options(Some("propagationPolicy=Sideways"), None).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sideways\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
        );
        let body =
            json!({"orphanDependents": true, "propagationPolicy": "Orphan", "dryRun": ["x"]});
        let e = delete_options(None, Some(&body)).unwrap_err();
        assert_eq!(
            e.message,
            "DeleteOptions.meta.k8s.io \"\" is invalid: [propagationPolicy: Invalid value: \"Orphan\": orphanDependents and deletionPropagation cannot be both set, dryRun: Unsupported value: [\"x\"]: supported values: \"All\"]"
        );
    }
}
