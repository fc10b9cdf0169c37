#!/usr/bin/env python3
"""Compares this server's OpenAPI v3 documents with upstream's published ones, field by field.

For every group-version both sides publish (by default only `api/v1`), and for the resources
this server serves, it compares:

  * paths: which exist on one side only;
  * operations: operationId, x-kubernetes-action, x-kubernetes-group-version-kind, tags;
  * parameters: names, location, required, type, and whether each sits on the path or on
    the operation;
  * request bodies and responses: status codes, media types, schema references;
  * component schemas present on both sides: properties, types and formats, references,
    `required`, and the x-kubernetes-* extensions (descriptions are not compared).

Upstream's documents are reference data kept outside the project (by default in
/work/shared/reference/openapi-spec-v1.36/v3, files named like `api__v1_openapi.json`).
When that folder is absent the script says so and exits 0: nothing in the project needs it.

Usage:
  compare-openapi.py --kubeconfig PATH [--gv api/v1 | --all] [--reference DIR]
  compare-openapi.py --server https://127.0.0.1:6443 --cacert ca.crt --cert c.crt --key c.key
  compare-openapi.py --file ours.json --gv api/v1       (compare a saved document)

Exit status: 0 when no difference is found (or the reference is absent), 1 when there are
differences, 2 when our documents cannot be fetched.

Standard library only.
"""

import argparse
import base64
import json
import os
import re
import ssl
import sys
import tempfile
import urllib.request

DEFAULT_REFERENCE = "/work/shared/reference/openapi-spec-v1.36/v3"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


# --- fetching ---------------------------------------------------------------------------


def read_kubeconfig(path):
    """Server, CA and client credentials of the current context's cluster and user.

    A minimal reader for the flat kubeconfig files API servers write (one cluster, one user):
    it picks the first value of each key it needs.
    """
    wanted = (
        "server",
        "certificate-authority",
        "certificate-authority-data",
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
        "token",
        "insecure-skip-tls-verify",
    )
    found = {}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("{"):
        doc = json.loads(text)
        cluster = (doc.get("clusters") or [{}])[0].get("cluster", {})
        user = (doc.get("users") or [{}])[0].get("user", {})
        found.update({k: v for k, v in cluster.items() if k in wanted})
        found.update({k: v for k, v in user.items() if k in wanted})
        return found
    for line in text.splitlines():
        m = re.match(r"^\s*-?\s*([A-Za-z-]+):\s*(.*?)\s*$", line)
        if m and m.group(1) in wanted and m.group(1) not in found and m.group(2):
            found[m.group(1)] = m.group(2).strip("\"'")
    return found


class Client:
    def __init__(self, server, cacert=None, cert=None, key=None, token=None, insecure=False):
        self.server = server.rstrip("/")
        self.token = token
        ctx = ssl.create_default_context(cafile=cacert) if cacert else ssl.create_default_context()
        if insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if cert and key:
            ctx.load_cert_chain(cert, key)
        self.ctx = ctx

    def get_json(self, path):
        req = urllib.request.Request(self.server + path, headers={"Accept": "application/json"})
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, context=self.ctx, timeout=30) as resp:
            return json.loads(resp.read())


def client_from_args(args, tmpdir):
    cfg = {}
    if args.kubeconfig:
        cfg = read_kubeconfig(args.kubeconfig)

    def material(file_key, data_key, explicit, name):
        if explicit:
            return explicit
        if cfg.get(file_key):
            return cfg[file_key]
        if cfg.get(data_key):
            path = os.path.join(tmpdir, name)
            with open(path, "wb") as f:
                f.write(base64.b64decode(cfg[data_key]))
            return path
        return None

    server = args.server or cfg.get("server")
    if not server:
        sys.exit("no server: pass --server or --kubeconfig")
    return Client(
        server,
        cacert=material("certificate-authority", "certificate-authority-data", args.cacert, "ca.crt"),
        cert=material("client-certificate", "client-certificate-data", args.cert, "client.crt"),
        key=material("client-key", "client-key-data", args.key, "client.key"),
        token=args.token or cfg.get("token"),
        insecure=args.insecure or cfg.get("insecure-skip-tls-verify") == "true",
    )


def reference_file(reference, gv):
    return os.path.join(reference, gv.replace("/", "__") + "_openapi.json")


# --- comparing ----------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.lines = []

    def diff(self, where, what):
        self.lines.append(f"{where}: {what}")


def ref_name(schema):
    """The schema name a `$ref` (possibly wrapped in allOf) points to, or None."""
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        return ref_name(all_of[0])
    return None


def served_kinds(doc):
    kinds = set()
    for item in doc.get("paths", {}).values():
        for method in HTTP_METHODS:
            gvk = (item.get(method) or {}).get("x-kubernetes-group-version-kind")
            if gvk:
                kinds.add(gvk.get("kind"))
    return kinds


def relevant_ref_paths(ref, ours):
    """Upstream's paths for the kinds we serve (and the group-version's discovery path)."""
    kinds = served_kinds(ours)
    out = set()
    for path, item in ref.get("paths", {}).items():
        ops = [item.get(m) for m in HTTP_METHODS if item.get(m)]
        gvks = [op.get("x-kubernetes-group-version-kind") for op in ops]
        if any(g and g.get("kind") in kinds for g in gvks) or all(g is None for g in gvks):
            out.add(path)
    return out


def param_key(p):
    return (p.get("in"), p.get("name"))


def param_facts(p):
    schema = p.get("schema") or {}
    return {
        "required": bool(p.get("required")),
        "type": schema.get("type", p.get("type")),
    }


def compare_params(where, ref_item, our_item, ref_op, our_op, report):
    for level, ref_list, our_list in (
        ("path-level", ref_item.get("parameters", []), our_item.get("parameters", [])),
        ("operation-level", ref_op.get("parameters", []), our_op.get("parameters", [])),
    ):
        ref_ps = {param_key(p): p for p in ref_list}
        our_ps = {param_key(p): p for p in our_list}
        for k in sorted(set(ref_ps) - set(our_ps)):
            report.diff(where, f"{level} parameter {k[1]} ({k[0]}) missing")
        for k in sorted(set(our_ps) - set(ref_ps)):
            report.diff(where, f"{level} parameter {k[1]} ({k[0]}) not upstream's")
        for k in sorted(set(ref_ps) & set(our_ps)):
            a, b = param_facts(ref_ps[k]), param_facts(our_ps[k])
            if a != b:
                report.diff(where, f"parameter {k[1]}: upstream {a}, ours {b}")


def content_refs(content):
    return {media: ref_name((v or {}).get("schema")) for media, v in (content or {}).items()}


def compare_operation(where, ref_item, our_item, method, report):
    ref_op, our_op = ref_item[method], our_item[method]
    for key in ("operationId", "x-kubernetes-action", "x-kubernetes-group-version-kind", "tags"):
        if ref_op.get(key) != our_op.get(key):
            report.diff(where, f"{key}: upstream {ref_op.get(key)!r}, ours {our_op.get(key)!r}")
    compare_params(where, ref_item, our_item, ref_op, our_op, report)
    ref_body, our_body = ref_op.get("requestBody"), our_op.get("requestBody")
    if bool(ref_body) != bool(our_body):
        report.diff(where, f"requestBody: upstream {bool(ref_body)}, ours {bool(our_body)}")
    elif ref_body:
        a, b = content_refs(ref_body.get("content")), content_refs(our_body.get("content"))
        if a != b:
            report.diff(where, f"requestBody content: upstream {a}, ours {b}")
        if bool(ref_body.get("required")) != bool(our_body.get("required")):
            report.diff(where, "requestBody required differs")
    ref_resp, our_resp = ref_op.get("responses", {}), our_op.get("responses", {})
    if sorted(ref_resp) != sorted(our_resp):
        report.diff(where, f"response codes: upstream {sorted(ref_resp)}, ours {sorted(our_resp)}")
    for code in sorted(set(ref_resp) & set(our_resp)):
        a = content_refs(ref_resp[code].get("content"))
        b = content_refs(our_resp[code].get("content"))
        if a != b:
            report.diff(where, f"response {code}: upstream {a}, ours {b}")


def schema_facts(s):
    """What a property schema says, without descriptions and defaults."""
    if not isinstance(s, dict):
        return s
    facts = {}
    name = ref_name(s)
    if name:
        facts["$ref"] = name
    for key in ("type", "format"):
        if key in s:
            facts[key] = s[key]
    for key, value in s.items():
        if key.startswith("x-kubernetes-") and key != "x-kubernetes-group-version-kind":
            facts[key] = value
    if "items" in s:
        facts["items"] = schema_facts(s["items"])
    if "additionalProperties" in s:
        facts["additionalProperties"] = schema_facts(s["additionalProperties"])
    if "oneOf" in s:
        facts["oneOf"] = [schema_facts(x) for x in s["oneOf"]]
    return facts


def compare_schema(gv, name, ref, ours, report):
    where = f"{gv} schema {name}"
    a, b = schema_facts(ref), schema_facts(ours)
    if a != b:
        report.diff(where, f"upstream {a}, ours {b}")
    if sorted(ref.get("required", [])) != sorted(ours.get("required", [])):
        report.diff(where, f"required: upstream {ref.get('required', [])}, ours {ours.get('required', [])}")
    gvk_a = ref.get("x-kubernetes-group-version-kind")
    gvk_b = ours.get("x-kubernetes-group-version-kind")
    if gvk_a != gvk_b:
        report.diff(where, f"x-kubernetes-group-version-kind: upstream {gvk_a}, ours {gvk_b}")
    ref_props, our_props = ref.get("properties", {}), ours.get("properties", {})
    for p in sorted(set(ref_props) - set(our_props)):
        report.diff(where, f"property {p} missing")
    for p in sorted(set(our_props) - set(ref_props)):
        report.diff(where, f"property {p} not upstream's")
    for p in sorted(set(ref_props) & set(our_props)):
        a, b = schema_facts(ref_props[p]), schema_facts(our_props[p])
        if a != b:
            report.diff(f"{where}.{p}", f"upstream {a}, ours {b}")


def compare_documents(gv, ref, ours, report):
    ref_paths = relevant_ref_paths(ref, ours)
    our_paths = set(ours.get("paths", {}))
    for p in sorted(ref_paths - our_paths):
        report.diff(gv, f"path {p} missing")
    for p in sorted(our_paths - set(ref.get("paths", {}))):
        report.diff(gv, f"path {p} not upstream's")
    for p in sorted(ref_paths & our_paths):
        ref_item, our_item = ref["paths"][p], ours["paths"][p]
        ref_methods = {m for m in HTTP_METHODS if m in ref_item}
        our_methods = {m for m in HTTP_METHODS if m in our_item}
        for m in sorted(ref_methods - our_methods):
            report.diff(p, f"{m.upper()} missing")
        for m in sorted(our_methods - ref_methods):
            report.diff(p, f"{m.upper()} not upstream's")
        for m in sorted(ref_methods & our_methods):
            compare_operation(f"{m.upper()} {p}", ref_item, our_item, m, report)
    ref_schemas = ref.get("components", {}).get("schemas", {})
    our_schemas = ours.get("components", {}).get("schemas", {})
    for name in sorted(set(ref_schemas) & set(our_schemas)):
        compare_schema(gv, name, ref_schemas[name], our_schemas[name], report)
    for name in sorted(set(our_schemas) - set(ref_schemas)):
        report.diff(gv, f"schema {name} not upstream's")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kubeconfig", help="kubeconfig with the server and credentials")
    ap.add_argument("--server", help="server URL (overrides the kubeconfig's)")
    ap.add_argument("--cacert", help="CA certificate file")
    ap.add_argument("--cert", help="client certificate file")
    ap.add_argument("--key", help="client key file")
    ap.add_argument("--token", help="bearer token")
    ap.add_argument("--insecure", action="store_true", help="skip TLS verification")
    ap.add_argument("--gv", default="api/v1", help="index key to compare (default api/v1)")
    ap.add_argument("--all", action="store_true", help="compare every group-version both publish")
    ap.add_argument("--file", help="compare this saved document (for --gv) instead of fetching")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE, help="upstream's v3 documents")
    args = ap.parse_args()

    if not os.path.isdir(args.reference):
        print(f"Reference folder {args.reference} is absent: nothing to compare against. "
              "It is reference data outside the project; skipping.")
        return 0

    documents = {}
    if args.file:
        with open(args.file, encoding="utf-8") as f:
            documents[args.gv] = json.load(f)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                client = client_from_args(args, tmp)
                index = client.get_json("/openapi/v3")["paths"]
                keys = sorted(index) if args.all else [args.gv]
                for key in keys:
                    if key not in index:
                        print(f"{key}: not in the server's /openapi/v3 index")
                        continue
                    if not os.path.exists(reference_file(args.reference, key)):
                        print(f"{key}: no upstream document to compare with")
                        continue
                    documents[key] = client.get_json(index[key]["serverRelativeURL"])
            except (OSError, ValueError, KeyError) as e:
                print(f"cannot fetch the server's OpenAPI documents: {e}", file=sys.stderr)
                return 2

    report = Report()
    for gv, ours in documents.items():
        with open(reference_file(args.reference, gv), encoding="utf-8") as f:
            ref = json.load(f)
        compare_documents(gv, ref, ours, report)
        print(f"compared {gv}: {len(ours.get('paths', {}))} paths, "
              f"{len(ours.get('components', {}).get('schemas', {}))} schemas")
    for line in report.lines:
        print(line)
    print(f"{len(report.lines)} difference(s)")
    return 1 if report.lines else 0


if __name__ == "__main__":
    sys.exit(main())
