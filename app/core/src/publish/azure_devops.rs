//! Azure DevOps' work item API: `POST {org}/{project}/_apis/wit/workitems/
//! ${type}?api-version=7.1` with a JSON Patch document
//! (`application/json-patch+json`). The description is HTML (the
//! document, rendered), the priority comes from the severity, and the tags
//! carry TFTSR's issue id so the item can be found from the issue.

use serde_json::{Value, json};

use super::config::ValidIntegration;
use super::remote::RemoteError;
use super::storage::{Flavor, body_without_title, escape_xml};
use super::{
    FileUpload, HttpMethod, OutboundRequest, PublishInput, RemoteItem, Service, cut_chars,
    encode_component,
};
use crate::issue::Severity;

pub const API_VERSION: &str = "7.1";
/// Azure DevOps' limit for `System.Title`.
pub const TITLE_MAX: usize = 255;

/// `Microsoft.VSTS.Common.Priority` (1 = most important … 4) and the Bug's
/// `Microsoft.VSTS.Common.Severity`.
pub fn priority_severity(severity: Severity) -> (u8, &'static str) {
    match severity {
        Severity::Critical => (1, "1 - Critical"),
        Severity::High => (2, "2 - High"),
        Severity::Medium => (3, "3 - Medium"),
        Severity::Low => (4, "4 - Low"),
    }
}

/// The work item as TFTSR will send it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkItem {
    pub title: String,
    /// HTML.
    pub description: String,
    pub priority: u8,
    pub severity: &'static str,
    pub tags: String,
}

impl WorkItem {
    pub fn from_input(input: &PublishInput) -> Self {
        let mut description = body_without_title(&input.markdown, Flavor::Html);
        description.push_str("<p><em>");
        escape_xml(&input.backlink(), &mut description);
        description.push_str("</em></p>");
        let (priority, severity) = priority_severity(input.severity);
        Self {
            title: cut_chars(
                input.title.trim().replace(['\r', '\n'], " ").as_str(),
                TITLE_MAX,
            ),
            description,
            priority,
            severity,
            tags: format!("TFTSR; tftsr-{}", input.issue_id),
        }
    }

    pub fn gated_text(&self) -> String {
        format!("{}\n{}", self.title, self.description)
    }

    /// The JSON Patch operations for a work item of type `kind`. Bugs show
    /// repro steps rather than the description, and have a severity field
    /// other types lack, so those are added for bugs only.
    pub fn patch(&self, kind: &str) -> Value {
        let add = |path: &str, value: Value| json!({"op": "add", "path": path, "value": value});
        let mut ops = vec![
            add("/fields/System.Title", json!(self.title)),
            add("/fields/System.Description", json!(self.description)),
            add(
                "/fields/Microsoft.VSTS.Common.Priority",
                json!(self.priority),
            ),
            add("/fields/System.Tags", json!(self.tags)),
        ];
        if kind.eq_ignore_ascii_case("bug") {
            ops.push(add(
                "/fields/Microsoft.VSTS.TCM.ReproSteps",
                json!(self.description),
            ));
            ops.push(add(
                "/fields/Microsoft.VSTS.Common.Severity",
                json!(self.severity),
            ));
        }
        Value::Array(ops)
    }
}

/// `GET {org}/_apis/projects/{project}?api-version=7.1`.
pub fn test_request(config: &ValidIntegration) -> OutboundRequest {
    OutboundRequest {
        method: HttpMethod::Get,
        path: format!(
            "/_apis/projects/{}?api-version={API_VERSION}",
            encode_component(&config.project)
        ),
        content_type: "application/json",
        body: None,
    }
}

pub fn create_request(config: &ValidIntegration, item: &WorkItem) -> OutboundRequest {
    OutboundRequest {
        method: HttpMethod::Post,
        path: format!(
            "/{}/_apis/wit/workitems/${}?api-version={API_VERSION}",
            encode_component(&config.project),
            encode_component(&config.work_item_type)
        ),
        content_type: "application/json-patch+json",
        body: Some(item.patch(&config.work_item_type)),
    }
}

/// `POST {org}/{project}/_apis/wit/attachments?fileName=…`: the bytes as
/// the body; the reply's URL is then linked from the work item.
pub fn attachment_request(config: &ValidIntegration, file_name: &str) -> FileUpload {
    FileUpload {
        method: HttpMethod::Post,
        path: format!(
            "/{}/_apis/wit/attachments?fileName={}&api-version={API_VERSION}",
            encode_component(&config.project),
            encode_component(file_name)
        ),
        multipart_field: None,
        content_type: "application/octet-stream",
        file_name: file_name.to_owned(),
        headers: &[],
    }
}

/// The uploaded attachment's URL: `{"id":"…","url":"https://…"}`.
pub fn parse_attachment(json: &Value) -> Result<String, RemoteError> {
    json.get("url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_owned)
        .ok_or_else(|| RemoteError::malformed(Service::AzureDevOps, "no attachment url"))
}

/// The create request with the uploaded attachments linked: one
/// `AttachedFile` relation per `(name, url)`.
pub fn with_attachments(
    mut request: OutboundRequest,
    files: &[(String, String)],
) -> OutboundRequest {
    if let Some(Value::Array(ops)) = request.body.as_mut() {
        for (name, url) in files {
            ops.push(json!({
                "op": "add",
                "path": "/relations/-",
                "value": {
                    "rel": "AttachedFile",
                    "url": url,
                    "attributes": {"comment": format!("Image from TFTSR: {name}")},
                },
            }));
        }
    }
    request
}

/// `{"id":42,"rev":1,"fields":{…},"_links":{"html":{"href":"…"}},"url":"…"}`.
pub fn parse_created(config: &ValidIntegration, json: &Value) -> Result<RemoteItem, RemoteError> {
    let id = json
        .get("id")
        .and_then(Value::as_i64)
        .ok_or_else(|| RemoteError::malformed(Service::AzureDevOps, "no work item id"))?;
    let url = json
        .pointer("/_links/html/href")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "{}/{}/_workitems/edit/{id}",
                config.base_url,
                encode_component(&config.project)
            )
        });
    Ok(RemoteItem {
        id: id.to_string(),
        label: format!("#{id}"),
        url,
        version: None,
    })
}

/// The project's name from the test's reply.
pub fn parse_project(json: &Value) -> Result<String, RemoteError> {
    json.get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| RemoteError::malformed(Service::AzureDevOps, "no project name"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IssueId;
    use crate::doc::DocumentKind;
    use crate::publish::storage::check_well_formed;

    fn config(kind: &str) -> ValidIntegration {
        ValidIntegration {
            service: Service::AzureDevOps,
            base_url: "https://dev.azure.com/acme".into(),
            space_key: String::new(),
            project: "Site Ops".into(),
            username: String::new(),
            work_item_type: kind.into(),
            auto_create_on_resolve: false,
            enabled: true,
        }
    }

    fn input() -> PublishInput {
        PublishInput {
            issue_id: IssueId::parse("01900000-0000-7000-8000-000000000003").expect("id"),
            issue_title: "DNS <flap>".into(),
            severity: Severity::Medium,
            kind: Some(DocumentKind::Rca),
            title: "RCA: DNS flap".into(),
            markdown:
                "# RCA: DNS flap\n\n<script>alert('x')</script> \"q\" ü ]]>\n\n```\n<b>\n```\n"
                    .into(),
            images: Vec::new(),
        }
    }

    #[test]
    fn bugs_get_repro_steps_and_severity() {
        let item = WorkItem::from_input(&input());
        check_well_formed(&item.description).expect("well-formed");
        assert!(!item.description.contains("<script"));
        assert!(
            item.description
                .contains("<pre><code>&lt;b&gt;</code></pre>")
        );
        let request = create_request(&config("Bug"), &item);
        assert_eq!(request.content_type, "application/json-patch+json");
        assert_eq!(
            request.path,
            "/Site%20Ops/_apis/wit/workitems/$Bug?api-version=7.1"
        );
        let ops = request.body.expect("body");
        let ops = ops.as_array().expect("array");
        assert!(ops.iter().all(|op| op["op"] == "add"));
        let paths: Vec<&str> = ops.iter().filter_map(|op| op["path"].as_str()).collect();
        assert_eq!(
            paths,
            [
                "/fields/System.Title",
                "/fields/System.Description",
                "/fields/Microsoft.VSTS.Common.Priority",
                "/fields/System.Tags",
                "/fields/Microsoft.VSTS.TCM.ReproSteps",
                "/fields/Microsoft.VSTS.Common.Severity"
            ]
        );
        assert_eq!(ops[2]["value"], 3);
        assert_eq!(
            ops[3]["value"],
            "TFTSR; tftsr-01900000-0000-7000-8000-000000000003"
        );
        let other = create_request(&config("User Story"), &item);
        assert_eq!(
            other.path,
            "/Site%20Ops/_apis/wit/workitems/$User%20Story?api-version=7.1"
        );
        assert_eq!(other.body.expect("body").as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn replies_are_parsed() {
        let reply = json!({"id": 42, "rev": 1, "_links": {"html": {"href": "https://dev.azure.com/acme/Site%20Ops/_workitems/edit/42"}}});
        let item = parse_created(&config("Bug"), &reply).expect("item");
        assert_eq!(item.label, "#42");
        assert_eq!(
            item.url,
            "https://dev.azure.com/acme/Site%20Ops/_workitems/edit/42"
        );
        let bare = parse_created(&config("Bug"), &json!({"id": 7})).expect("item");
        assert_eq!(
            bare.url,
            "https://dev.azure.com/acme/Site%20Ops/_workitems/edit/7"
        );
        assert!(parse_created(&config("Bug"), &json!({"id": "x"})).is_err());
        assert_eq!(
            test_request(&config("Bug")).path,
            "/_apis/projects/Site%20Ops?api-version=7.1"
        );
        assert_eq!(priority_severity(Severity::Critical), (1, "1 - Critical"));
    }

    #[test]
    fn attachments_are_uploaded_then_linked_from_the_work_item() {
        let config = config("Bug");
        let upload = attachment_request(&config, "a b.png");
        assert_eq!(
            upload.path,
            "/Site%20Ops/_apis/wit/attachments?fileName=a%20b.png&api-version=7.1"
        );
        assert_eq!(upload.content_type, "application/octet-stream");
        let url = "https://dev.azure.com/acme/_apis/wit/attachments/0b1c?fileName=a.png";
        assert_eq!(
            parse_attachment(&serde_json::json!({"id": "0b1c", "url": url})).expect("url"),
            url
        );
        assert!(
            parse_attachment(&serde_json::json!({"id": "x", "url": "javascript:alert(1)"}))
                .is_err()
        );

        let item = WorkItem::from_input(&input());
        let plain = create_request(&config, &item);
        let linked = with_attachments(plain.clone(), &[("a.png".into(), url.into())]);
        let ops = linked
            .body
            .as_ref()
            .and_then(|b| b.as_array())
            .expect("ops");
        let before = plain
            .body
            .as_ref()
            .and_then(|b| b.as_array())
            .expect("ops")
            .len();
        assert_eq!(ops.len(), before + 1);
        let last = &ops[before];
        assert_eq!(last["path"], "/relations/-");
        assert_eq!(last["value"]["rel"], "AttachedFile");
        assert_eq!(last["value"]["url"], url);
    }
}
