//! ServiceNow's Table API: an incident per issue (`POST
//! /api/now/table/incident`), with urgency and impact from the issue's
//! severity, the document (or the issue's description) as the description
//! and TFTSR's issue id as the correlation id.

use serde_json::{Value, json};

use super::config::ValidIntegration;
use super::remote::RemoteError;
use super::{
    FileUpload, HttpMethod, OutboundRequest, PublishInput, RemoteItem, Service, cut_chars,
    encode_component,
};
use crate::issue::Severity;

/// ServiceNow's limit for `short_description`.
pub const SHORT_DESCRIPTION_MAX: usize = 160;

/// (impact, urgency), 1 = high … 3 = low. With ServiceNow's default
/// priority matrix: critical → P1, high → P2, medium → P3, low → P4.
pub fn impact_urgency(severity: Severity) -> (u8, u8) {
    match severity {
        Severity::Critical => (1, 1),
        Severity::High => (2, 1),
        Severity::Medium => (2, 2),
        Severity::Low => (3, 2),
    }
}

/// The incident as TFTSR will send it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub short_description: String,
    pub description: String,
    pub impact: u8,
    pub urgency: u8,
    pub correlation_id: String,
}

impl Incident {
    pub fn from_input(input: &PublishInput) -> Self {
        let (impact, urgency) = impact_urgency(input.severity);
        let description = format!("{}\n\n{}", input.markdown.trim(), input.backlink());
        Self {
            short_description: cut_chars(
                input.title.trim().replace(['\r', '\n'], " ").as_str(),
                SHORT_DESCRIPTION_MAX,
            ),
            description,
            impact,
            urgency,
            correlation_id: input.issue_id.to_string(),
        }
    }

    pub fn gated_text(&self) -> String {
        format!("{}\n{}", self.short_description, self.description)
    }
}

/// `GET /api/now/table/incident?sysparm_limit=1`.
pub fn test_request() -> OutboundRequest {
    OutboundRequest {
        method: HttpMethod::Get,
        path: "/api/now/table/incident?sysparm_limit=1&sysparm_fields=sys_id".to_owned(),
        content_type: "application/json",
        body: None,
    }
}

pub fn create_request(incident: &Incident) -> OutboundRequest {
    OutboundRequest {
        method: HttpMethod::Post,
        path: "/api/now/table/incident".to_owned(),
        content_type: "application/json",
        body: Some(json!({
            "short_description": incident.short_description,
            "description": incident.description,
            "impact": incident.impact.to_string(),
            "urgency": incident.urgency.to_string(),
            "correlation_id": incident.correlation_id,
            "correlation_display": "TFTSR",
        })),
    }
}

/// `POST /api/now/attachment/file?table_name=incident&table_sys_id=…`:
/// the file as the body, attached to the incident.
pub fn attachment_request(sys_id: &str, file_name: &str, content_type: &'static str) -> FileUpload {
    FileUpload {
        method: HttpMethod::Post,
        path: format!(
            "/api/now/attachment/file?table_name=incident&table_sys_id={}&file_name={}",
            encode_component(sys_id),
            encode_component(file_name)
        ),
        multipart_field: None,
        content_type,
        file_name: file_name.to_owned(),
        headers: &[],
    }
}

/// The attachment's `sys_id`: `{"result":{"sys_id":"…","file_name":…}}`.
pub fn parse_attachment(json: &Value) -> Result<String, RemoteError> {
    json.pointer("/result/sys_id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| RemoteError::malformed(Service::ServiceNow, "no attachment sys_id"))
}

/// `{"result":{"sys_id":"…","number":"INC0010001",…}}`.
pub fn parse_created(config: &ValidIntegration, json: &Value) -> Result<RemoteItem, RemoteError> {
    let bad = |what| RemoteError::malformed(Service::ServiceNow, what);
    let result = json.get("result").ok_or_else(|| bad("no result"))?;
    let sys_id = result
        .get("sys_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(|| bad("no sys_id"))?;
    let number = result
        .get("number")
        .and_then(Value::as_str)
        .unwrap_or(sys_id);
    Ok(RemoteItem {
        id: sys_id.to_owned(),
        label: number.to_owned(),
        url: format!(
            "{}/nav_to.do?uri=incident.do%3Fsys_id%3D{sys_id}",
            config.base_url
        ),
        version: None,
    })
}

/// The test's reply: `{"result":[…]}`.
pub fn parse_list(json: &Value) -> Result<usize, RemoteError> {
    json.get("result")
        .and_then(Value::as_array)
        .map(Vec::len)
        .ok_or_else(|| RemoteError::malformed(Service::ServiceNow, "no result list"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IssueId;
    use crate::doc::DocumentKind;

    fn config() -> ValidIntegration {
        ValidIntegration {
            service: Service::ServiceNow,
            base_url: "https://acme.service-now.com".into(),
            space_key: String::new(),
            project: String::new(),
            username: "svc".into(),
            work_item_type: String::new(),
            auto_create_on_resolve: true,
            enabled: true,
        }
    }

    #[test]
    fn bodies_carry_severity_and_the_issue_id() {
        let input = PublishInput {
            issue_id: IssueId::parse("01900000-0000-7000-8000-000000000002").expect("id"),
            issue_title: "Checkout down".into(),
            severity: Severity::Critical,
            kind: Some(DocumentKind::PostMortem),
            title: format!("Post-mortem: \"{}\"\nnext", "é".repeat(200)),
            markdown: "## Summary\n\n<script>alert(1)</script> ]]>\n".into(),
            images: Vec::new(),
        };
        let incident = Incident::from_input(&input);
        assert_eq!(
            incident.short_description.chars().count(),
            SHORT_DESCRIPTION_MAX
        );
        assert!(!incident.short_description.contains('\n'));
        let body = create_request(&incident).body.expect("body");
        assert_eq!(body["impact"], "1");
        assert_eq!(body["urgency"], "1");
        assert_eq!(
            body["correlation_id"],
            "01900000-0000-7000-8000-000000000002"
        );
        let description = body["description"].as_str().expect("text");
        assert!(description.starts_with("## Summary\n\n<script>alert(1)</script> ]]>"));
        assert!(description.ends_with(
            "Post-mortem of issue 01900000-0000-7000-8000-000000000002 (Checkout down)."
        ));
        assert_eq!(impact_urgency(Severity::Low), (3, 2));
    }

    #[test]
    fn replies_are_parsed() {
        let reply = json!({"result":{"sys_id":"46d44a5ea9fe198100bd2ae1b1cf8d5b","number":"INC0010001","state":"1"}});
        let item = parse_created(&config(), &reply).expect("item");
        assert_eq!(item.label, "INC0010001");
        assert_eq!(
            item.url,
            "https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D46d44a5ea9fe198100bd2ae1b1cf8d5b"
        );
        assert!(parse_created(&config(), &json!({"result":{"sys_id":"a/../b"}})).is_err());
        assert!(parse_created(&config(), &json!({"status":"ok"})).is_err());
        assert_eq!(
            parse_list(&json!({"result":[{"sys_id":"x"}]})).expect("list"),
            1
        );
    }

    #[test]
    fn attachments_go_to_the_incident() {
        let upload = attachment_request("abc123", "grafana cpu&1.png", "image/png");
        assert_eq!(upload.method, HttpMethod::Post);
        assert_eq!(
            upload.path,
            "/api/now/attachment/file?table_name=incident&table_sys_id=abc123&file_name=grafana%20cpu%261.png"
        );
        assert_eq!(
            (upload.multipart_field, upload.content_type),
            (None, "image/png")
        );
        let reply = serde_json::json!({"result": {"sys_id": "f00d", "file_name": "a.png"}});
        assert_eq!(parse_attachment(&reply).expect("id"), "f00d");
        assert!(parse_attachment(&serde_json::json!({"result": {}})).is_err());
    }
}
