//! Fake Confluence, ServiceNow and Azure DevOps servers on 127.0.0.1, in
//! one axum app. They implement the REST endpoints TFTSR calls, CHECK each
//! request (the exact Authorization header, the content type, the body's
//! shape) and answer as the real ones do, including their error bodies.
//! Every request is recorded.
//!
//! Paths: `/wiki/…` Confluence, `/api/now/…` ServiceNow, `/acme/…` Azure
//! DevOps. Prefixes switch behaviour: `/html/…` answers every request with
//! a 200 HTML login page, `/slow/…` waits 5 s, `/echo/…` refuses with a
//! 401 whose message repeats the Authorization header it got (a careless
//! server; TFTSR must scrub it).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent (percent-encoded).
    pub uri: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    pub bytes: Vec<u8>,
    pub atlassian_token: Option<String>,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Clone, Debug)]
pub struct Page {
    pub id: String,
    pub space: String,
    pub title: String,
    pub storage: String,
    pub version: i64,
}

/// A file one of the services received.
#[derive(Clone, Debug)]
pub struct FakeAttachment {
    /// `confluence`, `servicenow` or `azure_devops`.
    pub service: &'static str,
    /// The page id or incident sys_id it is attached to (empty for Azure
    /// DevOps, whose uploads stand alone until a work item links them).
    pub parent: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub url: String,
}

#[derive(Default)]
pub struct FakeState {
    pub attachments: Vec<FakeAttachment>,
    pub requests: Vec<Recorded>,
    pub pages: BTreeMap<String, Page>,
    pub next_page: u64,
    pub incidents: Vec<Value>,
    pub work_items: Vec<Value>,
    /// What each service accepts as `Authorization`.
    pub confluence_auth: String,
    pub servicenow_auth: String,
    pub ado_auth: String,
}

#[derive(Clone)]
pub struct Fake {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<FakeState>>,
}

impl Fake {
    pub async fn start(confluence_auth: &str, servicenow_auth: &str, ado_auth: &str) -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            next_page: 10_001,
            confluence_auth: confluence_auth.into(),
            servicenow_auth: servicenow_auth.into(),
            ado_auth: ado_auth.into(),
            ..FakeState::default()
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().expect("lock").requests.clone()
    }

    pub fn add_page(&self, space: &str, title: &str, version: i64) -> String {
        let mut s = self.state.lock().expect("lock");
        let id = s.next_page.to_string();
        s.next_page += 1;
        s.pages.insert(
            id.clone(),
            Page {
                id: id.clone(),
                space: space.into(),
                title: title.into(),
                storage: "<p>old</p>".into(),
                version,
            },
        );
        id
    }

    pub fn attachments(&self) -> Vec<FakeAttachment> {
        self.state.lock().expect("lock").attachments.clone()
    }

    pub fn work_items(&self) -> Vec<Value> {
        self.state.lock().expect("lock").work_items.clone()
    }

    pub fn page(&self, id: &str) -> Option<Page> {
        self.state.lock().expect("lock").pages.get(id).cloned()
    }
}

fn json_reply(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).expect("status"),
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

fn query(uri: &http::Uri) -> BTreeMap<String, String> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            (
                k.to_owned(),
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .collect()
}

fn page_json(base: &str, p: &Page) -> Value {
    json!({
        "id": p.id, "type": "page", "status": "current", "title": p.title,
        "space": {"key": p.space},
        "version": {"number": p.version, "message": ""},
        "body": {"storage": {"value": p.storage, "representation": "storage"}},
        "_links": {"webui": format!("/spaces/{}/pages/{}", p.space, p.id), "base": base, "self": format!("{base}/rest/api/content/{}", p.id)}
    })
}

fn bad_request_confluence(message: &str) -> Response {
    json_reply(
        400,
        json!({"statusCode": 400, "message": message, "data": {"authorized": true, "valid": false, "errors": []}}),
    )
}

async fn handle(State(state): State<Arc<Mutex<FakeState>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let recorded = Recorded {
        method: parts.method.to_string(),
        uri: parts.uri.to_string(),
        authorization: parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
        atlassian_token: parts
            .headers
            .get("x-atlassian-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    state.lock().expect("lock").requests.push(recorded.clone());
    let path = percent_encoding::percent_decode_str(parts.uri.path())
        .decode_utf8_lossy()
        .into_owned();
    if path.starts_with("/html/") {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Log in to continue</body></html>",
        )
            .into_response();
    }
    if path.starts_with("/slow/") {
        tokio::time::sleep(Duration::from_secs(5)).await;
        return json_reply(200, json!({}));
    }
    if path.starts_with("/echo/") {
        let auth = recorded.authorization.clone().unwrap_or_default();
        return json_reply(
            401,
            json!({"statusCode": 401, "message": format!("Bad credentials: {auth}")}),
        );
    }
    if let Some(rest) = path.strip_prefix("/reject") {
        return if rest.starts_with("/wiki/") {
            json_reply(
                400,
                json!({"statusCode": 400, "message": "Error parsing xhtml: Unexpected close tag </p>; expected </span>.", "data": {"authorized": true, "valid": false, "errors": [], "successful": false}}),
            )
        } else if rest.starts_with("/api/now/") {
            json_reply(
                400,
                json!({"error": {"message": "Operation Failed", "detail": "Data Policy Exception: Short description is mandatory"}, "status": "failure"}),
            )
        } else {
            json_reply(
                400,
                json!({"$id": "1", "innerException": null, "message": "TF401320: Rule Error for field Area Path. Error code: Required, InvalidEmpty.", "typeName": "Microsoft.TeamFoundation.WorkItemTracking.Server.RuleValidationException", "typeKey": "RuleValidationException", "errorCode": 0, "eventId": 3000}),
            )
        };
    }
    if path.starts_with("/fail/") {
        return json_reply(
            503,
            json!({"error": {"message": "Service Unavailable", "detail": "The instance is hibernating"}, "status": "failure"}),
        );
    }
    let q = query(&parts.uri);
    let method = parts.method.as_str();
    let origin = format!(
        "http://{}",
        parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("?")
    );
    if let Some(rest) = path.strip_prefix("/wiki/rest/api/") {
        let expected = state.lock().expect("lock").confluence_auth.clone();
        if recorded.authorization.as_deref() != Some(expected.as_str()) {
            return json_reply(
                401,
                json!({"statusCode": 401, "message": "Client must be authenticated to access this resource.", "data": {"authorized": false, "valid": true, "errors": [], "successful": false}}),
            );
        }
        let base = format!("{origin}/wiki");
        return confluence(&state, method, rest, &q, &recorded, &base);
    }
    if path == "/api/now/attachment/file" {
        let expected = state.lock().expect("lock").servicenow_auth.clone();
        if recorded.authorization.as_deref() != Some(expected.as_str()) {
            return json_reply(
                401,
                json!({"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"}),
            );
        }
        return servicenow_attachment(&state, &q, &recorded);
    }
    if let Some(rest) = path.strip_prefix("/api/now/table/") {
        let expected = state.lock().expect("lock").servicenow_auth.clone();
        if recorded.authorization.as_deref() != Some(expected.as_str()) {
            return json_reply(
                401,
                json!({"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"}),
            );
        }
        return servicenow(&state, method, rest, &q, &recorded);
    }
    if let Some(rest) = path.strip_prefix("/acme/") {
        let expected = state.lock().expect("lock").ado_auth.clone();
        if recorded.authorization.as_deref() != Some(expected.as_str()) {
            // Azure DevOps answers a bad PAT with 401 and an HTML page, or
            // 203 and a sign-in page; the JSON variant is used here.
            return json_reply(
                401,
                json!({"$id": "1", "innerException": null, "message": "TF400813: The user '' is not authorized to access this resource.", "typeName": "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException", "typeKey": "UnauthorizedRequestException", "errorCode": 0, "eventId": 3000}),
            );
        }
        return azure_devops(&state, method, rest, &q, &recorded, &origin);
    }
    json_reply(404, json!({"message": "no such endpoint"}))
}

fn confluence(
    state: &Arc<Mutex<FakeState>>,
    method: &str,
    rest: &str,
    q: &BTreeMap<String, String>,
    recorded: &Recorded,
    base: &str,
) -> Response {
    let mut s = state.lock().expect("lock");
    match (method, rest.split('/').collect::<Vec<_>>().as_slice()) {
        ("GET", ["space", key]) => {
            if *key == "OPS" {
                json_reply(
                    200,
                    json!({"id": 98305, "key": "OPS", "name": "Operations", "type": "global", "_links": {"webui": "/spaces/OPS"}}),
                )
            } else {
                json_reply(
                    404,
                    json!({"statusCode": 404, "message": format!("No space found with key : {key}"), "data": {"authorized": false, "valid": true, "errors": [], "successful": false}}),
                )
            }
        }
        ("GET", ["content"]) => {
            let (Some(space), Some(title)) = (q.get("spaceKey"), q.get("title")) else {
                return bad_request_confluence("spaceKey and title are required");
            };
            if q.get("expand").map(String::as_str) != Some("version") {
                return bad_request_confluence("expected expand=version");
            }
            let results: Vec<Value> = s
                .pages
                .values()
                .filter(|p| &p.space == space && &p.title == title)
                .map(|p| page_json(base, p))
                .collect();
            let size = results.len();
            json_reply(
                200,
                json!({"results": results, "start": 0, "limit": 25, "size": size, "_links": {"base": base}}),
            )
        }
        ("GET", ["content", id]) => match s.pages.get(*id) {
            Some(p) => json_reply(200, page_json(base, p)),
            None => json_reply(
                404,
                json!({"statusCode": 404, "message": format!("No content found with id: ContentId{{id={id}}}")}),
            ),
        },
        ("POST", ["content"]) => {
            if recorded.content_type.as_deref() != Some("application/json") {
                return json_reply(
                    415,
                    json!({"statusCode": 415, "message": "Unsupported media type"}),
                );
            }
            let body = recorded.json();
            let (Some(title), Some(space), Some(value)) = (
                body["title"].as_str(),
                body["space"]["key"].as_str(),
                body["body"]["storage"]["value"].as_str(),
            ) else {
                return bad_request_confluence(
                    "title, space.key and body.storage.value are required",
                );
            };
            if body["type"] != "page" || body["body"]["storage"]["representation"] != "storage" {
                return bad_request_confluence("expected a page in storage representation");
            }
            if s.pages
                .values()
                .any(|p| p.space == space && p.title == title)
            {
                return bad_request_confluence(
                    "A page with this title already exists: A page already exists with the same TITLE in this space",
                );
            }
            let id = s.next_page.to_string();
            s.next_page += 1;
            let page = Page {
                id: id.clone(),
                space: space.into(),
                title: title.into(),
                storage: value.into(),
                version: 1,
            };
            let reply = page_json(base, &page);
            s.pages.insert(id, page);
            json_reply(200, reply)
        }
        ("PUT", ["content", id]) => {
            let body = recorded.json();
            let Some(page) = s.pages.get_mut(*id) else {
                return json_reply(
                    404,
                    json!({"statusCode": 404, "message": "No content to update"}),
                );
            };
            let next = body["version"]["number"].as_i64().unwrap_or(0);
            if next != page.version + 1 {
                return json_reply(
                    409,
                    json!({"statusCode": 409, "message": format!("Version must be incremented on update. Current version is: {}", page.version)}),
                );
            }
            let (Some(title), Some(value)) = (
                body["title"].as_str(),
                body["body"]["storage"]["value"].as_str(),
            ) else {
                return bad_request_confluence("title and body.storage.value are required");
            };
            if body["type"] != "page" || body["body"]["storage"]["representation"] != "storage" {
                return bad_request_confluence("expected a page in storage representation");
            }
            page.version = next;
            page.title = title.into();
            page.storage = value.into();
            let reply = page_json(base, page);
            json_reply(200, reply)
        }
        ("PUT", ["content", id, "child", "attachment"]) => {
            if recorded.atlassian_token.as_deref() != Some("no-check") {
                return json_reply(
                    403,
                    json!({"statusCode": 403, "message": "XSRF check failed"}),
                );
            }
            if !s.pages.contains_key(*id) {
                return json_reply(
                    404,
                    json!({"statusCode": 404, "message": format!("No content found with id: ContentId{{id={id}}}")}),
                );
            }
            let Some((field, file_name, content_type, bytes)) = multipart_file(recorded) else {
                return bad_request_confluence("Expected a multipart/form-data body with a file");
            };
            if field != "file" {
                return bad_request_confluence("The attachment must be sent as the 'file' part");
            }
            let n = s.attachments.len() + 1;
            let att = format!("att{n}");
            s.attachments.push(FakeAttachment {
                service: "confluence",
                parent: (*id).to_owned(),
                file_name: file_name.clone(),
                content_type: content_type.clone(),
                bytes,
                url: format!("{base}/download/attachments/{id}/{file_name}"),
            });
            json_reply(
                200,
                json!({"results": [{"id": att, "type": "attachment", "status": "current", "title": file_name,
                    "metadata": {"mediaType": content_type}, "_links": {"download": format!("/download/attachments/{id}/{file_name}")}}],
                    "size": 1}),
            )
        }
        _ => json_reply(404, json!({"statusCode": 404, "message": "null"})),
    }
}

/// The one file part of a `multipart/form-data` body: (field, file name,
/// content type, bytes).
fn multipart_file(recorded: &Recorded) -> Option<(String, String, String, Vec<u8>)> {
    let ct = recorded.content_type.as_deref()?;
    let boundary = ct
        .strip_prefix("multipart/form-data; boundary=")?
        .trim_matches('"');
    let body = &recorded.bytes;
    let open = format!("--{boundary}\r\n");
    let close = format!("\r\n--{boundary}--\r\n");
    if !body.starts_with(open.as_bytes()) || !body.ends_with(close.as_bytes()) {
        return None;
    }
    let inner = &body[open.len()..body.len() - close.len()];
    let split = inner.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&inner[..split]).ok()?;
    let bytes = inner[split + 4..].to_vec();
    let mut field = None;
    let mut file_name = None;
    let mut content_type = None;
    for line in head.split("\r\n") {
        if let Some(rest) = line.strip_prefix("Content-Disposition: form-data; ") {
            for part in rest.split("; ") {
                if let Some(v) = part.strip_prefix("name=") {
                    field = Some(v.trim_matches('"').to_owned());
                } else if let Some(v) = part.strip_prefix("filename=") {
                    file_name = Some(v.trim_matches('"').to_owned());
                }
            }
        } else if let Some(v) = line.strip_prefix("Content-Type: ") {
            content_type = Some(v.to_owned());
        }
    }
    Some((field?, file_name?, content_type?, bytes))
}

fn servicenow_attachment(
    state: &Arc<Mutex<FakeState>>,
    q: &BTreeMap<String, String>,
    recorded: &Recorded,
) -> Response {
    let mut s = state.lock().expect("lock");
    let fail = |detail: &str| {
        json_reply(
            400,
            json!({"error": {"message": "Failed to create Attachment", "detail": detail}, "status": "failure"}),
        )
    };
    if recorded.method != "POST" {
        return fail("POST expected");
    }
    if q.get("table_name").map(String::as_str) != Some("incident") {
        return fail("table_name must be incident");
    }
    let Some(sys_id) = q.get("table_sys_id").cloned() else {
        return fail("table_sys_id is required");
    };
    let n = s.incidents.len();
    if !(1..=n).any(|i| sys_id == format!("46d44a5ea9fe198100bd2ae1b1cf8d{i:02}")) {
        return fail("Invalid table_sys_id");
    }
    let Some(file_name) = q.get("file_name").cloned().filter(|f| !f.is_empty()) else {
        return fail("file_name is required");
    };
    let content_type = recorded.content_type.clone().unwrap_or_default();
    if !content_type.starts_with("image/") {
        return fail("Content-Type must be the file's type");
    }
    let attachment_id = format!(
        "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5{:02}",
        s.attachments.len() + 1
    );
    s.attachments.push(FakeAttachment {
        service: "servicenow",
        parent: sys_id.clone(),
        file_name: file_name.clone(),
        content_type: content_type.clone(),
        bytes: recorded.bytes.clone(),
        url: String::new(),
    });
    json_reply(
        201,
        json!({"result": {"sys_id": attachment_id, "file_name": file_name, "table_name": "incident",
            "table_sys_id": sys_id, "content_type": content_type, "size_bytes": recorded.bytes.len().to_string()}}),
    )
}

fn servicenow(
    state: &Arc<Mutex<FakeState>>,
    method: &str,
    rest: &str,
    q: &BTreeMap<String, String>,
    recorded: &Recorded,
) -> Response {
    let mut s = state.lock().expect("lock");
    match (method, rest) {
        ("GET", "incident") => {
            if q.get("sysparm_limit").map(String::as_str) != Some("1") {
                return json_reply(
                    400,
                    json!({"error": {"message": "expected sysparm_limit=1", "detail": null}, "status": "failure"}),
                );
            }
            json_reply(
                200,
                json!({"result": [{"sys_id": "9d385017c611228701d22104cc95c371"}]}),
            )
        }
        ("POST", "incident") => {
            if recorded.content_type.as_deref() != Some("application/json") {
                return json_reply(
                    415,
                    json!({"error": {"message": "Unsupported Media Type", "detail": null}, "status": "failure"}),
                );
            }
            let body = recorded.json();
            for field in [
                "short_description",
                "description",
                "impact",
                "urgency",
                "correlation_id",
            ] {
                if !body[field].is_string() {
                    return json_reply(
                        400,
                        json!({"error": {"message": "Exception while reading request", "detail": format!("{field} missing")}, "status": "failure"}),
                    );
                }
            }
            let n = s.incidents.len() + 1;
            let sys_id = format!("46d44a5ea9fe198100bd2ae1b1cf8d{n:02}");
            let number = format!("INC00100{n:02}");
            s.incidents.push(body.clone());
            json_reply(
                201,
                json!({"result": {
                    "sys_id": sys_id, "number": number, "state": "1",
                    "short_description": body["short_description"], "impact": body["impact"], "urgency": body["urgency"],
                    "priority": "1", "sys_class_name": "incident"
                }}),
            )
        }
        _ => json_reply(
            400,
            json!({"error": {"message": "Invalid table", "detail": null}, "status": "failure"}),
        ),
    }
}

fn azure_devops(
    state: &Arc<Mutex<FakeState>>,
    method: &str,
    rest: &str,
    q: &BTreeMap<String, String>,
    recorded: &Recorded,
    origin: &str,
) -> Response {
    let mut s = state.lock().expect("lock");
    if q.get("api-version").map(String::as_str) != Some("7.1") {
        return json_reply(
            400,
            json!({"$id": "1", "message": "No api-version was supplied for the \"GET\" request.", "typeKey": "VssVersionNotSpecifiedException", "errorCode": 0}),
        );
    }
    let segments: Vec<&str> = rest.split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["_apis", "projects", project]) => {
            if *project == "Site Ops" {
                json_reply(
                    200,
                    json!({"id": "eb6e4656-77fc-42a1-9181-4c6d8e9da5d1", "name": "Site Ops", "state": "wellFormed", "visibility": "private"}),
                )
            } else {
                json_reply(
                    404,
                    json!({"$id": "1", "innerException": null, "message": format!("TF200016: The following project does not exist: {project}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server."), "typeName": "Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, Microsoft.TeamFoundation.Core.WebApi", "typeKey": "ProjectDoesNotExistWithNameException", "errorCode": 0, "eventId": 3000}),
                )
            }
        }
        ("POST", [project, "_apis", "wit", "attachments"]) => {
            if *project != "Site Ops" {
                return json_reply(
                    404,
                    json!({"$id": "1", "message": format!("TF200016: The following project does not exist: {project}."), "typeKey": "ProjectDoesNotExistWithNameException", "errorCode": 0}),
                );
            }
            if recorded.content_type.as_deref() != Some("application/octet-stream") {
                return json_reply(
                    400,
                    json!({"$id": "1", "message": "The attachment must be sent as application/octet-stream.", "typeKey": "VssPropertyValidationException", "errorCode": 0}),
                );
            }
            let Some(file_name) = q.get("fileName").cloned() else {
                return json_reply(
                    400,
                    json!({"$id": "1", "message": "fileName is required", "typeKey": "ArgumentNullException", "errorCode": 0}),
                );
            };
            let id = format!(
                "0b1c{:04}-5f6e-4d3c-9b8a-7f6e5d4c3b2a",
                s.attachments.len() + 1
            );
            let url = format!(
                "{origin}/acme/_apis/wit/attachments/{id}?fileName={}",
                percent_encoding::utf8_percent_encode(
                    &file_name,
                    percent_encoding::NON_ALPHANUMERIC
                )
            );
            s.attachments.push(FakeAttachment {
                service: "azure_devops",
                parent: String::new(),
                file_name,
                content_type: "application/octet-stream".into(),
                bytes: recorded.bytes.clone(),
                url: url.clone(),
            });
            json_reply(201, json!({"id": id, "url": url}))
        }
        ("POST", [project, "_apis", "wit", "workitems", kind]) => {
            if *project != "Site Ops" {
                return json_reply(
                    404,
                    json!({"$id": "1", "message": format!("TF200016: The following project does not exist: {project}."), "typeKey": "ProjectDoesNotExistWithNameException", "errorCode": 0}),
                );
            }
            if recorded.content_type.as_deref() != Some("application/json-patch+json") {
                return json_reply(
                    400,
                    json!({"$id": "1", "message": "You must pass a valid patch document in the body of the request.", "typeKey": "VssPropertyValidationException", "errorCode": 0}),
                );
            }
            if *kind != "$Bug" && *kind != "$Issue" {
                return json_reply(
                    404,
                    json!({"$id": "1", "message": format!("TF201036: Work item type {} does not exist.", kind.trim_start_matches('$')), "typeKey": "WorkItemTypeNotFoundException", "errorCode": 0}),
                );
            }
            let ops = recorded.json();
            let Some(ops) = ops.as_array().cloned() else {
                return json_reply(
                    400,
                    json!({"$id": "1", "message": "You must pass a valid patch document in the body of the request.", "typeKey": "VssPropertyValidationException", "errorCode": 0}),
                );
            };
            let mut fields = serde_json::Map::new();
            let mut relations = Vec::new();
            for op in &ops {
                if op["path"] == "/relations/-" {
                    let url = op["value"]["url"].as_str().unwrap_or_default();
                    if op["value"]["rel"] != "AttachedFile"
                        || !s.attachments.iter().any(|a| a.url == url)
                    {
                        return json_reply(
                            400,
                            json!({"$id": "1", "message": "TF401349: An unexpected error has occurred, please verify your request and try again.", "typeKey": "WorkItemLinkInvalidException", "errorCode": 0}),
                        );
                    }
                    relations.push(op["value"].clone());
                    continue;
                }
                let (Some("add"), Some(path)) = (op["op"].as_str(), op["path"].as_str()) else {
                    return json_reply(
                        400,
                        json!({"$id": "1", "message": "Invalid patch operation", "typeKey": "VssPropertyValidationException", "errorCode": 0}),
                    );
                };
                let Some(field) = path.strip_prefix("/fields/") else {
                    return json_reply(
                        400,
                        json!({"$id": "1", "message": "Invalid path", "typeKey": "VssPropertyValidationException", "errorCode": 0}),
                    );
                };
                fields.insert(field.to_owned(), op["value"].clone());
            }
            if fields
                .get("System.Title")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return json_reply(
                    400,
                    json!({"$id": "1", "innerException": null, "message": "TF401320: Rule Error for field Title. Error code: Required, HasValues, LimitedToValues, AllowsOldValue, InvalidEmpty.", "typeKey": "RuleValidationException", "errorCode": 0, "eventId": 3000}),
                );
            }
            let id = 41 + s.work_items.len() as i64 + 1;
            let mut stored = fields.clone();
            if !relations.is_empty() {
                stored.insert("relations".into(), Value::Array(relations));
            }
            s.work_items.push(Value::Object(stored));
            json_reply(
                200,
                json!({
                    "id": id, "rev": 1, "fields": fields,
                    "_links": {"html": {"href": format!("{origin}/acme/Site%20Ops/_workitems/edit/{id}")}},
                    "url": format!("{origin}/acme/_apis/wit/workItems/{id}")
                }),
            )
        }
        _ => json_reply(
            404,
            json!({"$id": "1", "message": "The controller for path was not found", "typeKey": "HttpException", "errorCode": 0}),
        ),
    }
}
