//! The columns `kubectl get pods` shows, computed as upstream's `printPod` does.

use std::time::SystemTime;

use apiserver::registry::{meta, Cell, ColumnDef};
use serde_json::{json, Value};

use super::super::fields::{array, str_of};

/// Name is the first column; these follow it.
pub fn columns() -> Vec<ColumnDef> {
    let wide = |c: ColumnDef| ColumnDef { priority: 1, ..c };
    vec![
        ColumnDef::new(
            "Ready",
            "string",
            "Ready containers out of all containers of the pod.",
        ),
        ColumnDef::new(
            "Status",
            "string",
            "The pod's phase, or what its containers are waiting for.",
        ),
        ColumnDef::new(
            "Restarts",
            "string",
            "How often the pod's containers restarted, and when last.",
        ),
        ColumnDef::AGE,
        wide(ColumnDef::new(
            "IP",
            "string",
            "The pod's first IP address.",
        )),
        wide(ColumnDef::new(
            "Node",
            "string",
            "The node the pod is bound to.",
        )),
        wide(ColumnDef::new(
            "Nominated Node",
            "string",
            "The node preemption made room on for the pod.",
        )),
        wide(ColumnDef::new(
            "Readiness Gates",
            "string",
            "Readiness gates whose condition is true, out of all.",
        )),
    ]
}

fn status(obj: &Value) -> &Value {
    obj.get("status").unwrap_or(&Value::Null)
}

fn spec(obj: &Value) -> &Value {
    obj.get("spec").unwrap_or(&Value::Null)
}

fn state<'a>(container: &'a Value, which: &str) -> Option<&'a Value> {
    container
        .get("state")
        .and_then(|s| s.get(which))
        .filter(|v| !v.is_null())
}

fn int_of(v: &Value, field: &str) -> i64 {
    v.get(field).and_then(Value::as_i64).unwrap_or(0)
}

fn last_terminated_at(container: &Value) -> Option<SystemTime> {
    container
        .get("lastState")
        .and_then(|s| s.get("terminated"))
        .and_then(|t| t.get("finishedAt"))
        .and_then(Value::as_str)
        .and_then(apimachinery::time::parse_rfc3339)
}

fn later(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<SystemTime> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

/// Whether an init container runs beside the pod's containers (a sidecar).
fn restartable(init: &[Value], name: &str) -> bool {
    init.iter()
        .find(|c| str_of(c, "name") == name)
        .is_some_and(|c| str_of(c, "restartPolicy") == "Always")
}

fn condition_true(obj: &Value, kind: &str) -> bool {
    array(status(obj), "conditions")
        .iter()
        .any(|c| str_of(c, "type") == kind && str_of(c, "status") == "True")
}

/// A terminated state's reason, or its signal or exit code.
fn terminated_reason(t: &Value, prefix: &str) -> String {
    let reason = str_of(t, "reason");
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = int_of(t, "signal");
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", int_of(t, "exitCode"))
    }
}

/// READY, STATUS and RESTARTS (with the time of the last restart) as `printPod` computes
/// them.
fn summary(obj: &Value) -> (String, String, i64, Option<SystemTime>) {
    let status = status(obj);
    let init = array(spec(obj), "initContainers");
    let total = array(spec(obj), "containers").len()
        + init
            .iter()
            .filter(|c| str_of(c, "restartPolicy") == "Always")
            .count();
    let mut ready = 0;
    let phase = str_of(status, "phase");
    let mut reason = if str_of(status, "reason").is_empty() {
        phase.to_string()
    } else {
        str_of(status, "reason").to_string()
    };
    if array(status, "conditions")
        .iter()
        .any(|c| str_of(c, "type") == "PodScheduled" && str_of(c, "reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".to_string();
    }
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut last_restart = None;
    let mut last_sidecar_restart = None;
    let mut initializing = false;
    for (i, c) in array(status, "initContainerStatuses").iter().enumerate() {
        restarts += int_of(c, "restartCount");
        last_restart = later(last_restart, last_terminated_at(c));
        let sidecar = restartable(init, str_of(c, "name"));
        if sidecar {
            sidecar_restarts += int_of(c, "restartCount");
            last_sidecar_restart = later(last_sidecar_restart, last_terminated_at(c));
        }
        let terminated = state(c, "terminated");
        let waiting = state(c, "waiting");
        if terminated.is_some_and(|t| int_of(t, "exitCode") == 0) {
            continue;
        }
        if sidecar && c.get("started").and_then(Value::as_bool) == Some(true) {
            if c.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = terminated_reason(t, "Init:");
        } else if let Some(w) = waiting.filter(|w| {
            let r = str_of(w, "reason");
            !r.is_empty() && r != "PodInitializing"
        }) {
            reason = format!("Init:{}", str_of(w, "reason"));
        } else {
            reason = format!("Init:{i}/{}", init.len());
        }
        initializing = true;
        break;
    }
    if !initializing || condition_true(obj, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in array(status, "containerStatuses").iter().rev() {
            restarts += int_of(c, "restartCount");
            last_restart = later(last_restart, last_terminated_at(c));
            let waiting_reason = state(c, "waiting")
                .map(|w| str_of(w, "reason"))
                .unwrap_or("");
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = state(c, "terminated") {
                reason = terminated_reason(t, "");
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && state(c, "running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(obj, "Ready") {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }
    let deleting = !meta::meta_str(obj, "deletionTimestamp").is_empty();
    if deleting && str_of(status, "reason") == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }
    (format!("{ready}/{total}"), reason, restarts, last_restart)
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s.to_string()
    }
}

/// The cells of [`columns`] for one pod, wide ones included.
pub fn cells(obj: &Value) -> Vec<Cell> {
    let (ready, reason, restarts, last_restart) = summary(obj);
    let restarts = match last_restart {
        Some(t) if restarts != 0 => format!(
            "{restarts} ({} ago)",
            apimachinery::time::human_duration_since(t, SystemTime::now())
        ),
        _ => restarts.to_string(),
    };
    let status = status(obj);
    let pod_ip = array(status, "podIPs")
        .first()
        .map_or("", |p| str_of(p, "ip"));
    let gates = array(spec(obj), "readinessGates");
    let readiness = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = array(status, "conditions");
        let true_count = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| str_of(c, "type") == str_of(g, "conditionType"))
                    .is_some_and(|c| str_of(c, "status") == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    let text = |s: String| Cell::Value(json!(s));
    vec![
        text(ready),
        text(reason),
        text(restarts),
        Cell::Age(meta::meta_str(obj, "creationTimestamp").to_string()),
        text(or_none(pod_ip)),
        text(or_none(str_of(spec(obj), "nodeName"))),
        text(or_none(str_of(status, "nominatedNodeName"))),
        text(readiness),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(obj: &Value) -> Vec<Value> {
        cells(obj)
            .into_iter()
            .filter_map(|c| match c {
                Cell::Value(v) => Some(v),
                Cell::Age(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_new_pod_is_pending() {
        let pod = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}, "status": {"phase": "Pending"}});
        assert_eq!(
            values(&pod),
            ["0/2", "Pending", "0", "<none>", "<none>", "<none>", "<none>"]
        );
        assert_eq!(columns().len(), cells(&pod).len());
    }

    #[test]
    fn running_waiting_terminating_and_init() {
        let running = json!({"spec": {"nodeName": "n1", "containers": [{"name": "a"}], "readinessGates": [{"conditionType": "x/y"}]},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}], "conditions": [{"type": "x/y", "status": "True"}],
                "containerStatuses": [{"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}}]}});
        assert_eq!(
            values(&running),
            ["1/1", "Running", "0", "10.0.0.5", "n1", "<none>", "1/1"]
        );
        let waiting = json!({"spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "a", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        assert_eq!(values(&waiting)[..3], ["0/1", "CrashLoopBackOff", "3"]);
        let mut deleting = running.clone();
        deleting["metadata"] = json!({"deletionTimestamp": "2026-01-01T00:00:00Z"});
        assert_eq!(values(&deleting)[1], "Terminating");
        let init = json!({"spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
                {"name": "i2", "state": {"running": {}}}]}});
        assert_eq!(values(&init)[1], "Init:1/2");
        let failed = json!({"spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Failed", "containerStatuses": [{"name": "a", "state": {"terminated": {"exitCode": 137}}}]}});
        assert_eq!(values(&failed)[1], "ExitCode:137");
    }
}
