//! Validation of the whole command line. Like upstream's
//! `CompletedOptions.Validate`, every section is checked and all problems
//! are returned together; flag syntax/value errors from parsing come first.

use super::auth::check_file;
use super::misc::{parse_service_cidrs, VersionFlag};
use super::ServerRunOptions;

/// Check everything; an empty result means the options are usable.
pub fn validate(opts: &ServerRunOptions) -> Vec<String> {
    let mut errs = opts.parse_errors.clone();
    opts.generic.validate(&mut errs);
    opts.etcd.validate(&mut errs);
    opts.secure_serving.validate(&mut errs);
    opts.authentication.validate(&mut errs);
    opts.authorization.validate(&mut errs);
    opts.api_enablement.validate(&mut errs);
    opts.admission.validate(&mut errs);
    opts.logs.validate(&mut errs);
    opts.misc.validate(&mut errs);
    validate_cross_cutting(opts, &mut errs);
    super::unsupported::validate(opts, &mut errs);
    errs
}

fn validate_cross_cutting(opts: &ServerRunOptions, errs: &mut Vec<String>) {
    // Files the server itself reads.
    let ss = &opts.secure_serving;
    check_file(errs, "--tls-cert-file", ss.tls_cert_file.as_deref());
    check_file(
        errs,
        "--tls-private-key-file",
        ss.tls_private_key_file.as_deref(),
    );
    let etcd = &opts.etcd;
    check_file(errs, "--etcd-cafile", etcd.cafile.as_deref());
    check_file(errs, "--etcd-certfile", etcd.certfile.as_deref());
    check_file(errs, "--etcd-keyfile", etcd.keyfile.as_deref());
    for (flag, dir) in [
        ("--cert-dir", ss.cert_dir.as_deref()),
        ("--data-dir", opts.embedded.data_dir.as_deref()),
    ] {
        if let Some(d) = dir {
            if std::path::Path::new(d).is_file() {
                errs.push(format!("{flag} {d:?} is a file, not a directory"));
            }
        }
    }
    if let Some(k) = &opts.embedded.admin_kubeconfig {
        if std::path::Path::new(k).is_dir() {
            errs.push(format!("--admin-kubeconfig {k:?} is a directory"));
        }
    }

    // validatePublicIPServiceClusterIPRangeIPFamilies: the kubernetes
    // service endpoints use the advertise address, so its family must match
    // the primary service range (checked again in Complete once the
    // advertise address has been defaulted).
    if opts.misc.endpoint_reconciler_type != "none" {
        if let (Some(adv), Ok(cidrs)) = (
            opts.generic.advertise_address,
            parse_service_cidrs(&opts.misc.service_cluster_ip_range),
        ) {
            if let Some(primary) = cidrs.first() {
                if primary.is_ipv4() != adv.is_ipv4() {
                    errs.push(format!(
                        "service IP family {:?} must match public address family {:?}",
                        primary.to_string(),
                        adv.to_string()
                    ));
                }
            }
        }
    }

    // validateAPIPriorityAndFairness: APF needs the flowcontrol v1 API.
    if opts.features.enable_priority_and_fairness {
        let rc = &opts.api_enablement.runtime_config;
        for key in ["flowcontrol.apiserver.k8s.io/v1", "api/ga", "api/all"] {
            match rc.get(key).map(String::as_str) {
                Some("false") => {
                    errs.push(format!(
                        "--runtime-config={key}=false conflicts with \
                         --enable-priority-and-fairness=true"
                    ));
                    break;
                }
                Some("true") => break,
                _ => {}
            }
        }
        let total = opts
            .generic
            .max_requests_inflight
            .saturating_add(opts.generic.max_mutating_requests_inflight);
        if total <= 0 {
            errs.push(format!(
                "invalid configuration: MaxRequestsInFlight={} and MaxMutatingRequestsInFlight={}; \
                 parallelism must be positive when --enable-priority-and-fairness is true",
                opts.generic.max_requests_inflight, opts.generic.max_mutating_requests_inflight
            ));
        }
    }

    if let VersionFlag::Override(v) = &opts.global.version {
        if !is_semver_like(v) {
            errs.push(format!(
                "invalid argument {v:?} for \"--version\" flag: expected true, false, raw or a \
                 version like v1.36.0"
            ));
        }
    }
}

/// `vMAJOR.MINOR.PATCH` with an optional `-pre` / `+build` suffix.
fn is_semver_like(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let nums: Vec<&str> = core.split('.').collect();
    nums.len() == 3
        && nums
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}
