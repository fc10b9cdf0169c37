//! Kubernetes API machinery without I/O, following kube-apiserver v1.36:
//!
//! - [`errors`]: API errors as `metav1.Status`, field errors and field paths;
//! - [`validation`]: name, label, annotation and object-metadata validation;
//! - [`selectors`]: label and field selectors;
//! - [`time`]: `metav1.Time`/`MicroTime` formatting, RFC 3339 parsing, `HumanDuration`;
//! - [`duration`]: Go `time.Duration` parsing and formatting;
//! - [`yaml`]: a YAML emitter matching `sigs.k8s.io/yaml` output;
//! - [`uid`]: object UIDs.
//!
//! Messages match upstream's byte for byte, since clients compare them.

pub mod duration;
pub mod errors;
mod gofmt;
pub mod schema;
pub mod selectors;
pub mod time;
pub mod uid;
pub mod validation;
pub mod yaml;
