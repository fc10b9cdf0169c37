//! `cronjobs` (batch/v1, `cj`): jobs on a schedule, with upstream's defaults
//! (`SetDefaults_CronJob`), validation (`ValidateCronJob*`: cron schedule, IANA time zone,
//! job template, name short enough for the jobs' names), status split and columns.

use std::sync::Arc;
use std::time::SystemTime;

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::time::{human_duration_since, parse_rfc3339};
use apiserver::registry::{meta, Cell, ColumnDef, ResourceDecl, Scope, Strategy};
use serde_json::{json, Value};

use super::common::{self, object_at, present, spec, status};
use super::{cron, jobs, template};
use crate::resources::fields::array;
use crate::types::Typed;

const CONCURRENCY_POLICIES: [&str; 3] = ["Allow", "Forbid", "Replace"];
/// The longest name whose jobs (`<name>-<11 characters>`) still fit a DNS label.
const MAX_NAME_LENGTH: usize = 52;

pub struct CronJobStrategy;

/// `SetDefaults_CronJob` (the job template keeps only its pod template's defaults).
pub fn default_cron_job(obj: &mut Value) {
    let spec = object_at(obj, "spec");
    if spec
        .get("concurrencyPolicy")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        spec.insert("concurrencyPolicy".to_string(), json!("Allow"));
    }
    common::default_field(spec, "suspend", json!(false));
    common::default_field(spec, "successfulJobsHistoryLimit", json!(3));
    common::default_field(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(t) = spec
        .get_mut("jobTemplate")
        .and_then(|j| j.get_mut("spec"))
        .and_then(|s| s.get_mut("template"))
    {
        template::default_template(t);
    }
}

/// `validateCronJobSpec`; `old` is the stored spec on an update.
fn validate_spec(obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let path = FieldPath::new("spec");
    let spec = spec(obj);
    let mut errs = Vec::new();
    let schedule = spec.get("schedule").and_then(Value::as_str).unwrap_or("");
    let schedule_path = path.child("schedule");
    let time_zone = spec.get("timeZone").and_then(Value::as_str);
    if schedule.is_empty() {
        errs.push(FieldError::required(&schedule_path, ""));
    } else {
        if let Err(e) = cron::parse_standard(schedule) {
            errs.push(FieldError::invalid(&schedule_path, json!(schedule), &e));
        }
        let old_had_tz = old
            .and_then(|o| o.get("schedule"))
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("TZ"));
        if schedule.contains("TZ") {
            if !old_had_tz {
                errs.push(FieldError::invalid(
                    &schedule_path,
                    json!(schedule),
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                ));
            } else if time_zone.is_some() {
                errs.push(FieldError::invalid(
                    &schedule_path,
                    json!(schedule),
                    "cannot use both timeZone field and TZ or CRON_TZ in schedule",
                ));
            }
        }
    }
    common::nonnegative(spec, "startingDeadlineSeconds", &path, &mut errs);
    let old_zone = old.and_then(|o| o.get("timeZone")).and_then(Value::as_str);
    if old.is_none() || old_zone != time_zone {
        if let Some(zone) = time_zone {
            for msg in cron::time_zone_errors(zone) {
                errs.push(FieldError::invalid(
                    &path.child("timeZone"),
                    json!(zone),
                    &msg,
                ));
            }
        }
    }
    let policy_path = path.child("concurrencyPolicy");
    match spec
        .get("concurrencyPolicy")
        .and_then(Value::as_str)
        .unwrap_or("")
    {
        "" => errs.push(FieldError::required(&policy_path, "")),
        p if !CONCURRENCY_POLICIES.contains(&p) => errs.push(FieldError::not_supported(
            &policy_path,
            json!(p),
            &CONCURRENCY_POLICIES,
        )),
        _ => {}
    }
    let template_spec = spec
        .get("jobTemplate")
        .and_then(|t| t.get("spec"))
        .unwrap_or(&Value::Null);
    let template_path = path.child("jobTemplate").child("spec");
    errs.extend(jobs::validate_job_spec(template_spec, &template_path));
    if let Some(sel) = present(template_spec, "selector") {
        errs.push(FieldError::invalid(
            &template_path.child("selector"),
            sel.clone(),
            "`selector` will be auto-generated",
        ));
    }
    if template_spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        errs.push(FieldError::not_supported(
            &template_path.child("manualSelector"),
            json!(true),
            &["nil", "false"],
        ));
    }
    errs.extend(common::nonnegatives(
        spec,
        &["successfulJobsHistoryLimit", "failedJobsHistoryLimit"],
        &path,
    ));
    errs
}

impl Strategy for CronJobStrategy {
    fn prepare_for_create(&self, obj: &mut Value) {
        default_cron_job(obj);
        common::reset_status(obj, json!({}));
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) {
        default_cron_job(new);
        common::reset_status(new, common::old_status(old, json!({})));
    }

    /// A new cron job's name leaves room for its jobs' timestamp suffix.
    fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = validate_spec(obj, None);
        let name = meta::name(obj);
        if name.len() > MAX_NAME_LENGTH {
            errs.push(FieldError::invalid(
                &FieldPath::new("metadata").child("name"),
                json!(name),
                "must be no more than 52 characters",
            ));
        }
        errs
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        validate_spec(new, Some(spec(old)))
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn generation_changed(&self, new: &Value, old: &Value) -> bool {
        spec(new) != spec(old)
    }

    fn subresource_update(&self, subresource: &str, new: &Value, old: &Value) -> Option<Value> {
        (subresource == "status").then(|| common::status_update(new, old, false))
    }

    fn table_columns(&self) -> Vec<ColumnDef> {
        vec![
            ColumnDef::new("Schedule", "string", "The schedule in cron format."),
            ColumnDef::new(
                "Timezone",
                "string",
                "The time zone the schedule is read in.",
            ),
            ColumnDef::new("Suspend", "boolean", "Whether later runs are suspended."),
            ColumnDef::new("Active", "integer", "The number of jobs running."),
            ColumnDef::new(
                "Last Schedule",
                "string",
                "How long ago a job was last scheduled.",
            ),
            ColumnDef::AGE,
        ]
        .into_iter()
        .chain(common::template_columns(Some(
            "The label query over pods of the jobs.",
        )))
        .collect()
    }

    fn table_cells(&self, obj: &Value) -> Vec<Cell> {
        let spec = spec(obj);
        let job_spec = spec
            .get("jobTemplate")
            .and_then(|t| t.get("spec"))
            .unwrap_or(&Value::Null);
        let template = job_spec.get("template").unwrap_or(&Value::Null);
        let suspend = match spec.get("suspend").and_then(Value::as_bool) {
            Some(true) => "True",
            Some(false) => "False",
            None => "<unset>",
        };
        let last = status(obj)
            .get("lastScheduleTime")
            .and_then(Value::as_str)
            .and_then(parse_rfc3339)
            .map_or("<none>".to_string(), |t| {
                human_duration_since(t, SystemTime::now())
            });
        vec![
            Cell::Value(json!(spec
                .get("schedule")
                .and_then(Value::as_str)
                .unwrap_or(""))),
            Cell::Value(json!(spec
                .get("timeZone")
                .and_then(Value::as_str)
                .unwrap_or("<none>"))),
            Cell::Value(json!(suspend)),
            Cell::Value(json!(array(status(obj), "active").len())),
            Cell::Value(json!(last)),
            Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        ]
        .into_iter()
        .chain(common::template_cells(
            template,
            Some(common::format_label_selector(job_spec.get("selector"))),
        ))
        .collect()
    }
}

pub fn decl() -> ResourceDecl {
    ResourceDecl::new(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        Scope::Namespaced,
        Arc::new(CronJobStrategy),
    )
    .typed()
    .with_short_names(&["cj"])
    .with_categories(&["all"])
    .with_subresources(&["status"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron_job(spec: Value) -> Value {
        let mut c = json!({"metadata": {"name": "nightly", "namespace": "default"}, "spec": spec});
        CronJobStrategy.prepare_for_create(&mut c);
        c
    }

    fn valid_spec() -> Value {
        json!({"schedule": "@hourly", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}})
    }

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn defaults_as_upstream() {
        let c = cron_job(valid_spec());
        assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(c["spec"]["suspend"], false);
        assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(c["spec"]["failedJobsHistoryLimit"], 1);
        assert!(c["spec"]["jobTemplate"]["spec"]
            .get("backoffLimit")
            .is_none());
        assert!(
            CronJobStrategy.validate(&c).is_empty(),
            "{:?}",
            CronJobStrategy.validate(&c)
        );
    }

    #[test]
    fn schedule_time_zone_and_template_rules() {
        let mut spec = valid_spec();
        spec["schedule"] = json!("61 * * * *");
        spec["timeZone"] = json!("Mars/Olympus");
        spec["concurrencyPolicy"] = json!("Sometimes");
        spec["jobTemplate"]["spec"]["selector"] = json!({"matchLabels": {"a": "b"}});
        let c = cron_job(spec);
        assert_eq!(
            messages(&CronJobStrategy.validate(&c)),
            [
                "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61",
                "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus",
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
                "spec.jobTemplate.spec.selector: Invalid value: {\"matchLabels\":{\"a\":\"b\"}}: `selector` will be auto-generated",
            ]
        );
        let mut tz = valid_spec();
        tz["schedule"] = json!("TZ=UTC 0 * * * *");
        let c = cron_job(tz);
        assert_eq!(
            messages(&CronJobStrategy.validate(&c)),
            ["spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"]
        );
        let mut zoned = valid_spec();
        zoned["timeZone"] = json!("Europe/Berlin");
        assert!(CronJobStrategy.validate(&cron_job(zoned)).is_empty());
    }

    #[test]
    fn long_names_only_on_create() {
        let mut c = cron_job(valid_spec());
        c["metadata"]["name"] = json!("a".repeat(53));
        assert_eq!(
            CronJobStrategy.validate(&c)[0].detail,
            "must be no more than 52 characters"
        );
        assert!(CronJobStrategy.validate_update(&c, &c).is_empty());
    }

    #[test]
    fn table_cells_match_columns() {
        let s = CronJobStrategy;
        let c = cron_job(valid_spec());
        let cells = s.table_cells(&c);
        assert_eq!(cells.len(), s.table_columns().len());
        assert_eq!(cells[0], Cell::Value(json!("@hourly")));
        assert_eq!(cells[1], Cell::Value(json!("<none>")));
        assert_eq!(cells[2], Cell::Value(json!("False")));
        assert_eq!(cells[3], Cell::Value(json!(0)));
        assert_eq!(cells[4], Cell::Value(json!("<none>")));
        assert_eq!(cells[8], Cell::Value(json!("<none>")));
    }
}
