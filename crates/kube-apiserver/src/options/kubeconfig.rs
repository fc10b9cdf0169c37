//! The admin kubeconfig written at startup.

use super::pki::base64_encode;

pub const CLUSTER_NAME: &str = "kube-apiserver";
pub const USER_NAME: &str = "kubernetes-admin";
pub const CONTEXT_NAME: &str = "kubernetes-admin@kube-apiserver";

/// A kubeconfig (YAML) with embedded CA, client certificate and key.
pub fn render(server: &str, ca_pem: &str, client_cert_pem: &str, client_key_pem: &str) -> String {
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - cluster:\n\
         \x20   certificate-authority-data: {ca}\n\
         \x20   server: {server}\n\
         \x20 name: {CLUSTER_NAME}\n\
         contexts:\n\
         - context:\n\
         \x20   cluster: {CLUSTER_NAME}\n\
         \x20   user: {USER_NAME}\n\
         \x20 name: {CONTEXT_NAME}\n\
         current-context: {CONTEXT_NAME}\n\
         preferences: {{}}\n\
         users:\n\
         - name: {USER_NAME}\n\
         \x20 user:\n\
         \x20   client-certificate-data: {cert}\n\
         \x20   client-key-data: {key}\n",
        ca = base64_encode(ca_pem.as_bytes()),
        cert = base64_encode(client_cert_pem.as_bytes()),
        key = base64_encode(client_key_pem.as_bytes()),
    )
}
