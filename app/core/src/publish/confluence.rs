//! Confluence's REST API (`/rest/api/…` under the base URL, which for
//! Confluence Cloud ends in `/wiki`): a page per document, created in the
//! configured space in storage format, and updated in place when published
//! again (the version number + 1, as Confluence requires).

use serde_json::{Value, json};

use super::config::ValidIntegration;
use super::remote::RemoteError;
use super::storage::{Flavor, body_without_title, escape_xml};
use super::{
    FileUpload, HttpMethod, OutboundRequest, PublishInput, RemoteItem, Service, encode_component,
};

/// The label every published page carries.
pub const LABEL: &str = "tftsr";

/// A page as TFTSR will send it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageContent {
    pub title: String,
    /// Storage-format XHTML.
    pub storage: String,
}

impl PageContent {
    pub fn from_input(input: &PublishInput) -> Self {
        let mut storage = body_without_title(&input.markdown, Flavor::Confluence);
        if !input.images.is_empty() {
            // Shown from the page's attachments, uploaded right after it.
            storage.push_str("<h2>Images</h2>");
            for name in &input.images {
                storage.push_str("<p><ac:image ac:alt=\"");
                escape_xml(name, &mut storage);
                storage.push_str("\"><ri:attachment ri:filename=\"");
                escape_xml(name, &mut storage);
                storage.push_str("\" /></ac:image></p>");
            }
        }
        storage.push_str("<p><em>");
        escape_xml(&input.backlink(), &mut storage);
        storage.push_str("</em></p>");
        Self {
            title: super::cut_chars(input.title.trim(), 255),
            storage,
        }
    }

    /// Everything of the page that leaves, for the PII gate.
    pub fn gated_text(&self) -> String {
        format!("{}\n{}", self.title, self.storage)
    }
}

/// `GET /rest/api/space/{key}`: cheap, authenticated, and proves the space
/// exists.
pub fn test_request(config: &ValidIntegration) -> OutboundRequest {
    OutboundRequest {
        method: HttpMethod::Get,
        path: format!("/rest/api/space/{}", encode_component(&config.space_key)),
        content_type: "application/json",
        body: None,
    }
}

/// The page TFTSR published before, with its current version.
pub fn get_request(page_id: &str) -> OutboundRequest {
    OutboundRequest {
        method: HttpMethod::Get,
        path: format!(
            "/rest/api/content/{}?expand=version",
            encode_component(page_id)
        ),
        content_type: "application/json",
        body: None,
    }
}

/// A page of the space with this title (titles are unique in a space).
pub fn find_request(config: &ValidIntegration, title: &str) -> OutboundRequest {
    OutboundRequest {
        method: HttpMethod::Get,
        path: format!(
            "/rest/api/content?spaceKey={}&title={}&expand=version",
            encode_component(&config.space_key),
            encode_component(title)
        ),
        content_type: "application/json",
        body: None,
    }
}

pub fn create_request(config: &ValidIntegration, page: &PageContent) -> OutboundRequest {
    OutboundRequest {
        method: HttpMethod::Post,
        path: "/rest/api/content".to_owned(),
        content_type: "application/json",
        body: Some(json!({
            "type": "page",
            "title": page.title,
            "space": {"key": config.space_key},
            "body": {"storage": {"value": page.storage, "representation": "storage"}},
            "metadata": {"labels": [{"prefix": "global", "name": LABEL}]},
        })),
    }
}

/// Replaces the page's content; `current_version` is the version Confluence
/// reported, and the update names the next one.
pub fn update_request(
    config: &ValidIntegration,
    page_id: &str,
    current_version: i64,
    page: &PageContent,
) -> OutboundRequest {
    OutboundRequest {
        method: HttpMethod::Put,
        path: format!("/rest/api/content/{}", encode_component(page_id)),
        content_type: "application/json",
        body: Some(json!({
            "id": page_id,
            "type": "page",
            "title": page.title,
            "space": {"key": config.space_key},
            "body": {"storage": {"value": page.storage, "representation": "storage"}},
            "version": {"number": current_version + 1, "message": "Published from TFTSR"},
        })),
    }
}

/// `PUT /rest/api/content/{id}/child/attachment`: attaches the file to the
/// page, or adds a version to the page's attachment of the same name (so
/// publishing again does not fail on existing names). Confluence refuses
/// uploads without its XSRF opt-out header.
pub fn attachment_request(
    page_id: &str,
    file_name: &str,
    content_type: &'static str,
) -> FileUpload {
    FileUpload {
        method: HttpMethod::Put,
        path: format!(
            "/rest/api/content/{}/child/attachment",
            encode_component(page_id)
        ),
        multipart_field: Some("file"),
        content_type,
        file_name: file_name.to_owned(),
        headers: &[("X-Atlassian-Token", "no-check")],
    }
}

/// The attachment's id from the reply: a list (`{"results":[{"id":…}]}`)
/// for a new attachment, or the attachment itself for a new version.
pub fn parse_attachment(json: &Value) -> Result<String, RemoteError> {
    json.pointer("/results/0/id")
        .or_else(|| json.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| RemoteError::malformed(Service::Confluence, "no attachment id"))
}

/// A page in a reply: its id, title, version and where to open it.
pub fn parse_page(config: &ValidIntegration, json: &Value) -> Result<RemoteItem, RemoteError> {
    let bad = |what| RemoteError::malformed(Service::Confluence, what);
    let id = match json.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(bad("no page id")),
    };
    let version = json
        .pointer("/version/number")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("no version number"))?;
    let title = json
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let webui = json.pointer("/_links/webui").and_then(Value::as_str);
    let base = json
        .pointer("/_links/base")
        .and_then(Value::as_str)
        .filter(|b| b.starts_with("https://") || b.starts_with("http://"))
        .unwrap_or(&config.base_url);
    let url = match webui.filter(|w| w.starts_with('/')) {
        Some(webui) => format!("{}{webui}", base.trim_end_matches('/')),
        None => format!(
            "{}/pages/viewpage.action?pageId={}",
            config.base_url,
            encode_component(&id)
        ),
    };
    Ok(RemoteItem {
        id,
        label: title,
        url,
        version: Some(version),
    })
}

/// The first result of a search, if any.
pub fn parse_search(
    config: &ValidIntegration,
    json: &Value,
) -> Result<Option<RemoteItem>, RemoteError> {
    let results = json
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| RemoteError::malformed(Service::Confluence, "no results list"))?;
    results.first().map(|p| parse_page(config, p)).transpose()
}

/// The space's name from `GET /rest/api/space/{key}`.
pub fn parse_space(json: &Value) -> Result<String, RemoteError> {
    json.get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| RemoteError::malformed(Service::Confluence, "no space name"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IssueId;
    use crate::doc::DocumentKind;
    use crate::issue::Severity;
    use crate::publish::storage::check_well_formed;

    fn config() -> ValidIntegration {
        ValidIntegration {
            service: Service::Confluence,
            base_url: "https://acme.atlassian.net/wiki".into(),
            space_key: "OPS".into(),
            project: String::new(),
            username: "me@acme.com".into(),
            work_item_type: String::new(),
            auto_create_on_resolve: false,
            enabled: true,
        }
    }

    fn input(markdown: &str) -> PublishInput {
        PublishInput {
            issue_id: IssueId::parse("01900000-0000-7000-8000-000000000001").expect("id"),
            issue_title: "Disk <full> & \"loud\"".into(),
            severity: Severity::High,
            kind: Some(DocumentKind::Rca),
            title: "RCA: Disk full".into(),
            markdown: markdown.into(),
            images: Vec::new(),
        }
    }

    #[test]
    fn page_bodies_are_well_formed_and_link_back() {
        let page = PageContent::from_input(&input(
            "# RCA: Disk full\n\n## Summary\n\n<script>x</script> ]]> \"q\"\n\n```\n]]>\n```\n",
        ));
        assert_eq!(page.title, "RCA: Disk full");
        let text = check_well_formed(&page.storage).expect("well-formed");
        assert!(
            text.contains("issue 01900000-0000-7000-8000-000000000001 (Disk <full> & \"loud\")")
        );
        assert!(!page.storage.contains("<h1>"), "the title is not repeated");
        assert!(!page.storage.contains("<script"));
        let create = create_request(&config(), &page);
        assert_eq!(create.method, HttpMethod::Post);
        assert_eq!(create.path, "/rest/api/content");
        let body = create.body.expect("body");
        assert_eq!(body["space"]["key"], "OPS");
        assert_eq!(body["body"]["storage"]["representation"], "storage");
        assert_eq!(body["body"]["storage"]["value"], page.storage);
        let update = update_request(&config(), "98765", 3, &page);
        assert_eq!(update.method, HttpMethod::Put);
        assert_eq!(update.path, "/rest/api/content/98765");
        assert_eq!(update.body.expect("body")["version"]["number"], 4);
    }

    #[test]
    fn lookups_encode_titles() {
        let find = find_request(&config(), "RCA: a&b=c ü");
        assert_eq!(
            find.path,
            "/rest/api/content?spaceKey=OPS&title=RCA%3A%20a%26b%3Dc%20%C3%BC&expand=version"
        );
        assert_eq!(test_request(&config()).path, "/rest/api/space/OPS");
        assert_eq!(
            get_request("12/3").path,
            "/rest/api/content/12%2F3?expand=version"
        );
    }

    #[test]
    fn replies_are_parsed() {
        let page = json!({"id":"123","title":"T","version":{"number":2},
            "_links":{"webui":"/spaces/OPS/pages/123/T","base":"https://acme.atlassian.net/wiki"}});
        let item = parse_page(&config(), &page).expect("page");
        assert_eq!(item.id, "123");
        assert_eq!(item.version, Some(2));
        assert_eq!(
            item.url,
            "https://acme.atlassian.net/wiki/spaces/OPS/pages/123/T"
        );
        let hostile = json!({"id":"9","version":{"number":1},"_links":{"webui":"javascript:x","base":"javascript:alert(1)"}});
        let item = parse_page(&config(), &hostile).expect("page");
        assert_eq!(
            item.url,
            "https://acme.atlassian.net/wiki/pages/viewpage.action?pageId=9"
        );
        assert!(
            parse_search(&config(), &json!({"results":[],"size":0}))
                .expect("ok")
                .is_none()
        );
        assert!(parse_search(&config(), &json!({"oops":1})).is_err());
        assert!(parse_page(&config(), &json!({"id":"1"})).is_err());
    }

    #[test]
    fn images_are_shown_from_the_page_attachments() {
        let mut with_images = input("# RCA: Disk full\n\nBody.\n");
        with_images.images = vec!["grafana \"cpu\" <1>.png".into(), "b&w.jpg".into()];
        let page = PageContent::from_input(&with_images);
        check_well_formed(&page.storage).expect("well-formed");
        assert!(page.storage.contains(
            "<ac:image ac:alt=\"grafana &quot;cpu&quot; &lt;1&gt;.png\"><ri:attachment ri:filename=\"grafana &quot;cpu&quot; &lt;1&gt;.png\" /></ac:image>"
        ));
        assert!(page.storage.contains("ri:filename=\"b&amp;w.jpg\""));
        // The names leave too, so the gate sees them.
        assert!(page.gated_text().contains("b&amp;w.jpg"));
        let without = PageContent::from_input(&input("# RCA: Disk full\n\nBody.\n"));
        assert!(!without.storage.contains("ac:image"));

        let upload = attachment_request("10 01", "a b.png", "image/png");
        assert_eq!(upload.method, HttpMethod::Put);
        assert_eq!(upload.path, "/rest/api/content/10%2001/child/attachment");
        assert_eq!(upload.multipart_field, Some("file"));
        assert_eq!(upload.headers, &[("X-Atlassian-Token", "no-check")]);

        let created =
            serde_json::json!({"results": [{"id": "att123", "title": "a.png"}], "size": 1});
        assert_eq!(parse_attachment(&created).expect("id"), "att123");
        let updated = serde_json::json!({"id": "att123", "type": "attachment"});
        assert_eq!(parse_attachment(&updated).expect("id"), "att123");
        assert!(parse_attachment(&serde_json::json!({"results": []})).is_err());
    }
}
