//! "Embedded store flags": our own section. The data directory holds the
//! embedded store (used when --etcd-servers is empty), the generated PKI
//! (`<data-dir>/pki` unless --cert-dir is given) and the admin kubeconfig.

use std::path::PathBuf;

use super::flags::{FlagSpec, RawArgs, Section};

pub const DATA_DIR_ENV: &str = "KUBE_APISERVER_DATA_DIR";

#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddedFlags {
    /// `--data-dir`; `None` = the environment-derived default.
    pub data_dir: Option<String>,
    /// `--admin-kubeconfig`; `None` = `<data-dir>/admin.kubeconfig`.
    pub admin_kubeconfig: Option<String>,
    pub write_admin_kubeconfig: bool,
}

impl Default for EmbeddedFlags {
    fn default() -> Self {
        EmbeddedFlags {
            data_dir: None,
            admin_kubeconfig: None,
            write_admin_kubeconfig: true,
        }
    }
}

pub(crate) fn specs() -> Vec<FlagSpec> {
    let s = Section::EmbeddedStore;
    vec![
        FlagSpec::value(
            s,
            "admin-kubeconfig",
            "string",
            "",
            "Where to write the admin kubeconfig (cluster-admin client certificate, server \
             https://127.0.0.1:<secure-port>). Defaults to <data-dir>/admin.kubeconfig.",
        ),
        FlagSpec::value(
            s,
            "data-dir",
            "string",
            "",
            "Directory for the embedded store (used when --etcd-servers is empty), the generated \
             PKI (<data-dir>/pki unless --cert-dir is set) and the admin kubeconfig. Defaults to \
             $KUBE_APISERVER_DATA_DIR, else $XDG_DATA_HOME/kube-apiserver, else \
             $HOME/.local/share/kube-apiserver, else ./kube-apiserver-data.",
        ),
        FlagSpec::boolean(
            s,
            "write-admin-kubeconfig",
            true,
            "Write the admin kubeconfig at startup (needs the generated client CA).",
        ),
    ]
}

impl EmbeddedFlags {
    pub(crate) fn apply(&mut self, raw: &RawArgs, errs: &mut Vec<String>) {
        raw.opt_string("admin-kubeconfig", &mut self.admin_kubeconfig);
        raw.opt_string("data-dir", &mut self.data_dir);
        raw.bool(
            "write-admin-kubeconfig",
            &mut self.write_admin_kubeconfig,
            errs,
        );
    }

    /// The data directory: the flag, else the environment default.
    pub fn resolved_data_dir(&self) -> PathBuf {
        match &self.data_dir {
            Some(d) => PathBuf::from(d),
            None => default_data_dir(|k| std::env::var_os(k)),
        }
    }
}

/// `$KUBE_APISERVER_DATA_DIR`, else `$XDG_DATA_HOME/kube-apiserver`, else
/// `$HOME/.local/share/kube-apiserver`, else `./kube-apiserver-data`.
/// Empty variables count as unset.
pub fn default_data_dir(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    let get = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(d) = get(DATA_DIR_ENV) {
        return d;
    }
    if let Some(x) = get("XDG_DATA_HOME") {
        return x.join("kube-apiserver");
    }
    if let Some(h) = get("HOME") {
        return h.join(".local").join("share").join("kube-apiserver");
    }
    PathBuf::from("kube-apiserver-data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn data_dir_precedence() {
        let all = [
            (DATA_DIR_ENV, "/d"),
            ("XDG_DATA_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(default_data_dir(env_of(&all)), PathBuf::from("/d"));
        assert_eq!(
            default_data_dir(env_of(&all[1..])),
            PathBuf::from("/x/kube-apiserver")
        );
        assert_eq!(
            default_data_dir(env_of(&[(DATA_DIR_ENV, ""), ("HOME", "/h")])),
            PathBuf::from("/h/.local/share/kube-apiserver")
        );
        assert_eq!(
            default_data_dir(env_of(&[])),
            PathBuf::from("kube-apiserver-data")
        );
    }
}
