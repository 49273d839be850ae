//! The security gate and the server functions, driven through the real axum
//! router without a socket.

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use common::TestDb;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tftsr_core::IssueStore;
use tftsr_server::secret::Secret;
use tftsr_server::security::{Policy, SESSION_COOKIE};
use tftsr_server::store::key::KeySource;

const PORT: u16 = 4321;
const HOST: &str = "127.0.0.1:4321";
const ORIGIN: &str = "http://127.0.0.1:4321";
const TOKEN: &str = "test-token-0123456789abcdef";

fn app(t: &TestDb) -> Router {
    let services = tftsr_server::cli::services(t.db.clone(), KeySource::Env, t.dir.path(), 1 << 30)
        .expect("services");
    let options = tftsr_server::web::leptos_options("target/site", ([127, 0, 0, 1], PORT).into());
    let policy = Arc::new(Policy::new(PORT, &[], Secret::new(TOKEN.into())));
    tftsr_server::web::router(services, options, policy)
}

async fn send(app: &Router, req: Request<Body>) -> Response<Body> {
    tower::ServiceExt::oneshot(app.clone(), req)
        .await
        .expect("infallible")
}

async fn text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn cookie() -> String {
    format!("{SESSION_COOKIE}={TOKEN}")
}

fn create_request(origin: Option<&str>, fetch_site: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/api/create_issue")
        .header(header::HOST, HOST)
        .header(header::COOKIE, cookie())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(o) = origin {
        b = b.header(header::ORIGIN, o);
    }
    if let Some(s) = fetch_site {
        b = b.header("sec-fetch-site", s);
    }
    b.body(Body::from(
        "draft[title]=Router+test&draft[severity]=high&draft[domain]=linux",
    ))
    .expect("request")
}

fn issue_count(t: &TestDb) -> u64 {
    t.db.dashboard_stats(tftsr_core::Timestamp::from_unix_millis(0).expect("ts"))
        .expect("stats")
        .total
}

#[tokio::test]
async fn a_page_without_the_token_is_refused() {
    let t = TestDb::new();
    let res = send(
        &app(&t),
        Request::get("/")
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body = text(res).await;
    assert!(body.contains("link TFTSR printed"), "{body}");
    assert!(!body.contains(TOKEN));
}

#[tokio::test]
async fn the_token_link_sets_a_strict_cookie_and_redirects_to_a_clean_url() {
    let t = TestDb::new();
    let app = app(&t);
    let res = send(
        &app,
        Request::get(format!("/issues?q=x&token={TOKEN}"))
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/issues?q=x");
    let set_cookie = res.headers()[header::SET_COOKIE].to_str().expect("ascii");
    assert!(set_cookie.starts_with(&format!("{SESSION_COOKIE}={TOKEN};")));
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );

    let wrong = send(
        &app,
        Request::get("/?token=guess")
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(!wrong.headers().contains_key(header::SET_COOKIE));

    let bad_cookie = send(
        &app,
        Request::get("/")
            .header(header::HOST, HOST)
            .header(header::COOKIE, format!("{SESSION_COOKIE}=guess"))
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(bad_cookie.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_rebinding_host_is_refused_even_with_the_token() {
    let t = TestDb::new();
    let res = send(
        &app(&t),
        Request::get("/")
            .header(header::HOST, "attacker.example:4321")
            .header(header::COOKIE, cookie())
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(text(res).await.trim(), "Host not allowed.");
}

#[tokio::test]
async fn a_cross_origin_post_is_refused_and_changes_nothing() {
    let t = TestDb::new();
    let app = app(&t);
    let res = send(
        &app,
        create_request(Some("http://attacker.example"), Some("cross-site")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = send(&app, create_request(None, Some("cross-site"))).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "Sec-Fetch-Site alone is enough to refuse"
    );
    let res = send(&app, create_request(Some("null"), None)).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "opaque origins are refused"
    );
    assert_eq!(issue_count(&t), 0);
    assert!(t.tracker.recent_audit(10).expect("audit").is_empty());
}

#[tokio::test]
async fn a_same_origin_server_function_call_works() {
    let t = TestDb::new();
    let app = app(&t);
    let res = send(&app, create_request(Some(ORIGIN), Some("same-origin"))).await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "status {}",
        res.status()
    );
    assert_eq!(issue_count(&t), 1);

    // Server-side validation, whatever the browser did.
    let mut req = create_request(Some(ORIGIN), Some("same-origin"));
    *req.body_mut() = Body::from("draft[title]=&draft[severity]=urgent&draft[domain]=linux");
    let res = send(&app, req).await;
    assert!(
        res.status().is_server_error() || res.status().is_client_error(),
        "status {}",
        res.status()
    );
    let body = text(res).await;
    assert!(
        body.contains("title") && body.contains("severity"),
        "{body}"
    );
    assert_eq!(issue_count(&t), 1);
}

#[tokio::test]
async fn pages_carry_a_strict_csp_whose_nonce_matches_the_hydration_script() {
    let t = TestDb::new();
    let res = send(
        &app(&t),
        Request::get("/")
            .header(header::HOST, HOST)
            .header(header::COOKIE, cookie())
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("nonce")
        .to_owned();
    let html = text(res).await;
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script must carry the CSP nonce"
    );
    assert!(
        html.contains("No issues yet"),
        "a new install shows the empty state"
    );
}

#[tokio::test]
async fn public_assets_need_no_token_but_still_need_an_allowed_host() {
    let t = TestDb::new();
    let app = app(&t);
    let res = send(
        &app,
        Request::get("/healthz")
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = send(
        &app,
        Request::get("/healthz")
            .header(header::HOST, "evil.example")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_any_handler() {
    let t = TestDb::new();
    let app = app(&t);
    let huge = format!(
        "draft[title]=x&draft[severity]=high&draft[domain]=linux&draft[description]={}",
        "a".repeat(2 << 20)
    );
    let mut req = create_request(Some(ORIGIN), Some("same-origin"));
    *req.body_mut() = Body::from(huge.clone());
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, huge.len().into());
    let res = send(&app, req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Without a declared length the body is cut off while being read.
    let stream =
        futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from(huge))]);
    let mut req = create_request(Some(ORIGIN), Some("same-origin"));
    *req.body_mut() = Body::from_stream(stream);
    let res = send(&app, req).await;
    assert!(!res.status().is_success(), "status {}", res.status());
    assert_eq!(issue_count(&t), 0);
}

#[tokio::test]
async fn the_security_overview_reports_the_cipher_settings_in_force() {
    let t = TestDb::new();
    t.tracker
        .create(&common::draft("Audited", "low", "obs"))
        .expect("create");
    let res = send(
        &app(&t),
        Request::post("/api/get_security_overview")
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header(header::COOKIE, cookie())
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&text(res).await).expect("json");
    let enc = &body["encryption"];
    assert_eq!(enc["kdf_iter"], 256_000);
    assert_eq!(enc["page_size"], 4096);
    assert_eq!(enc["hmac"], "HMAC_SHA512");
    assert_eq!(enc["kdf"], "PBKDF2_HMAC_SHA512");
    assert!(
        enc["cipher_version"]
            .as_str()
            .is_some_and(|v| v.starts_with('4')),
        "{enc}"
    );
    assert!(enc["migrations"][0]["applied_at"].is_string());
    assert_eq!(body["audit"][0]["action"], "issue_created");
}
