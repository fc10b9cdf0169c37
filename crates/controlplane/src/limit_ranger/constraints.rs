//! The LimitRange constraints (min, max, max limit/request ratio) over resource lists, in
//! milli-units as upstream compares them, with upstream's messages; and the totals of a pod
//! (containers summed, init containers taken at their peak, sidecars added).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::resources::resourcelists;

/// A quantity in thousandths of its unit, and whether it was written with a binary suffix
/// (which decides how it is printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Milli {
    pub milli: i128,
    pub binary: bool,
}

impl Milli {
    /// Reads a quantity value (`"500m"`, `"1Gi"`, `2`) exactly, rounding a fraction of a
    /// thousandth up (as upstream's `MilliValue`); `None` when it is none.
    pub fn of(v: &Value) -> Option<Milli> {
        let q = resourcelists::quantity(v)?;
        Some(Milli {
            milli: exact_milli(&q.text)?,
            binary: q.text.ends_with('i'),
        })
    }

    /// The quantity in canonical form, as upstream's `Quantity.String` prints it.
    pub fn canonical(&self) -> String {
        let m = self.milli;
        if self.binary && m % 1000 == 0 && (m / 1000).abs() >= 1024 {
            let mut v = m / 1000;
            let mut i = 0;
            while i < 6 && v % 1024 == 0 {
                v /= 1024;
                i += 1;
            }
            return format!("{v}{}", ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][i]);
        }
        if m % 1000 != 0 {
            return format!("{m}m");
        }
        let mut v = m / 1000;
        if v == 0 {
            return "0".to_string();
        }
        let mut i = 0;
        while i < 6 && v % 1000 == 0 {
            v /= 1000;
            i += 1;
        }
        format!("{v}{}", ["", "k", "M", "G", "T", "P", "E"][i])
    }
}

/// `ceil(n / d)` for a positive `d`.
fn div_ceil(n: i128, d: i128) -> i128 {
    n.div_euclid(d) + i128::from(n.rem_euclid(d) != 0)
}

/// A quantity's text in thousandths, computed in integers: a signed decimal number times
/// its suffix (`Ki`..`Ei`, `n`..`E`, or an exponent `e3`). `None` when it does not parse
/// or does not fit.
fn exact_milli(text: &str) -> Option<i128> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut mantissa: i128 = 0;
    for c in whole.chars().chain(fraction.chars()) {
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(i128::from(c.to_digit(10)?))?;
    }
    // value = mantissa * 10^(-fraction digits) * suffix; in thousandths: * 1000.
    let mut ten_power: i32 = 3 - i32::try_from(fraction.len()).ok()?;
    let mut binary: u32 = 0;
    match suffix {
        "" => {}
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            binary = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                .iter()
                .position(|s| *s == suffix)? as u32
                + 1;
        }
        "n" => ten_power -= 9,
        "u" => ten_power -= 6,
        "m" => ten_power -= 3,
        "k" => ten_power += 3,
        "M" => ten_power += 6,
        "G" => ten_power += 9,
        "T" => ten_power += 12,
        "P" => ten_power += 15,
        "E" => ten_power += 18,
        e if e.starts_with(['e', 'E']) => ten_power += e[1..].parse::<i32>().ok()?,
        _ => return None,
    }
    let mut value = mantissa.checked_mul(1024i128.checked_pow(binary)?)?;
    if ten_power >= 0 {
        value = value.checked_mul(10i128.checked_pow(u32::try_from(ten_power).ok()?)?)?;
    } else {
        let divisor = 10i128.checked_pow(u32::try_from(-ten_power).ok()?);
        value = match divisor {
            Some(d) => div_ceil(value, d),
            None => i128::from(value != 0),
        };
    }
    Some(if negative { -value } else { value })
}

/// A resource list by name.
pub type List = BTreeMap<String, Milli>;

/// The resource list at `pointer` in `obj` (empty when absent).
pub fn list_at(obj: &Value, pointer: &str) -> List {
    obj.pointer(pointer)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), Milli::of(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// `min`: a request must exist and not be below it, nor a limit.
pub fn min(
    kind: &str,
    name: &str,
    enforced: Milli,
    requests: &List,
    limits: &List,
) -> Option<String> {
    let e = enforced.canonical();
    let Some(req) = requests.get(name) else {
        return Some(format!(
            "minimum {name} usage per {kind} is {e}.  No request is specified"
        ));
    };
    if req.milli < enforced.milli {
        return Some(format!(
            "minimum {name} usage per {kind} is {e}, but request is {}",
            req.canonical()
        ));
    }
    match limits.get(name) {
        Some(lim) if lim.milli < enforced.milli => Some(format!(
            "minimum {name} usage per {kind} is {e}, but limit is {}",
            lim.canonical()
        )),
        _ => None,
    }
}

/// `max`: a limit must exist and not be above it, nor a request.
pub fn max(
    kind: &str,
    name: &str,
    enforced: Milli,
    requests: &List,
    limits: &List,
) -> Option<String> {
    let e = enforced.canonical();
    let Some(lim) = limits.get(name) else {
        return Some(format!(
            "maximum {name} usage per {kind} is {e}.  No limit is specified"
        ));
    };
    if lim.milli > enforced.milli {
        return Some(format!(
            "maximum {name} usage per {kind} is {e}, but limit is {}",
            lim.canonical()
        ));
    }
    match requests.get(name) {
        Some(req) if req.milli > enforced.milli => Some(format!(
            "maximum {name} usage per {kind} is {e}, but request is {}",
            req.canonical()
        )),
        _ => None,
    }
}

/// `max` for kinds that have requests only (PersistentVolumeClaims).
pub fn max_request(kind: &str, name: &str, enforced: Milli, requests: &List) -> Option<String> {
    let e = enforced.canonical();
    match requests.get(name) {
        None => Some(format!(
            "maximum {name} usage per {kind} is {e}.  No request is specified"
        )),
        Some(req) if req.milli > enforced.milli => Some(format!(
            "maximum {name} usage per {kind} is {e}, but request is {}",
            req.canonical()
        )),
        _ => None,
    }
}

/// `maxLimitRequestRatio`: limit / request may not exceed it.
pub fn ratio(
    kind: &str,
    name: &str,
    enforced: Milli,
    requests: &List,
    limits: &List,
) -> Option<String> {
    let e = enforced.canonical();
    let req = requests.get(name).map_or(0, |q| q.milli);
    if req == 0 {
        return Some(format!(
            "{name} max limit to request ratio per {kind} is {e}, but no request is specified or request is 0"
        ));
    }
    let lim = limits.get(name).map_or(0, |q| q.milli);
    if lim == 0 {
        return Some(format!(
            "{name} max limit to request ratio per {kind} is {e}, but no limit is specified or limit is 0"
        ));
    }
    let observed = lim as f64 / req as f64;
    if observed * 1000.0 > enforced.milli as f64 {
        return Some(format!(
            "{name} max limit to request ratio per {kind} is {e}, but provided ratio is {observed:.6}"
        ));
    }
    None
}

fn add(into: &mut List, from: &List) {
    for (k, v) in from {
        into.entry(k.clone())
            .and_modify(|q| q.milli += v.milli)
            .or_insert(*v);
    }
}

fn peak(into: &mut List, from: &List) {
    for (k, v) in from {
        match into.get(k) {
            Some(q) if q.milli >= v.milli => {}
            _ => {
                into.insert(k.clone(), *v);
            }
        }
    }
}

/// A pod's total of `field` (`requests` or `limits`): its containers and sidecars summed,
/// or the largest init container (with the sidecars started before it), whichever is more.
pub fn pod_total(spec: &Value, field: &str) -> List {
    let pointer = format!("/resources/{field}");
    let mut total = List::new();
    for c in spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add(&mut total, &list_at(c, &pointer));
    }
    let mut sidecars = List::new();
    let mut init_peak = List::new();
    for c in spec
        .get("initContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let own = list_at(c, &pointer);
        let running = if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            add(&mut total, &own);
            add(&mut sidecars, &own);
            sidecars.clone()
        } else {
            let mut with = own;
            add(&mut with, &sidecars);
            with
        };
        peak(&mut init_peak, &running);
    }
    peak(&mut total, &init_peak);
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(v: Value) -> Milli {
        Milli::of(&v).unwrap_or(Milli {
            milli: -1,
            binary: false,
        })
    }

    #[test]
    fn quantities_are_read_exactly() {
        for (text, milli) in [
            ("9m", 9),
            ("0.009", 9),
            ("123456789m", 123456789),
            ("1.5", 1500),
            ("1Ki", 1024000),
            ("0.5Gi", 536870912000),
            ("1e3", 1000000),
            ("2k", 2000000),
            ("100n", 1),
            ("-2", -2000),
            ("10Gi", 10737418240000),
        ] {
            assert_eq!(q(json!(text)).milli, milli, "{text}");
        }
        assert_eq!(Milli::of(&json!("1Xi")), None);
        // Every thousandth, written either way, reads back as itself.
        for m in 1..5000i128 {
            assert_eq!(q(json!(format!("{m}m"))).milli, m);
            assert_eq!(q(json!(format!("{}.{:03}", m / 1000, m % 1000))).milli, m);
        }
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(q(json!("100m")).canonical(), "100m");
        assert_eq!(q(json!("0.5")).canonical(), "500m");
        assert_eq!(q(json!("2000m")).canonical(), "2");
        assert_eq!(q(json!("1024Mi")).canonical(), "1Gi");
        assert_eq!(q(json!("1536Mi")).canonical(), "1536Mi");
        assert_eq!(q(json!("1000M")).canonical(), "1G");
        assert_eq!(q(json!(3)).canonical(), "3");
    }

    #[test]
    fn constraints_in_upstream_words() {
        let reqs: List = [("cpu".to_string(), q(json!("50m")))].into();
        let lims: List = [("cpu".to_string(), q(json!("2")))].into();
        assert_eq!(
            min("Container", "cpu", q(json!("100m")), &reqs, &lims).as_deref(),
            Some("minimum cpu usage per Container is 100m, but request is 50m")
        );
        assert_eq!(
            max("Container", "cpu", q(json!("1")), &reqs, &lims).as_deref(),
            Some("maximum cpu usage per Container is 1, but limit is 2")
        );
        assert_eq!(
            max("Container", "memory", q(json!("1Gi")), &reqs, &lims).as_deref(),
            Some("maximum memory usage per Container is 1Gi.  No limit is specified")
        );
        assert_eq!(
            ratio("Container", "cpu", q(json!("10")), &reqs, &lims).as_deref(),
            Some("cpu max limit to request ratio per Container is 10, but provided ratio is 40.000000")
        );
        assert_eq!(
            ratio("Container", "cpu", q(json!("40")), &reqs, &lims),
            None
        );
    }

    #[test]
    fn pod_totals_count_init_containers_at_their_peak() {
        let spec = json!({
            "containers": [{"resources": {"requests": {"cpu": "100m"}}}, {"resources": {"requests": {"cpu": "200m"}}}],
            "initContainers": [
                {"resources": {"requests": {"cpu": "1"}}},
                {"restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}},
            ],
        });
        assert_eq!(pod_total(&spec, "requests")["cpu"].canonical(), "1");
        let spec = json!({
            "containers": [{"resources": {"requests": {"cpu": "800m"}}}],
            "initContainers": [{"restartPolicy": "Always", "resources": {"requests": {"cpu": "300m"}}}],
        });
        assert_eq!(pod_total(&spec, "requests")["cpu"].canonical(), "1100m");
    }
}
