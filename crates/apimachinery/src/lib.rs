//! Kubernetes API machinery without I/O, following kube-apiserver v1.36:
//!
//! - [`errors`]: API errors as `metav1.Status`, field errors and field paths;
//! - [`fieldvalidation`]: unknown and duplicate fields, the `fieldValidation` directive;
//! - [`validation`]: name, label, annotation and object-metadata validation;
//! - [`selectors`]: label and field selectors;
//! - [`time`]: `metav1.Time`/`MicroTime` formatting, RFC 3339 parsing, `HumanDuration`;
//! - [`duration`]: Go `time.Duration` parsing and formatting;
//! - [`yaml`]: a YAML emitter matching `sigs.k8s.io/yaml` output;
//! - [`uid`]: object UIDs;
//! - [`schema`] and [`types`]: the type model and the `meta/v1` declarations;
//! - [`protobuf`]: the Kubernetes protobuf wire format, driven by the declarations;
//! - [`jsonpatch`]: JSON patch with upstream's bounds on operations and copies;
//! - [`strategicpatch`]: strategic merge patch, list merging driven by the declarations.
//!
//! Messages match upstream's byte for byte, since clients compare them.

pub mod duration;
pub mod errors;
pub mod fieldvalidation;
mod gofmt;
/// Go's `%q` quoting and `encoding/json`'s kind names, for messages worded as upstream's.
pub use gofmt::{go_quote, json_kind};
pub mod jsonpatch;
pub mod protobuf;
pub mod schema;
pub mod selectors;
pub mod strategicpatch;
pub mod time;
pub mod typecheck;
pub mod types;
pub mod uid;
pub mod validation;
pub mod yaml;
