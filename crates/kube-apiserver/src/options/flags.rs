//! A small command-line parser with Go pflag semantics, driven by a table
//! of flag specifications, plus the `--help` renderer.
//!
//! Why not clap's parser: upstream's flags follow pflag rules that clap does
//! not express directly, and we want *every* problem reported at once:
//! - `--flag=value` and `--flag value` for value flags; the next argument is
//!   taken as the value even when it starts with `-` (e.g. `-5s`).
//! - bool flags are `--flag` or `--flag=true|false` (never `--flag false`),
//!   with Go's `strconv.ParseBool` spellings.
//! - `_` is accepted in place of `-` in flag names (cliflag's
//!   `WordSepNormalizeFunc`); only the name part before `=` is normalised.
//! - list flags are comma separated and may be repeated (values append).
//! - shorthands: `-v 2`, `-v=2`, `-v2`, `-h`.
//! - unknown flags, missing values and bad values are collected instead of
//!   stopping at the first one.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::duration::GoDuration;
use super::net::parse_ip;

/// Help sections, in upstream's order (`cliflag.NamedFlagSets`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Generic,
    Etcd,
    SecureServing,
    Auditing,
    Features,
    Authentication,
    Authorization,
    ApiEnablement,
    EgressSelector,
    Admission,
    Metrics,
    Logs,
    Traces,
    Misc,
    EmbeddedStore,
    Global,
}

impl Section {
    pub const ALL: [Section; 16] = [
        Section::Generic,
        Section::Etcd,
        Section::SecureServing,
        Section::Auditing,
        Section::Features,
        Section::Authentication,
        Section::Authorization,
        Section::ApiEnablement,
        Section::EgressSelector,
        Section::Admission,
        Section::Metrics,
        Section::Logs,
        Section::Traces,
        Section::Misc,
        Section::EmbeddedStore,
        Section::Global,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::Generic => "Generic flags",
            Section::Etcd => "Etcd flags",
            Section::SecureServing => "Secure serving flags",
            Section::Auditing => "Auditing flags",
            Section::Features => "Features flags",
            Section::Authentication => "Authentication flags",
            Section::Authorization => "Authorization flags",
            Section::ApiEnablement => "API enablement flags",
            Section::EgressSelector => "Egress selector flags",
            Section::Admission => "Admission flags",
            Section::Metrics => "Metrics flags",
            Section::Logs => "Logs flags",
            Section::Traces => "Traces flags",
            Section::Misc => "Misc flags",
            Section::EmbeddedStore => "Embedded store flags",
            Section::Global => "Global flags",
        }
    }
}

/// Whether a flag takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `--flag` means true; a value is only taken with `=`.
    Bool,
    /// Takes a value: `--flag=v` or `--flag v`.
    Value,
    /// Like `Bool`, but `--flag=<anything>` keeps the text (`--version=raw`).
    OptionalValue,
}

/// One flag.
#[derive(Clone, Debug)]
pub struct FlagSpec {
    pub name: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
    /// pflag's type name shown in help (`ip`, `int`, `duration`, `strings`...).
    pub value_type: &'static str,
    /// Default as shown in help; empty means "zero value, not shown".
    pub default: String,
    pub help: String,
    pub section: Section,
    pub deprecated: Option<&'static str>,
    /// Accepted so upstream command lines keep working, but not acted on.
    pub compat: bool,
}

impl FlagSpec {
    pub fn value(
        section: Section,
        name: &'static str,
        value_type: &'static str,
        default: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        FlagSpec {
            name,
            short: None,
            kind: Kind::Value,
            value_type,
            default: default.into(),
            help: help.into(),
            section,
            deprecated: None,
            compat: false,
        }
    }

    pub fn boolean(
        section: Section,
        name: &'static str,
        default: bool,
        help: impl Into<String>,
    ) -> Self {
        FlagSpec {
            name,
            short: None,
            kind: Kind::Bool,
            value_type: "",
            default: if default {
                "true".into()
            } else {
                String::new()
            },
            help: help.into(),
            section,
            deprecated: None,
            compat: false,
        }
    }

    pub fn with_short(mut self, c: char) -> Self {
        self.short = Some(c);
        self
    }

    pub fn deprecated(mut self, msg: &'static str) -> Self {
        self.deprecated = Some(msg);
        self
    }

    pub fn compat(mut self) -> Self {
        self.compat = true;
        self
    }

    pub fn optional_value(mut self) -> Self {
        self.kind = Kind::OptionalValue;
        self
    }

    fn takes_inline_value_only(&self) -> bool {
        matches!(self.kind, Kind::Bool | Kind::OptionalValue)
    }
}

/// Values given on the command line, by canonical flag name, in order.
#[derive(Clone, Debug, Default)]
pub struct RawArgs {
    values: HashMap<&'static str, Vec<String>>,
}

/// Outcome of the lexical pass over argv.
#[derive(Debug, Default)]
pub struct Lexed {
    pub raw: RawArgs,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// Compatibility-only flags that were given: (name, value).
    pub ignored: Vec<(String, String)>,
}

/// Upstream accepts `_` for `-` in flag names.
pub fn normalize_name(name: &str) -> String {
    name.replace('_', "-")
}

/// Normalise `--flag_name=value` to `--flag-name=value` (name part only).
pub fn normalize_arg(arg: &str) -> String {
    if let Some(rest) = arg.strip_prefix("--") {
        match rest.split_once('=') {
            Some((name, value)) => format!("--{}={value}", normalize_name(name)),
            None => format!("--{}", normalize_name(rest)),
        }
    } else {
        arg.to_string()
    }
}

fn record(out: &mut Lexed, spec: &FlagSpec, value: String) {
    if let Some(msg) = spec.deprecated {
        out.warnings
            .push(format!("Flag --{} has been deprecated, {msg}", spec.name));
    }
    if spec.compat {
        out.ignored.push((spec.name.to_string(), value.clone()));
    }
    out.raw.values.entry(spec.name).or_default().push(value);
}

/// Lex argv (without the program name) against `specs`.
pub fn lex(args: &[String], specs: &[FlagSpec]) -> Lexed {
    let by_name: HashMap<&str, &FlagSpec> = specs.iter().map(|s| (s.name, s)).collect();
    let by_short: HashMap<char, &FlagSpec> = specs
        .iter()
        .filter_map(|s| s.short.map(|c| (c, s)))
        .collect();
    let mut out = Lexed::default();
    let mut positional: Vec<String> = Vec::new();
    let mut i = 0;

    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            positional.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            if body.starts_with('-') || body.starts_with('=') {
                out.errors.push(format!("bad flag syntax: {arg}"));
                continue;
            }
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let Some(spec) = by_name.get(normalize_name(name).as_str()).copied() else {
                out.errors.push(format!("unknown flag: --{name}"));
                continue;
            };
            let value = match (spec.takes_inline_value_only(), inline) {
                (_, Some(v)) => v,
                (true, None) => "true".to_string(),
                (false, None) => {
                    if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        out.errors.push(format!("flag needs an argument: --{name}"));
                        continue;
                    }
                }
            };
            record(&mut out, spec, value);
        } else if arg.len() > 1 && arg.starts_with('-') {
            // Shorthand cluster, e.g. -v2, -v=2, -h, -hv3.
            let mut shorts = &arg[1..];
            while let Some(c) = shorts.chars().next() {
                let Some(spec) = by_short.get(&c).copied() else {
                    out.errors
                        .push(format!("unknown shorthand flag: '{c}' in {arg}"));
                    break;
                };
                let rest = &shorts[c.len_utf8()..];
                if let Some(v) = rest.strip_prefix('=') {
                    record(&mut out, spec, v.to_string());
                    break;
                }
                if spec.takes_inline_value_only() {
                    record(&mut out, spec, "true".to_string());
                    shorts = rest;
                    continue;
                }
                if !rest.is_empty() {
                    record(&mut out, spec, rest.to_string());
                } else if i < args.len() {
                    i += 1;
                    record(&mut out, spec, args[i - 1].clone());
                } else {
                    out.errors
                        .push(format!("flag needs an argument: '{c}' in {arg}"));
                }
                break;
            }
        } else {
            positional.push(arg.clone());
        }
    }
    positional.retain(|p| !p.is_empty());
    if !positional.is_empty() {
        out.errors.push(format!(
            "\"kube-apiserver\" does not take any arguments, got {:?}",
            positional
        ));
    }
    out
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn invalid(name: &str, value: &str, why: impl std::fmt::Display) -> String {
    format!("invalid argument {value:?} for \"--{name}\" flag: {why}")
}

/// Split comma-separated list values, trimming blanks and dropping empties.
pub fn split_list(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl RawArgs {
    pub fn is_set(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The last value given (pflag: the last one wins for scalars).
    pub fn last(&self, name: &str) -> Option<&str> {
        self.all(name).last().map(String::as_str)
    }

    pub fn string(&self, name: &str, target: &mut String) {
        if let Some(v) = self.last(name) {
            *target = v.to_string();
        }
    }

    /// A path/string option where the empty string means "not set".
    pub fn opt_string(&self, name: &str, target: &mut Option<String>) {
        if let Some(v) = self.last(name) {
            *target = if v.is_empty() {
                None
            } else {
                Some(v.to_string())
            };
        }
    }

    pub fn bool(&self, name: &str, target: &mut bool, errs: &mut Vec<String>) {
        for v in self.all(name) {
            match parse_go_bool(v) {
                Some(b) => *target = b,
                None => errs.push(invalid(name, v, "must be a boolean (true or false)")),
            }
        }
    }

    pub fn int<T>(&self, name: &str, target: &mut T, errs: &mut Vec<String>)
    where
        T: std::str::FromStr,
    {
        for v in self.all(name) {
            // Go's strconv accepts a leading '+'.
            let t = v.strip_prefix('+').unwrap_or(v);
            match t.parse::<T>() {
                Ok(n) if !t.is_empty() && !t.starts_with(['+', ' ']) => *target = n,
                _ => errs.push(invalid(name, v, "must be an integer")),
            }
        }
    }

    pub fn float(&self, name: &str, target: &mut f64, errs: &mut Vec<String>) {
        for v in self.all(name) {
            match v.parse::<f64>() {
                Ok(n) if n.is_finite() => *target = n,
                _ => errs.push(invalid(name, v, "must be a number")),
            }
        }
    }

    pub fn duration(&self, name: &str, target: &mut GoDuration, errs: &mut Vec<String>) {
        for v in self.all(name) {
            match GoDuration::parse(v) {
                Ok(d) => *target = d,
                Err(e) => errs.push(invalid(name, v, e)),
            }
        }
    }

    pub fn ip(&self, name: &str, target: &mut Option<IpAddr>, errs: &mut Vec<String>) {
        for v in self.all(name) {
            match parse_ip(v) {
                Some(ip) => *target = Some(ip),
                None => errs.push(invalid(name, v, format!("failed to parse IP: {v:?}"))),
            }
        }
    }

    /// pflag `StringSlice`: comma separated; repeated flags append; giving
    /// the flag at all replaces the default.
    pub fn list(&self, name: &str, target: &mut Vec<String>) {
        if self.is_set(name) {
            *target = self.all(name).iter().flat_map(|v| split_list(v)).collect();
        }
    }

    /// pflag `StringArray`: one element per occurrence, commas kept.
    pub fn array(&self, name: &str, target: &mut Vec<String>) {
        if self.is_set(name) {
            *target = self
                .all(name)
                .iter()
                .filter(|v| !v.is_empty())
                .cloned()
                .collect();
        }
    }

    /// cliflag `ConfigurationMap` (`--runtime-config`): `k=v,k2=v2`, a key
    /// without `=` maps to the empty string; repeated flags merge.
    pub fn map_string(&self, name: &str, target: &mut BTreeMap<String, String>) {
        for v in self.all(name) {
            for item in v.split(',') {
                if item.is_empty() {
                    continue;
                }
                match item.split_once('=') {
                    Some((k, val)) => target.insert(k.trim().to_string(), val.trim().to_string()),
                    None => target.insert(item.trim().to_string(), String::new()),
                };
            }
        }
    }

    /// cliflag `MapStringBool` (`--feature-gates`): `Name=true,Other=false`.
    pub fn map_bool(
        &self,
        name: &str,
        target: &mut BTreeMap<String, bool>,
        errs: &mut Vec<String>,
    ) {
        for v in self.all(name) {
            for item in v.split(',') {
                if item.is_empty() {
                    continue;
                }
                let Some((k, val)) = item.split_once('=') else {
                    errs.push(invalid(
                        name,
                        v,
                        format!("malformed pair {item:?}, expect string=bool"),
                    ));
                    continue;
                };
                match parse_go_bool(val.trim()) {
                    Some(b) => {
                        target.insert(k.trim().to_string(), b);
                    }
                    None => errs.push(invalid(
                        name,
                        v,
                        format!("invalid value of {}={}: must be a boolean", k.trim(), val),
                    )),
                }
            }
        }
    }
}

/// Render upstream-style help: description, usage, then one block per
/// section with aligned flag names and "(default ...)" suffixes.
pub fn render_help(specs: &[FlagSpec]) -> String {
    let mut out = String::new();
    out.push_str(
        "kube-apiserver, in Rust: a Kubernetes API server that takes upstream's flags and\n\
         serves the same REST API. It keeps its objects in an embedded store in --data-dir,\n\
         or in etcd with --etcd-servers, and with no flags generates its own certificates and\n\
         an admin kubeconfig. Flags it cannot honour yet stop start-up, naming them.\n\n\
         Usage:\n  kube-apiserver [flags]\n",
    );
    for section in Section::ALL {
        let flags: Vec<&FlagSpec> = specs.iter().filter(|s| s.section == section).collect();
        if flags.is_empty() {
            continue;
        }
        let lefts: Vec<String> = flags.iter().map(|f| left_column(f)).collect();
        let width = lefts.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        out.push('\n');
        out.push_str(section.title());
        out.push_str(":\n\n");
        for (flag, left) in flags.iter().zip(&lefts) {
            let pad = width - left.chars().count();
            out.push_str(left);
            out.push_str(&" ".repeat(pad + 3));
            let indent = format!("\n{}", " ".repeat(width + 3));
            out.push_str(&usage_text(flag).replace('\n', &indent));
            out.push('\n');
        }
    }
    out
}

fn left_column(f: &FlagSpec) -> String {
    let mut s = match f.short {
        Some(c) => format!("  -{c}, --{}", f.name),
        None => format!("      --{}", f.name),
    };
    match f.kind {
        Kind::Bool => {}
        Kind::OptionalValue => {
            s.push(' ');
            s.push_str(f.value_type);
            s.push_str("[=true]");
        }
        Kind::Value => {
            if !f.value_type.is_empty() {
                s.push(' ');
                s.push_str(f.value_type);
            }
        }
    }
    s
}

fn usage_text(f: &FlagSpec) -> String {
    let mut s = String::new();
    if let Some(msg) = f.deprecated {
        s.push_str(&format!("(DEPRECATED: {msg}) "));
    }
    s.push_str(&f.help);
    if !f.default.is_empty() {
        if f.value_type == "string" {
            s.push_str(&format!(" (default {:?})", f.default));
        } else {
            s.push_str(&format!(" (default {})", f.default));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> Vec<FlagSpec> {
        vec![
            FlagSpec::value(Section::Generic, "secure-port", "int", "6443", "port"),
            FlagSpec::boolean(Section::Generic, "watch-cache", true, "cache"),
            FlagSpec::value(Section::Logs, "v", "Level", "", "verbosity").with_short('v'),
            FlagSpec::boolean(Section::Global, "help", false, "help").with_short('h'),
            FlagSpec::value(Section::Etcd, "etcd-servers", "strings", "", "servers"),
        ]
    }

    fn lex_strs(args: &[&str]) -> Lexed {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        lex(&args, &specs())
    }

    #[test]
    fn pflag_forms() {
        let l = lex_strs(&[
            "--secure-port",
            "1",
            "--secure_port=2",
            "--watch-cache",
            "-v3",
            "-h",
        ]);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.raw.all("secure-port"), ["1", "2"]);
        assert_eq!(l.raw.last("watch-cache"), Some("true"));
        assert_eq!(l.raw.last("v"), Some("3"));
        assert_eq!(l.raw.last("help"), Some("true"));
        let l = lex_strs(&["-v", "4", "-v=5", "--v", "6", "-hv7"]);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.raw.all("v"), ["4", "5", "6", "7"]);
    }

    #[test]
    fn bool_does_not_take_next_arg() {
        let l = lex_strs(&["--watch-cache", "false"]);
        assert_eq!(l.raw.last("watch-cache"), Some("true"));
        assert_eq!(l.errors.len(), 1);
        assert!(l.errors[0].contains("does not take any arguments"));
    }

    #[test]
    fn collects_all_errors() {
        let l = lex_strs(&[
            "--nope",
            "--also_nope=1",
            "-x",
            "--",
            "pos",
            "--secure-port",
        ]);
        assert_eq!(l.errors.len(), 4, "{:?}", l.errors);
        assert!(l.errors.iter().any(|e| e == "unknown flag: --nope"));
        assert!(l.errors.iter().any(|e| e == "unknown flag: --also_nope"));
        assert!(l
            .errors
            .iter()
            .any(|e| e.contains("unknown shorthand flag: 'x' in -x")));
        let l = lex_strs(&["--secure-port"]);
        assert_eq!(l.errors, ["flag needs an argument: --secure-port"]);
    }

    #[test]
    fn value_may_start_with_dash() {
        let l = lex_strs(&["--secure-port", "-1"]);
        assert!(l.errors.is_empty());
        assert_eq!(l.raw.last("secure-port"), Some("-1"));
    }

    #[test]
    fn normalisation_only_touches_name() {
        assert_eq!(normalize_arg("--etcd_servers=a_b"), "--etcd-servers=a_b");
        assert_eq!(normalize_arg("--etcd_servers"), "--etcd-servers");
        assert_eq!(normalize_arg("value_x"), "value_x");
    }

    #[test]
    fn help_layout() {
        let h = render_help(&specs());
        assert!(h.contains("Generic flags:\n\n      --secure-port int   port (default 6443)\n"));
        assert!(h.contains("  -v, --v Level"));
        assert!(h.contains("      --watch-cache       cache (default true)"));
        let gen = h.find("Generic flags").unwrap();
        let etcd = h.find("Etcd flags").unwrap();
        let global = h.find("Global flags").unwrap();
        assert!(gen < etcd && etcd < global);
    }
}
