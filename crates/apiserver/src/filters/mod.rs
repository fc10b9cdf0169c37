//! The filter chain: tower layers in upstream's order (outermost first):
//! panic recovery → request info → metrics → timeout → authentication → impersonation →
//! max-in-flight (after authentication, so that priority and fairness can see the user) →
//! authorization → the server chain.
//!
//! Each filter is a [`Layer`] over [`HttpService`]; [`build_chain`] stacks them.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apimachinery::errors::ApiError;
use futures::FutureExt;
use http::{Request, Response};
use tower::layer::layer_fn;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt};

use crate::auth::authenticator::{AuthOutcome, ConnInfo};
use crate::auth::{Authenticator, Authorizer, Decision, UserInfo};
use crate::body::Body;
use crate::endpoints::render::error_response;
use crate::metrics::Metrics;
use crate::request_info::{query_param, RequestInfo};

/// The service type every filter wraps and returns.
pub type HttpService = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

/// Wraps an async function as an [`HttpService`].
pub fn service_fn<F, Fut>(f: F) -> HttpService
where
    F: Fn(Request<Body>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    BoxCloneSyncService::new(tower::service_fn(move |req| {
        let f = f.clone();
        async move { Ok::<_, Infallible>(f(req).await) }
    }))
}

/// Builds a filter: a layer whose service runs `f(req, inner)`.
fn filter<F, Fut>(f: F) -> impl Layer<HttpService, Service = HttpService> + Clone
where
    F: Fn(Request<Body>, HttpService) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    layer_fn(move |inner: HttpService| {
        let f = f.clone();
        service_fn(move |req| f(req, inner.clone()))
    })
}

/// Calls the next service.
async fn next(inner: HttpService, req: Request<Body>) -> Response<Body> {
    match inner.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// The request's resolved [`RequestInfo`] (set by the request-info filter).
pub fn request_info(req: &Request<Body>) -> RequestInfo {
    req.extensions()
        .get::<RequestInfo>()
        .cloned()
        .unwrap_or_else(|| RequestInfo::resolve(req.method(), req.uri().path(), req.uri().query()))
}

/// The authenticated user (set by the authentication filter).
pub fn user(req: &Request<Body>) -> UserInfo {
    req.extensions()
        .get::<UserInfo>()
        .cloned()
        .unwrap_or_else(UserInfo::anonymous)
}

/// Turns a panic in any later handler into a 500 `Status` (upstream's WithPanicRecovery).
pub fn panic_recovery() -> impl Layer<HttpService, Service = HttpService> + Clone {
    filter(|req: Request<Body>, inner: HttpService| async move {
        let path = req.uri().path().to_string();
        match std::panic::AssertUnwindSafe(next(inner, req))
            .catch_unwind()
            .await
        {
            Ok(resp) => resp,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(%path, "handler panicked: {what}");
                error_response(&ApiError::internal(
                    "an internal error occurred while serving the request",
                ))
            }
        }
    })
}

/// Resolves [`RequestInfo`] once and stores it in the request's extensions.
pub fn with_request_info() -> impl Layer<HttpService, Service = HttpService> + Clone {
    filter(|mut req: Request<Body>, inner: HttpService| async move {
        let info = RequestInfo::resolve(req.method(), req.uri().path(), req.uri().query());
        req.extensions_mut().insert(info);
        next(inner, req).await
    })
}

/// Records `apiserver_request_total` and `apiserver_request_duration_seconds`.
pub fn with_metrics(
    metrics: Arc<Metrics>,
) -> impl Layer<HttpService, Service = HttpService> + Clone {
    filter(move |req: Request<Body>, inner: HttpService| {
        let metrics = metrics.clone();
        async move {
            let start = Instant::now();
            let info = request_info(&req);
            let method = req.method().as_str().to_string();
            let dry_run = query_param(req.uri().query(), "dryRun").is_some_and(|v| !v.is_empty());
            let resp = next(inner, req).await;
            metrics.observe_request(
                &info,
                &method,
                dry_run,
                resp.status().as_u16(),
                start.elapsed(),
            );
            resp
        }
    })
}

/// Ends requests that are not long-running after `timeout` with 504 (upstream's
/// WithTimeoutForNonLongRunningRequests). `?timeout=` may shorten it.
pub fn with_timeout(timeout: Duration) -> impl Layer<HttpService, Service = HttpService> + Clone {
    filter(move |req: Request<Body>, inner: HttpService| async move {
        let info = request_info(&req);
        if info.is_long_running() {
            return next(inner, req).await;
        }
        // Upstream's WithRequestDeadline: a `timeout` that is no Go duration is a 400; a
        // negative or zero one means no shorter deadline than the server's.
        let requested = match query_param(req.uri().query(), "timeout").filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => match apimachinery::duration::parse_go_duration_signed(&t) {
                Ok(nanos) if nanos > 0 => Some(Duration::from_nanos(nanos as u64)),
                Ok(_) => None,
                Err(e) => {
                    return error_response(&ApiError::bad_request(&format!(
                        "invalid timeout specified in the request URL - {e}"
                    )))
                }
            },
        };
        let limit = requested.map_or(timeout, |d| d.min(timeout));
        match tokio::time::timeout(limit, next(inner, req)).await {
            Ok(resp) => resp,
            Err(_) => error_response(&ApiError::timeout(
                "request did not complete within requested timeout - context deadline exceeded",
                0,
            )),
        }
    })
}

/// Limits concurrent requests: read-only and mutating separately; 429 past the limit
/// (upstream's WithMaxInFlightLimit). Long-running requests are not counted. A limit of 0
/// means no limit.
pub fn with_max_in_flight(
    max_read_only: usize,
    max_mutating: usize,
    metrics: Arc<Metrics>,
) -> impl Layer<HttpService, Service = HttpService> + Clone {
    let read_only = Arc::new(tokio::sync::Semaphore::new(if max_read_only == 0 {
        tokio::sync::Semaphore::MAX_PERMITS
    } else {
        max_read_only
    }));
    let mutating = Arc::new(tokio::sync::Semaphore::new(if max_mutating == 0 {
        tokio::sync::Semaphore::MAX_PERMITS
    } else {
        max_mutating
    }));
    filter(move |req: Request<Body>, inner: HttpService| {
        let (read_only, mutating, metrics) = (read_only.clone(), mutating.clone(), metrics.clone());
        async move {
            let info = request_info(&req);
            if info.is_long_running() {
                return next(inner, req).await;
            }
            let is_mutating = info.is_mutating();
            let sem = if is_mutating { mutating } else { read_only };
            let Ok(_permit) = sem.try_acquire_owned() else {
                return error_response(&ApiError::too_many_requests(
                    "Too many requests, please try again later.",
                    1,
                ));
            };
            let _counted = InFlight::enter(metrics, is_mutating);
            next(inner, req).await
        }
    })
}

/// One request counted in `apiserver_current_inflight_requests`; uncounted when dropped,
/// also when the request times out (its future is dropped) or panics (unwinds).
struct InFlight {
    metrics: Arc<Metrics>,
    mutating: bool,
}

impl InFlight {
    fn enter(metrics: Arc<Metrics>, mutating: bool) -> Self {
        metrics.add_inflight(mutating, 1);
        InFlight { metrics, mutating }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.metrics.add_inflight(self.mutating, -1);
    }
}

/// Paths never turned away during shutdown (health probes and metrics), as upstream.
const RETRY_AFTER_EXEMPT: [&str; 4] = ["/readyz", "/livez", "/healthz", "/metrics"];

/// `--shutdown-send-retry-after` (upstream's WithRetryAfter and WithWaitGroup): counts the
/// requests in flight, and once the shutdown delay has passed answers new ones (but health
/// probes and metrics) with 429, `Retry-After: 5` and `Connection: close`.
pub fn with_retry_after(
    signals: crate::server::ShutdownSignals,
) -> impl Layer<HttpService, Service = HttpService> + Clone {
    filter(move |req: Request<Body>, inner: HttpService| {
        let signals = signals.clone();
        async move {
            let path = req.uri().path();
            let exempt = RETRY_AFTER_EXEMPT
                .iter()
                .any(|p| path == *p || path.starts_with(&format!("{p}/")));
            if signals.is_not_accepting_requests() && !exempt {
                let mut resp = Response::new(crate::body::full(
                    "The apiserver is shutting down, please try again later.\n",
                ));
                *resp.status_mut() = http::StatusCode::TOO_MANY_REQUESTS;
                let h = resp.headers_mut();
                h.insert(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from_static("5"),
                );
                h.insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
                h.insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                return resp;
            }
            let _tracked = (!request_info(&req).is_long_running()).then(|| signals.track());
            next(inner, req).await
        }
    })
}

/// Upstream's impersonation headers: `Impersonate-User`, `-Group`, `-Uid`, `-Extra-*`.
const IMPERSONATE_PREFIX: &str = "impersonate-";

/// Stands at impersonation's place in the chain: until impersonation is built, a request
/// asking to act as someone else is refused with 403, never served as the caller.
pub fn with_impersonation_refused() -> impl Layer<HttpService, Service = HttpService> + Clone {
    filter(|req: Request<Body>, inner: HttpService| async move {
        let asked: Vec<&str> = req
            .headers()
            .keys()
            .map(|k| k.as_str())
            .filter(|k| k.starts_with(IMPERSONATE_PREFIX))
            .collect();
        if let Some(first) = asked.first() {
            return error_response(&ApiError::forbidden(
                "",
                "",
                "",
                &format!("impersonation is not supported by this server (header {first})"),
            ));
        }
        next(inner, req).await
    })
}

/// Names the user (upstream's WithAuthentication): the first authenticator that knows the
/// request wins; presented credentials that are invalid get 401; with nothing presented the
/// request is anonymous when `anonymous` is allowed, else 401.
pub fn with_authentication(
    authenticator: Arc<dyn Authenticator>,
    anonymous: bool,
) -> impl Layer<HttpService, Service = HttpService> + Clone {
    filter(move |mut req: Request<Body>, inner: HttpService| {
        let authenticator = authenticator.clone();
        async move {
            let conn = req
                .extensions()
                .get::<ConnInfo>()
                .cloned()
                .unwrap_or_default();
            let presented_token = crate::auth::authenticator::bearer_token(req.headers()).is_some();
            let user = match authenticator.authenticate(req.headers(), &conn) {
                AuthOutcome::Authenticated(u) => u,
                // A bearer token nobody recognises is a failed login, never anonymous.
                AuthOutcome::NotApplicable if anonymous && !presented_token => {
                    UserInfo::anonymous()
                }
                AuthOutcome::NotApplicable | AuthOutcome::Failed(_) => {
                    return error_response(&ApiError::unauthorized("Unauthorized"));
                }
            };
            // Credentials are for this server only: never pass them on.
            req.headers_mut().remove(http::header::AUTHORIZATION);
            authenticator.strip(req.headers_mut());
            req.extensions_mut().insert(user);
            next(inner, req).await
        }
    })
}

/// The Forbidden message upstream writes for a denied request.
pub fn forbidden_error(user: &UserInfo, info: &RequestInfo, reason: &str) -> ApiError {
    let suffix = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    if !info.is_resource_request {
        return ApiError::forbidden(
            "",
            "",
            "",
            &format!(
                "User {:?} cannot {} path {:?}{suffix}",
                user.name, info.verb, info.path
            ),
        );
    }
    let resource = if info.subresource.is_empty() {
        info.resource.clone()
    } else {
        format!("{}/{}", info.resource, info.subresource)
    };
    let scope = if info.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace {:?}", info.namespace)
    };
    ApiError::forbidden(
        &info.api_group,
        &info.resource,
        &info.name,
        &format!(
            "User {:?} cannot {} resource {:?} in API group {:?} {scope}{suffix}",
            user.name, info.verb, resource, info.api_group
        ),
    )
}

/// Asks the authorizer (upstream's WithAuthorization); 403 unless allowed.
pub fn with_authorization(
    authorizer: Arc<dyn Authorizer>,
) -> impl Layer<HttpService, Service = HttpService> + Clone {
    filter(move |req: Request<Body>, inner: HttpService| {
        let authorizer = authorizer.clone();
        async move {
            let info = request_info(&req);
            let user = user(&req);
            match authorizer.authorize(&user, &info) {
                Decision::Allow => next(inner, req).await,
                Decision::Deny(reason) => error_response(&forbidden_error(&user, &info, &reason)),
                Decision::NoOpinion => error_response(&forbidden_error(&user, &info, "")),
            }
        }
    })
}

/// The settings of the filter chain.
#[derive(Clone)]
pub struct ChainConfig {
    pub request_timeout: Duration,
    pub max_requests_inflight: usize,
    pub max_mutating_requests_inflight: usize,
    pub authenticator: Arc<dyn Authenticator>,
    pub anonymous_auth: bool,
    pub authorizer: Arc<dyn Authorizer>,
    pub metrics: Arc<Metrics>,
    /// With `--shutdown-send-retry-after`: the server's shutdown signals.
    pub retry_after: Option<crate::server::ShutdownSignals>,
}

/// Stacks the filters around `handler`, in upstream's order.
pub fn build_chain(handler: HttpService, cfg: &ChainConfig) -> HttpService {
    let svc = with_authorization(cfg.authorizer.clone()).layer(handler);
    let svc = with_max_in_flight(
        cfg.max_requests_inflight,
        cfg.max_mutating_requests_inflight,
        cfg.metrics.clone(),
    )
    .layer(svc);
    let svc = with_impersonation_refused().layer(svc);
    let svc = with_authentication(cfg.authenticator.clone(), cfg.anonymous_auth).layer(svc);
    let svc = with_timeout(cfg.request_timeout).layer(svc);
    let svc = match &cfg.retry_after {
        Some(signals) => with_retry_after(signals.clone()).layer(svc),
        None => svc,
    };
    let svc = with_metrics(cfg.metrics.clone()).layer(svc);
    let svc = with_request_info().layer(svc);
    panic_recovery().layer(svc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::authenticator::{AuthOutcome, Authenticator};

    struct Nobody;
    impl Authenticator for Nobody {
        fn authenticate(&self, _: &http::HeaderMap, _: &ConnInfo) -> AuthOutcome {
            AuthOutcome::NotApplicable
        }
    }

    struct Everyone;
    impl Authorizer for Everyone {
        fn authorize(&self, _: &UserInfo, _: &RequestInfo) -> Decision {
            Decision::Allow
        }
    }

    fn chain(handler: HttpService, metrics: Arc<Metrics>, timeout: Duration) -> HttpService {
        build_chain(
            handler,
            &ChainConfig {
                request_timeout: timeout,
                max_requests_inflight: 1,
                max_mutating_requests_inflight: 1,
                authenticator: Arc::new(Nobody),
                anonymous_auth: true,
                authorizer: Arc::new(Everyone),
                metrics,
                retry_after: None,
            },
        )
    }

    fn get(path: &str) -> Request<Body> {
        Request::get(path)
            .body(crate::body::empty())
            .expect("request")
    }

    fn inflight(metrics: &Metrics) -> String {
        metrics
            .render()
            .lines()
            .find(|l| {
                l.starts_with("apiserver_current_inflight_requests{request_kind=\"readOnly\"}")
            })
            .unwrap_or_default()
            .to_string()
    }

    #[tokio::test]
    async fn inflight_gauge_survives_timeouts_and_panics() {
        let metrics = Arc::new(Metrics::new());
        let slow = service_fn(|_req| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Response::new(crate::body::empty())
        });
        let resp = chain(slow, metrics.clone(), Duration::from_millis(20))
            .oneshot(get("/api/v1/namespaces"))
            .await
            .expect("infallible");
        assert_eq!(resp.status(), 504);
        assert!(inflight(&metrics).ends_with(" 0"), "{}", inflight(&metrics));

        let panics = service_fn(|_req| async { panic!("boom") });
        let resp = chain(panics, metrics.clone(), Duration::from_secs(5))
            .oneshot(get("/api/v1/namespaces"))
            .await
            .expect("infallible");
        assert_eq!(resp.status(), 500);
        assert!(inflight(&metrics).ends_with(" 0"), "{}", inflight(&metrics));
    }

    #[tokio::test]
    async fn impersonation_is_refused() {
        let metrics = Arc::new(Metrics::new());
        let ok = service_fn(|_req| async { Response::new(crate::body::empty()) });
        let svc = chain(ok, metrics, Duration::from_secs(5));
        for header in [
            "Impersonate-User",
            "Impersonate-Group",
            "Impersonate-Uid",
            "Impersonate-Extra-Scopes",
        ] {
            let mut req = get("/api/v1/namespaces");
            req.headers_mut().insert(
                http::HeaderName::from_bytes(header.as_bytes()).expect("name"),
                http::HeaderValue::from_static("x"),
            );
            let resp = svc.clone().oneshot(req).await.expect("infallible");
            assert_eq!(resp.status(), 403, "{header}");
        }
        let resp = svc
            .oneshot(get("/api/v1/namespaces"))
            .await
            .expect("infallible");
        assert_eq!(resp.status(), 200);
    }

    #[tokio::test]
    async fn retry_after_once_not_accepting() {
        let signals = crate::server::ShutdownSignals::new();
        let ok = service_fn(|_req| async { Response::new(crate::body::empty()) });
        let svc = with_retry_after(signals.clone()).layer(ok);
        let status = |path: &'static str| {
            let svc = svc.clone();
            async move { svc.oneshot(get(path)).await.expect("infallible") }
        };
        assert_eq!(status("/api/v1/namespaces").await.status(), 200);
        signals.stop_accepting_requests();
        let resp = status("/api/v1/namespaces").await;
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "5");
        assert_eq!(resp.headers()["connection"], "close");
        assert_eq!(status("/readyz").await.status(), 200);
        assert_eq!(status("/livez/ping").await.status(), 200);
        assert!(signals.wait_drained(Duration::from_millis(10)).await);
        let held = signals.track();
        assert!(!signals.wait_drained(Duration::from_millis(30)).await);
        drop(held);
        assert!(signals.wait_drained(Duration::from_millis(10)).await);
    }
}
