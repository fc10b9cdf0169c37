//! Unknown and duplicate fields (`fieldValidation`): kubectl's create, replace and
//! `--validate` modes, and over raw HTTP the `Warning` headers, the `Strict` errors of
//! create, update and each patch type, and what gets stored.

mod common;

use common::{ok, raw, Server};
use serde_json::{json, Value};

const CM: &str = "/api/v1/namespaces/default/configmaps";

/// The `Warning` header values of a response.
fn warnings(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all("warning")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

async fn send(
    client: &kube::Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Vec<String>, Value) {
    let (status, headers, text) = raw(
        client,
        method,
        path,
        &[("content-type", content_type)],
        body.as_bytes().to_vec(),
    )
    .await
    .expect("request");
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, warnings(&headers), v)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const MANIFEST: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\nspec: {}\ndata:\n  a: \"1\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_validate_modes() {
    let server = Server::start(&[]).await;

    // kubectl sends fieldValidation=Strict by default: refused with upstream's message.
    let out = server.kubectl_stdin(&["create", "-f", "-"], &MANIFEST.replace("NAME", "strict"));
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim(),
        r#"Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec""#
    );
    let out = server.kubectl(&["get", "cm", "strict"]);
    assert!(!out.status.success());

    // --validate=false sends Ignore: created silently, without the unknown field.
    let out = server.kubectl_stdin(
        &["create", "-f", "-", "--validate=false"],
        &MANIFEST.replace("NAME", "ignored"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let got: Value =
        serde_json::from_str(&ok(server.kubectl(&["get", "cm", "ignored", "-o", "json"]))).unwrap();
    assert!(got.get("spec").is_none(), "{got}");
    assert_eq!(got["data"], json!({"a": "1"}));

    // --validate=warn sends Warn: created, and kubectl prints the server's warning.
    let out = server.kubectl_stdin(
        &["create", "-f", "-", "--validate=warn"],
        &MANIFEST.replace("NAME", "warned"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim(), r#"Warning: unknown field "spec""#);
    let got: Value =
        serde_json::from_str(&ok(server.kubectl(&["get", "cm", "warned", "-o", "json"]))).unwrap();
    assert!(got.get("spec").is_none(), "{got}");

    // replace (PUT) is strict too.
    let out = server.kubectl_stdin(
        &["replace", "-f", "-"],
        &MANIFEST.replace("NAME", "ignored"),
    );
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).trim(),
        r#"Error from server (BadRequest): error when replacing "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec""#
    );

    // kubectl patch sends no fieldValidation: the server's default, Warn.
    let out = server.kubectl(&[
        "patch",
        "cm",
        "ignored",
        "--type=merge",
        "-p",
        r#"{"spec":{"x":1},"data":{"b":"2"}}"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim(), r#"Warning: unknown field "spec""#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_update_bodies() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","foo":1,
        "ownerReferences":[{"apiVersion":"v1","kind":"Secret","name":"s","uid":"u1","bogus":true}]},
        "spec":{},"data":{"x":"1"}}"#;

    // No fieldValidation: Warn. One warning per field, upstream's format; fields dropped.
    let (status, warns, obj) = send(&client, "POST", CM, "application/json", body).await;
    assert_eq!(status, 201, "{obj}");
    assert_eq!(
        warns,
        [
            r#"299 - "unknown field \"metadata.foo\"""#,
            r#"299 - "unknown field \"metadata.ownerReferences[0].bogus\"""#,
            r#"299 - "unknown field \"spec\"""#,
        ]
    );
    assert!(obj.get("spec").is_none() && obj["metadata"].get("foo").is_none());
    assert!(obj["metadata"]["ownerReferences"][0].get("bogus").is_none());
    assert_eq!(obj["data"], json!({"x": "1"}));
    let (_, _, stored) = send(&client, "GET", &format!("{CM}/a"), "", "").await;
    assert!(stored.get("spec").is_none(), "{stored}");

    // Ignore: dropped silently.
    let quiet = body.replace(r#""name":"a""#, r#""name":"b""#);
    let (status, warns, obj) = send(
        &client,
        "POST",
        &format!("{CM}?fieldValidation=Ignore"),
        "application/json",
        &quiet,
    )
    .await;
    assert_eq!(status, 201, "{obj}");
    assert!(warns.is_empty(), "{warns:?}");
    assert!(obj.get("spec").is_none());

    // Strict: every unknown and duplicate field, in document order, and nothing stored.
    let dup = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","foo":1},
        "data":{"x":"1","x":"2"},"spec":{},"immutable":false,"immutable":true}"#;
    let (status, _, err) = send(
        &client,
        "POST",
        &format!("{CM}?fieldValidation=Strict"),
        "application/json",
        dup,
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["reason"], "BadRequest");
    assert_eq!(
        err["message"],
        r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.foo", duplicate field "data.x", unknown field "spec", duplicate field "immutable""#
    );
    let (status, _, _) = send(&client, "GET", &format!("{CM}/c"), "", "").await;
    assert_eq!(status, 404);

    // Duplicates under Warn: the last one wins.
    let (status, warns, obj) = send(&client, "POST", CM, "application/json", dup).await;
    assert_eq!(status, 201, "{obj}");
    assert_eq!(obj["data"], json!({"x": "2"}));
    assert_eq!(obj["immutable"], json!(true));
    assert_eq!(warns.len(), 4, "{warns:?}");
    assert_eq!(warns[1], r#"299 - "duplicate field \"data.x\"""#);

    // Without kind and apiVersion the message names the resource's own type.
    let (status, _, err) = send(
        &client,
        "POST",
        &format!("{CM}?fieldValidation=Strict"),
        "application/json",
        r#"{"metadata":{"name":"d"},"bogus":1}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        err["message"],
        r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus""#
    );
    // Another group: PriorityClass.
    let (status, _, err) = send(
        &client,
        "POST",
        "/apis/scheduling.k8s.io/v1/priorityclasses?fieldValidation=Strict",
        "application/json",
        r#"{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"p"},"value":5,"valu":6}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        err["message"],
        r#"PriorityClass in version "v1" cannot be handled as a PriorityClass: strict decoding error: unknown field "valu""#
    );

    // An unsupported value: upstream's 422 for the options.
    for (method, path, kind) in [
        ("POST", CM.to_string(), "CreateOptions"),
        ("PUT", format!("{CM}/a"), "UpdateOptions"),
    ] {
        let (status, _, err) = send(
            &client,
            method,
            &format!("{path}?fieldValidation=strict"),
            "application/json",
            body,
        )
        .await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["reason"], "Invalid");
        assert_eq!(
            err["message"],
            format!(
                r#"{kind}.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn""#
            )
        );
    }

    // PUT: Strict refuses, Warn drops and warns.
    let put = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"y":"2"},"status":{}}"#;
    let (status, _, err) = send(
        &client,
        "PUT",
        &format!("{CM}/a?fieldValidation=Strict"),
        "application/json",
        put,
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        err["message"],
        r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "status""#
    );
    let (status, warns, obj) = send(
        &client,
        "PUT",
        &format!("{CM}/a?fieldValidation=Warn"),
        "application/json",
        put,
    )
    .await;
    assert_eq!(status, 200, "{obj}");
    assert_eq!(warns, [r#"299 - "unknown field \"status\"""#]);
    assert!(obj.get("status").is_none());
    assert_eq!(obj["data"], json!({"y": "2"}));

    // Warnings also accompany an error response.
    let (status, warns, _) = send(
        &client,
        "POST",
        CM,
        "application/json",
        r#"{"metadata":{"name":"Not_Valid"},"bogus":1}"#,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(warns, [r#"299 - "unknown field \"bogus\"""#]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches() {
    let server = Server::start(&[]).await;
    let client = server.client().await;
    let (status, _, _) = send(
        &client,
        "POST",
        CM,
        "application/json",
        r#"{"metadata":{"name":"p"},"data":{"a":"1"}}"#,
    )
    .await;
    assert_eq!(status, 201);
    let path = format!("{CM}/p");
    let merge = "application/merge-patch+json";

    // Strict merge patch adding an unknown field: upstream's 422 on the patched object.
    let (status, _, err) = send(
        &client,
        "PATCH",
        &format!("{path}?fieldValidation=Strict"),
        merge,
        r#"{"spec":{"x":1},"data":{"b":"2"}}"#,
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["reason"], "Invalid");
    let message = err["message"].as_str().unwrap();
    let prefix = r#" "" is invalid: patch: Invalid value: ""#;
    let suffix = r#"": strict decoding error: unknown field "spec""#;
    assert!(
        message.starts_with(prefix) && message.ends_with(suffix),
        "{message}"
    );
    // The value is the patched object's JSON, keys sorted at the top as upstream writes it.
    let cause = &err["details"]["causes"][0];
    assert_eq!(cause["field"], "patch");
    assert_eq!(cause["reason"], "FieldValueInvalid");
    let quoted = &message[prefix.len() - 1..message.len() - suffix.len() + 1];
    let rendered: String = serde_json::from_str(quoted).unwrap();
    assert!(
        rendered.starts_with(r#"{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"name":"p","namespace":"default","uid":"#),
        "{rendered}"
    );
    assert!(rendered.ends_with(r#""spec":{"x":1}}"#), "{rendered}");
    // Nothing changed.
    let (_, _, got) = send(&client, "GET", &path, "", "").await;
    assert_eq!(got["data"], json!({"a": "1"}));

    // Warn (the default): applied, the unknown field dropped, one warning.
    let (status, warns, obj) = send(
        &client,
        "PATCH",
        &path,
        merge,
        r#"{"spec":{"x":1},"data":{"b":"2"}}"#,
    )
    .await;
    assert_eq!(status, 200, "{obj}");
    assert_eq!(warns, [r#"299 - "unknown field \"spec\"""#]);
    assert!(obj.get("spec").is_none());
    assert_eq!(obj["data"], json!({"a": "1", "b": "2"}));
    let (_, _, got) = send(&client, "GET", &path, "", "").await;
    assert!(got.get("spec").is_none(), "{got}");

    // Ignore: silent.
    let (status, warns, _) = send(
        &client,
        "PATCH",
        &format!("{path}?fieldValidation=Ignore"),
        merge,
        r#"{"metadata":{"foo":"bar"}}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert!(warns.is_empty(), "{warns:?}");

    // Duplicate keys of the patch body come first, then the patched object's unknown fields.
    let (status, warns, obj) = send(
        &client,
        "PATCH",
        &path,
        merge,
        r#"{"data":{"c":"1","c":"3"},"zzz":1}"#,
    )
    .await;
    assert_eq!(status, 200, "{obj}");
    assert_eq!(
        warns,
        [
            r#"299 - "duplicate field \"data.c\"""#,
            r#"299 - "unknown field \"zzz\"""#
        ]
    );
    assert_eq!(obj["data"]["c"], "3");
    let (status, _, err) = send(
        &client,
        "PATCH",
        &format!("{path}?fieldValidation=Strict"),
        merge,
        r#"{"data":{"c":"1","c":"3"}}"#,
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .ends_with(r#"": strict decoding error: duplicate field "data.c""#));

    // JSON patch: unknown keys of an operation are reported with upstream's prefix.
    let (status, _, err) = send(
        &client,
        "PATCH",
        &format!("{path}?fieldValidation=Strict"),
        "application/json-patch+json",
        r#"[{"op":"add","path":"/metadata/labels","value":{"a":"b"},"extra":1},{"op":"add","path":"/spec","value":{}}]"#,
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err["message"].as_str().unwrap().ends_with(
            r#"": strict decoding error: json patch unknown field "[0].extra", unknown field "spec""#
        ),
        "{err}"
    );

    // Strategic merge patch: the value shown is the patch, as Go prints a map.
    let (status, _, err) = send(
        &client,
        "PATCH",
        &format!("{path}?fieldValidation=Strict"),
        "application/strategic-merge-patch+json",
        r#"{"spec":{"x":1},"data":{"d":"4"}}"#,
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(
        err["message"],
        r#" "" is invalid: patch: Invalid value: "map[data:map[d:4] spec:map[x:1]]": strict decoding error: unknown field "spec""#
    );

    // Invalid value.
    let (status, _, err) = send(
        &client,
        "PATCH",
        &format!("{path}?fieldValidation=Loud"),
        merge,
        "{}",
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(
        err["message"],
        r#"PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": supported values: "", "Ignore", "Strict", "Warn""#
    );
}

/// Values of the wrong JSON type are refused as upstream's decoder refuses them, whatever
/// the directive, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_are_bad_requests() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    for (body, error) in [
        (
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"t1"},"data":{"a":1}}"#,
            "json: cannot unmarshal number into Go struct field ConfigMap.data of type string",
        ),
        (
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"t2","labels":"x"}}"#,
            "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.labels of type map[string]string",
        ),
        (
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"t3"},"immutable":"yes"}"#,
            "json: cannot unmarshal string into Go struct field ConfigMap.immutable of type bool",
        ),
    ] {
        for query in ["", "?fieldValidation=Ignore"] {
            let (status, _, v) = send(&c, "POST", &format!("{CM}{query}"), "application/json", body).await;
            assert_eq!(status, 400, "{v}");
            assert_eq!(v["reason"], "BadRequest");
            assert_eq!(
                v["message"],
                format!(r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: {error}"#)
            );
        }
    }
    let (status, _, v) = send(&c, "GET", &format!("{CM}/t1"), "application/json", "").await;
    assert_eq!(status, 404, "{v}");
    // An update is checked the same way.
    let (status, _, _) = send(
        &c,
        "POST",
        CM,
        "application/json",
        r#"{"metadata":{"name":"t4"}}"#,
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, v) = send(
        &c,
        "PUT",
        &format!("{CM}/t4"),
        "application/json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"t4"},"binaryData":{"k":7}}"#,
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["message"],
        r#"ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.binaryData of type []uint8"#
    );
}

/// A patch whose result has a value of the wrong type is an invalid `patch`, and the
/// object is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_to_wrong_types_are_invalid() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let (status, _, _) = send(
        &c,
        "POST",
        CM,
        "application/json",
        r#"{"metadata":{"name":"p1"},"data":{"a":"b"}}"#,
    )
    .await;
    assert_eq!(status, 201);
    for content_type in [
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ] {
        let (status, _, v) = send(
            &c,
            "PATCH",
            &format!("{CM}/p1"),
            content_type,
            r#"{"data":{"a":5}}"#,
        )
        .await;
        assert_eq!(status, 422, "{v}");
        assert_eq!(v["reason"], "Invalid");
        assert_eq!(v["details"]["causes"][0]["field"], "patch");
        let message = v["message"].as_str().unwrap_or_default();
        assert!(
            message.ends_with(
                "json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
            ),
            "{message}"
        );
    }
    let (status, _, v) = send(
        &c,
        "PATCH",
        &format!("{CM}/p1"),
        "application/json-patch+json",
        r#"[{"op":"replace","path":"/data","value":[1]}]"#,
    )
    .await;
    assert_eq!(status, 422, "{v}");
    let (_, _, v) = send(&c, "GET", &format!("{CM}/p1"), "application/json", "").await;
    assert_eq!(v["data"], json!({"a": "b"}));
}

const EVENTS: &str = "/api/v1/namespaces/default/events";

/// Values a self-decoding type refuses (base64 `binaryData`, times, `apiVersion` and
/// `kind` that are not strings) are a 400 with the decoder's own words, and nothing is
/// stored; the RFC 3339 forms Go reads, and `null`, are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_values_are_bad_requests() {
    let server = Server::start(&[]).await;
    let c = server.client().await;
    let cannot = |kind: &str, e: &str| {
        format!(r#"{kind} in version "v1" cannot be handled as a {kind}: {e}"#)
    };
    let event = |name: &str, extra: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"Event","metadata":{{"name":"{name}"}},"involvedObject":{{"kind":"Pod","name":"p","namespace":"default"}},"reason":"R","message":"m","type":"Normal","source":{{"component":"c"}}{extra}}}"#
        )
    };
    let unrecognized = r#"{"apiVersion":"v1","kind":["ConfigMap"],"metadata":{"name":"k1"}}"#;
    for (path, body, message) in [
        (
            CM,
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b1"},"binaryData":{"k":"not base64"}}"#.to_string(),
            cannot("ConfigMap", "illegal base64 data at input byte 3"),
        ),
        (
            CM,
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c1","creationTimestamp":"yesterday"}}"#.to_string(),
            cannot(
                "ConfigMap",
                r#"parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006""#,
            ),
        ),
        (
            CM,
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c2","creationTimestamp":5}}"#.to_string(),
            cannot(
                "ConfigMap",
                "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string",
            ),
        ),
        (
            EVENTS,
            event("e1", r#","eventTime":"not-a-time","reportingComponent":"c","reportingInstance":"i","action":"A""#),
            cannot(
                "Event",
                r#"parsing time "not-a-time" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "not-a-time" as "2006""#,
            ),
        ),
        (
            EVENTS,
            event("e2", r#","firstTimestamp":"2026-12-03T25:00:00Z""#),
            r#"Event in version "v1" cannot be handled as a Event: parsing time "2026-12-03T25:00:00Z": hour out of range"#.to_string(),
        ),
        (
            CM,
            unrecognized.to_string(),
            format!(
                "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: json: cannot unmarshal array into Go struct field .kind of type string ({} ...)",
                &unrecognized[..30]
            ),
        ),
        (
            CM,
            r#"{"apiVersion":1}"#.to_string(),
            r#"the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct field .apiVersion of type string ({"apiVersion":1})"#.to_string(),
        ),
    ] {
        for query in ["", "?fieldValidation=Ignore"] {
            let (status, _, v) = send(&c, "POST", &format!("{path}{query}"), "application/json", &body).await;
            assert_eq!(status, 400, "{body}: {v}");
            assert_eq!(v["reason"], "BadRequest");
            assert_eq!(v["message"], message.as_str());
        }
    }
    // A body that is no object, and YAML, are summarized in hex, as upstream does.
    let meta = r#"json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\"apiVersion,omitempty\""; Kind string "json:\"kind,omitempty\"" }"#;
    let yaml = "apiVersion: v1\nkind: [ConfigMap]\nmetadata:\n  name: k2\n";
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for (content_type, body, message) in [
        (
            "application/json",
            "[1]",
            format!("the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: {meta} (5b315d)"),
        ),
        (
            "application/yaml",
            yaml,
            format!(
                "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: json: cannot unmarshal array into Go struct field .kind of type string ({} ...)",
                hex(&yaml.as_bytes()[..30])
            ),
        ),
    ] {
        let (status, _, v) = send(&c, "POST", CM, content_type, body).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert_eq!(v["message"], message.as_str());
    }
    for name in ["b1", "c1", "c2", "k1", "k2"] {
        let (status, _, v) = send(&c, "GET", &format!("{CM}/{name}"), "application/json", "").await;
        assert_eq!(status, 404, "{v}");
    }
    for name in ["e1", "e2"] {
        let (status, _, _) = send(
            &c,
            "GET",
            &format!("{EVENTS}/{name}"),
            "application/json",
            "",
        )
        .await;
        assert_eq!(status, 404);
    }

    // What Go reads is stored: base64 with padding, times with fractions and offsets, null.
    let (status, _, v) = send(
        &c,
        "POST",
        CM,
        "application/json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"good","creationTimestamp":null},"binaryData":{"a":"YWJj","b":"YQ==","c":""}}"#,
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["binaryData"]["b"], "YQ==");
    let body = event(
        "good",
        r#","firstTimestamp":"2026-12-03T08:00:00.5+01:00","lastTimestamp":"2026-12-03T08:00:01Z","count":2"#,
    );
    let (status, _, v) = send(&c, "POST", EVENTS, "application/json", &body).await;
    assert_eq!(status, 201, "{v}");
    let body = event(
        "good2",
        r#","eventTime":"2026-12-03T08:00:00.123456-05:00","reportingComponent":"c","reportingInstance":"i","action":"A""#,
    );
    let (status, _, v) = send(&c, "POST", EVENTS, "application/json", &body).await;
    assert_eq!(status, 201, "{v}");
    // The stored objects read back as protobuf too (nothing silently falls back to JSON).
    for path in [
        format!("{CM}/good"),
        format!("{EVENTS}/good"),
        format!("{EVENTS}/good2"),
    ] {
        let (status, headers, _) = raw(
            &c,
            "GET",
            &path,
            &[("accept", "application/vnd.kubernetes.protobuf")],
            Vec::new(),
        )
        .await
        .expect("request");
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/vnd.kubernetes.protobuf"),
            "{path}"
        );
    }

    // An update is checked the same way; a patch to bad base64 is an invalid `patch`.
    let (status, _, v) = send(
        &c,
        "PUT",
        &format!("{CM}/good"),
        "application/json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"good"},"binaryData":{"a":"YQ="}}"#,
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["message"],
        cannot("ConfigMap", "illegal base64 data at input byte 3")
    );
    let (status, _, v) = send(
        &c,
        "PATCH",
        &format!("{CM}/good"),
        "application/merge-patch+json",
        r#"{"binaryData":{"a":"@@@@"}}"#,
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["details"]["causes"][0]["field"], "patch");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with("illegal base64 data at input byte 0"),
        "{message}"
    );
    let (status, _, v) = send(
        &c,
        "PATCH",
        &format!("{EVENTS}/good"),
        "application/strategic-merge-patch+json",
        r#"{"lastTimestamp":"soon"}"#,
    )
    .await;
    assert_eq!(status, 422, "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with(
            r#"parsing time "soon" as "2006-01-02T15:04:05Z07:00": cannot parse "soon" as "2006""#
        ),
        "{message}"
    );
    let (_, _, v) = send(&c, "GET", &format!("{CM}/good"), "application/json", "").await;
    assert_eq!(v["binaryData"]["a"], "YWJj");
}
