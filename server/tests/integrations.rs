//! Publishing to Confluence, ServiceNow and Azure DevOps against fake
//! servers on 127.0.0.1 that check every request (auth header, content
//! type, body shape) and answer like the real ones, errors included; on a
//! real encrypted database. Also: the PII gate stops a send before any
//! byte leaves, audit entries carry hashes and never the token, no error
//! message carries the token, and "Test connection" tells the cases apart.

mod common;
mod fake_remote;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::StepClock;
use common::web::{Harness, harness};
use fake_remote::Fake;
use sha2::{Digest, Sha256};
use tftsr_app::AppError;
use tftsr_app::services::{DocumentService, IntegrationService};
use tftsr_app::wire::PublicationView;
use tftsr_core::doc::DocumentKind;
use tftsr_core::publish::{ConnectionOutcome, IntegrationDraft, Service};
use tftsr_core::{Clock, IssueStatus, IssueStore};
use tftsr_server::credentials::Credentials;
use tftsr_server::integrations::Integrations;
use tftsr_server::providers::{ClientConfig, HttpClient};

const CONFLUENCE_TOKEN: &str = "ATATT3xFfGF0-confluence-CANARY-7f3a";
const SERVICENOW_TOKEN: &str = "snow-Passw0rd-CANARY-91b2";
const ADO_TOKEN: &str = "adopat-CANARY-5c8d0e1f2a3b";
const TOKENS: [&str; 3] = [CONFLUENCE_TOKEN, SERVICENOW_TOKEN, ADO_TOKEN];

const CLEAN_DOC: &str = "# RCA: Disk full on db-primary\n\n## Summary\n\nThe WAL volume filled up; \
writes stopped for 14 minutes. \"Quotes\" & <script>alert('x')</script> stay text; Zürich 東京.\n\n\
## Timeline\n\n| When | What |\n|---|---|\n| 09:14 | alert fired |\n\n```bash\necho ']]>' > /tmp/x\n```\n";

const PII_DOC: &str =
    "# RCA: Disk full\n\n## Summary\n\nAsk jane.doe@example.com; the host 10.20.30.40 filled up.\n";

fn basic(user: &str, token: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{token}")))
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

struct Setup {
    h: Harness,
    fake: Fake,
    integrations: Arc<Integrations>,
}

async fn setup() -> Setup {
    let h = harness();
    let fake = Fake::start(
        &basic("ops@acme.com", CONFLUENCE_TOKEN),
        &basic("svc.tftsr", SERVICENOW_TOKEN),
        &basic("", ADO_TOKEN),
    )
    .await;
    let clock: Arc<dyn Clock> = StepClock::new();
    let credentials = Credentials::load_or_create(&h.t.db, clock.now()).expect("credentials");
    let client = HttpClient::new(ClientConfig {
        connect_timeout: Duration::from_secs(2),
        use_env_proxy: false,
        ..ClientConfig::default()
    })
    .expect("client");
    let integrations = Arc::new(
        Integrations::new(
            h.t.db.clone(),
            h.logs.clone(),
            h.images.clone(),
            credentials,
            client,
            clock,
        )
        .with_timeout(Duration::from_secs(2)),
    );
    Setup {
        h,
        fake,
        integrations,
    }
}

impl Setup {
    async fn save(
        &self,
        service: Service,
        draft: IntegrationDraft,
    ) -> Result<tftsr_app::wire::IntegrationView, AppError> {
        let i = self.integrations.clone();
        tokio::task::spawn_blocking(move || i.save_integration(service, draft))
            .await
            .expect("join")
    }

    async fn configure_all(&self) {
        self.save(
            Service::Confluence,
            self.confluence("/wiki", Some(CONFLUENCE_TOKEN)),
        )
        .await
        .expect("confluence");
        self.save(
            Service::ServiceNow,
            self.servicenow("", Some(SERVICENOW_TOKEN), false),
        )
        .await
        .expect("servicenow");
        self.save(
            Service::AzureDevOps,
            self.ado("Site Ops", Some(ADO_TOKEN), false),
        )
        .await
        .expect("ado");
    }

    fn confluence(&self, prefix: &str, token: Option<&str>) -> IntegrationDraft {
        IntegrationDraft {
            base_url: self.fake.url(prefix),
            space_key: "OPS".into(),
            username: "ops@acme.com".into(),
            enabled: true,
            token: token.map(str::to_owned),
            ..Default::default()
        }
    }

    fn servicenow(&self, prefix: &str, token: Option<&str>, auto: bool) -> IntegrationDraft {
        IntegrationDraft {
            base_url: self.fake.url(prefix),
            username: "svc.tftsr".into(),
            enabled: true,
            auto_create_on_resolve: auto,
            token: token.map(str::to_owned),
            ..Default::default()
        }
    }

    fn ado(&self, project: &str, token: Option<&str>, auto: bool) -> IntegrationDraft {
        IntegrationDraft {
            base_url: self.fake.url("/acme"),
            project: project.into(),
            enabled: true,
            auto_create_on_resolve: auto,
            token: token.map(str::to_owned),
            ..Default::default()
        }
    }

    async fn document(&self, kind: DocumentKind, content: &str) {
        let docs: Arc<dyn DocumentService> = self.h.services.documents.clone();
        let (issue, content) = (self.h.issue, content.to_owned());
        tokio::task::spawn_blocking(move || {
            let view = docs.generate(issue, kind)?;
            docs.save(issue, kind, content, view.version)
        })
        .await
        .expect("join")
        .expect("document saved");
    }

    async fn publish(
        &self,
        kind: DocumentKind,
        service: Service,
    ) -> Result<PublicationView, AppError> {
        self.integrations.publish(self.h.issue, kind, service).await
    }

    fn audit(&self, action: &str) -> Vec<serde_json::Value> {
        self.h
            .t
            .db
            .recent_audit(200)
            .expect("audit")
            .into_iter()
            .filter(|e| e.action == action)
            .map(|e| e.details)
            .collect()
    }
}

fn assert_no_token(text: &str) {
    for token in TOKENS {
        assert!(!text.contains(token), "a token leaked into: {text}");
    }
    for (user, token) in [
        ("ops@acme.com", CONFLUENCE_TOKEN),
        ("svc.tftsr", SERVICENOW_TOKEN),
        ("", ADO_TOKEN),
    ] {
        let b = STANDARD.encode(format!("{user}:{token}"));
        assert!(!text.contains(&b), "a Basic credential leaked into: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confluence_page_is_created_then_updated_with_the_next_version() {
    let s = setup().await;
    s.configure_all().await;
    s.document(DocumentKind::Rca, CLEAN_DOC).await;

    let test = s
        .integrations
        .test_connection(Service::Confluence)
        .await
        .expect("test");
    assert_eq!(test.outcome, ConnectionOutcome::Ok, "{}", test.message);
    assert!(test.message.contains("Operations"), "{}", test.message);

    let first = s
        .publish(DocumentKind::Rca, Service::Confluence)
        .await
        .expect("published");
    assert_eq!(first.remote_version, Some(1));
    assert_eq!(first.remote_label, "RCA: Disk full on db-primary");
    assert_eq!(
        first.remote_url,
        s.fake
            .url(&format!("/wiki/spaces/OPS/pages/{}", first.remote_id))
    );
    let requests = s.fake.requests();
    // The test's GET, the title search, the create.
    assert_eq!(requests.len(), 3);
    let search = &requests[1];
    assert_eq!(search.method, "GET");
    assert_eq!(
        search.uri,
        "/wiki/rest/api/content?spaceKey=OPS&title=RCA%3A%20Disk%20full%20on%20db-primary&expand=version"
    );
    let create = &requests[2];
    assert_eq!(create.method, "POST");
    assert_eq!(create.uri, "/wiki/rest/api/content");
    assert_eq!(
        create.authorization.as_deref(),
        Some(basic("ops@acme.com", CONFLUENCE_TOKEN).as_str())
    );
    assert_eq!(create.content_type.as_deref(), Some("application/json"));
    let body = create.json();
    assert_eq!(body["type"], "page");
    assert_eq!(body["space"]["key"], "OPS");
    assert_eq!(body["metadata"]["labels"][0]["name"], "tftsr");
    let storage = body["body"]["storage"]["value"].as_str().expect("storage");
    assert!(!storage.contains("<h1>"), "the title is the page's title");
    assert!(storage.contains("<h2>Summary</h2>"));
    assert!(
        storage.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
        "{storage}"
    );
    assert!(!storage.contains("<script"));
    assert!(storage.contains("Zürich 東京"));
    assert!(storage.contains("<table><tbody><tr><th>When</th>"));
    assert!(storage.contains(
        "<ac:structured-macro ac:name=\"code\"><ac:parameter ac:name=\"language\">bash</ac:parameter><ac:plain-text-body><![CDATA[echo ']]]]><![CDATA[>' > /tmp/x]]></ac:plain-text-body></ac:structured-macro>"
    ), "{storage}");
    assert!(
        storage.contains(&format!("issue {}", s.h.issue)),
        "the page links the issue back"
    );

    // Edited and published again: the same page, version 2.
    let edited = CLEAN_DOC.replace("14 minutes", "15 minutes");
    let docs: Arc<dyn DocumentService> = s.h.services.documents.clone();
    let issue = s.h.issue;
    tokio::task::spawn_blocking(move || {
        let v = docs.document(issue, DocumentKind::Rca)?;
        docs.save(issue, DocumentKind::Rca, edited, v.version)
    })
    .await
    .expect("join")
    .expect("saved");
    let second = s
        .publish(DocumentKind::Rca, Service::Confluence)
        .await
        .expect("updated");
    assert_eq!(second.remote_id, first.remote_id);
    assert_eq!(second.remote_version, Some(2));
    let requests = s.fake.requests();
    assert_eq!(requests.len(), 5);
    assert_eq!(requests[3].method, "GET");
    assert_eq!(
        requests[3].uri,
        format!("/wiki/rest/api/content/{}?expand=version", first.remote_id)
    );
    assert_eq!(requests[4].method, "PUT");
    assert_eq!(
        requests[4].uri,
        format!("/wiki/rest/api/content/{}", first.remote_id)
    );
    assert_eq!(requests[4].json()["version"]["number"], 2);
    let page = s.fake.page(&first.remote_id).expect("page");
    assert_eq!(page.version, 2);
    assert!(page.storage.contains("15 minutes"));

    // Audited before each send, with hashes, never the token.
    let audits = s.audit("publish_to_confluence");
    assert_eq!(audits.len(), 2);
    for a in &audits {
        assert_eq!(a["service"], "confluence");
        assert_eq!(a["base_url"], s.fake.url("/wiki"));
        assert_eq!(a["issue_id"], s.h.issue.to_string());
        assert_eq!(a["document_kind"], "rca");
        assert_eq!(a["token_sha256"], sha256(CONFLUENCE_TOKEN));
        assert_eq!(a["payload_sha256"].as_str().map(str::len), Some(64));
        assert_no_token(&a.to_string());
    }
    let all_audit: String =
        s.h.t
            .db
            .recent_audit(500)
            .expect("audit")
            .iter()
            .map(|e| e.details.to_string())
            .collect();
    assert_no_token(&all_audit);
    let timeline = s.h.t.db.timeline(s.h.issue).expect("timeline");
    let published: Vec<_> = timeline
        .iter()
        .filter(|e| e.event_type == "published")
        .collect();
    assert_eq!(published.len(), 2);
    assert!(
        published[1].description.contains("page version 2"),
        "{}",
        published[1].description
    );

    // The document page's targets show the page.
    let targets = s
        .integrations
        .publish_targets(s.h.issue, DocumentKind::Rca)
        .expect("targets");
    assert_eq!(targets.len(), 3);
    let confluence = targets
        .iter()
        .find(|t| t.service == Service::Confluence)
        .expect("confluence");
    assert_eq!(
        confluence.existing.as_ref().and_then(|p| p.remote_version),
        Some(2)
    );
    let pm = s
        .integrations
        .publish_targets(s.h.issue, DocumentKind::PostMortem)
        .expect("targets");
    assert!(
        pm.iter()
            .find(|t| t.service == Service::Confluence)
            .expect("c")
            .existing
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_token_and_a_page_with_the_same_title_is_updated_not_duplicated() {
    let s = setup().await;
    s.fake.state.lock().expect("lock").confluence_auth = format!("Bearer {CONFLUENCE_TOKEN}");
    let draft = IntegrationDraft {
        username: String::new(),
        ..s.confluence("/wiki", Some(CONFLUENCE_TOKEN))
    };
    s.save(Service::Confluence, draft).await.expect("saved");
    let existing = s.fake.add_page("OPS", "RCA: Disk full on db-primary", 7);
    s.document(DocumentKind::Rca, CLEAN_DOC).await;
    let item = s
        .publish(DocumentKind::Rca, Service::Confluence)
        .await
        .expect("published");
    assert_eq!(item.remote_id, existing);
    assert_eq!(item.remote_version, Some(8));
    let put = s
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .expect("a PUT");
    assert_eq!(
        put.authorization.as_deref(),
        Some(format!("Bearer {CONFLUENCE_TOKEN}").as_str())
    );
    assert_eq!(put.json()["version"]["number"], 8);
    assert!(s.fake.requests().iter().all(|r| r.method != "POST"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servicenow_incident_is_created_once_with_urgency_from_severity() {
    let s = setup().await;
    s.configure_all().await;
    s.document(DocumentKind::PostMortem, CLEAN_DOC).await;
    let test = s
        .integrations
        .test_connection(Service::ServiceNow)
        .await
        .expect("test");
    assert_eq!(test.outcome, ConnectionOutcome::Ok, "{}", test.message);
    assert_eq!(
        s.fake.requests()[0].uri,
        "/api/now/table/incident?sysparm_limit=1&sysparm_fields=sys_id"
    );

    let item = s
        .publish(DocumentKind::PostMortem, Service::ServiceNow)
        .await
        .expect("created");
    assert_eq!(item.remote_label, "INC0010001");
    assert_eq!(
        item.remote_url,
        s.fake
            .url("/nav_to.do?uri=incident.do%3Fsys_id%3D46d44a5ea9fe198100bd2ae1b1cf8d01")
    );
    let post = s
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("post");
    assert_eq!(post.uri, "/api/now/table/incident");
    assert_eq!(
        post.authorization.as_deref(),
        Some(basic("svc.tftsr", SERVICENOW_TOKEN).as_str())
    );
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    let body = post.json();
    // The harness's issue is "high": impact 2, urgency 1 (P2).
    assert_eq!(body["impact"], "2");
    assert_eq!(body["urgency"], "1");
    assert_eq!(body["short_description"], "RCA: Disk full on db-primary");
    assert_eq!(body["correlation_id"], s.h.issue.to_string());
    let description = body["description"].as_str().expect("description");
    assert!(
        description.contains("<script>alert('x')</script>"),
        "plain text is sent as written"
    );
    assert!(description.ends_with(&format!(
        "Post-mortem of issue {} (Brute force on bastion).",
        s.h.issue
    )));

    // Once per issue: a second publish sends nothing and says where it is.
    let before = s.fake.requests().len();
    let again = s
        .publish(DocumentKind::PostMortem, Service::ServiceNow)
        .await
        .expect_err("once");
    assert!(
        matches!(&again, AppError::Conflict(m) if m.contains("INC0010001")),
        "{again:?}"
    );
    assert_eq!(s.fake.requests().len(), before);
    let audits = s.audit("publish_to_servicenow");
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0]["token_sha256"], sha256(SERVICENOW_TOKEN));
    assert_eq!(audits[0]["document_kind"], "post_mortem");
    assert_no_token(&audits[0].to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_azure_devops_work_item_is_a_json_patch_with_html() {
    let s = setup().await;
    s.configure_all().await;
    s.document(DocumentKind::Rca, CLEAN_DOC).await;
    let test = s
        .integrations
        .test_connection(Service::AzureDevOps)
        .await
        .expect("test");
    assert_eq!(test.outcome, ConnectionOutcome::Ok, "{}", test.message);
    assert_eq!(
        s.fake.requests()[0].uri,
        "/acme/_apis/projects/Site%20Ops?api-version=7.1"
    );

    let item = s
        .publish(DocumentKind::Rca, Service::AzureDevOps)
        .await
        .expect("created");
    assert_eq!(item.remote_label, "#42");
    assert_eq!(
        item.remote_url,
        s.fake.url("/acme/Site%20Ops/_workitems/edit/42")
    );
    let post = s
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("post");
    assert_eq!(
        post.uri,
        "/acme/Site%20Ops/_apis/wit/workitems/$Bug?api-version=7.1"
    );
    assert_eq!(
        post.authorization.as_deref(),
        Some(basic("", ADO_TOKEN).as_str())
    );
    assert_eq!(
        post.content_type.as_deref(),
        Some("application/json-patch+json")
    );
    let ops = post.json();
    let ops = ops.as_array().expect("a JSON Patch array");
    assert!(ops.iter().all(|op| op["op"] == "add"));
    let field = |name: &str| {
        ops.iter()
            .find(|op| op["path"] == format!("/fields/{name}"))
            .map(|op| op["value"].clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(field("System.Title"), "RCA: Disk full on db-primary");
    assert_eq!(field("Microsoft.VSTS.Common.Priority"), 2);
    assert_eq!(field("Microsoft.VSTS.Common.Severity"), "2 - High");
    assert_eq!(field("System.Tags"), format!("TFTSR; tftsr-{}", s.h.issue));
    let html = field("System.Description");
    let html = html.as_str().expect("html");
    assert!(
        html.contains("<pre><code>echo &#39;]]&gt;&#39; &gt; /tmp/x</code></pre>"),
        "{html}"
    );
    assert!(!html.contains("<script"));
    assert_eq!(field("Microsoft.VSTS.TCM.ReproSteps").as_str(), Some(html));
    let audits = s.audit("publish_to_azure_devops");
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0]["token_sha256"], sha256(ADO_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreviewed_personal_data_blocks_every_publish_before_anything_is_sent() {
    let s = setup().await;
    s.configure_all().await;
    s.document(DocumentKind::Rca, PII_DOC).await;
    for service in Service::ALL {
        let e = s
            .publish(DocumentKind::Rca, service)
            .await
            .expect_err("blocked");
        let AppError::Conflict(message) = &e else {
            panic!("{e:?}");
        };
        assert!(
            message.starts_with(&format!("Not sent to {}", service.label())),
            "{message}"
        );
        assert!(
            message.contains("EMAIL") && message.contains("IPV4"),
            "{message}"
        );
        assert!(
            !message.contains("jane.doe") && !message.contains("10.20.30.40"),
            "{message}"
        );
    }
    assert!(
        s.fake.requests().is_empty(),
        "nothing reached any server: {:?}",
        s.fake.requests()
    );
    for action in [
        "publish_to_confluence",
        "publish_to_servicenow",
        "publish_to_azure_devops",
    ] {
        assert!(
            s.audit(action).is_empty(),
            "{action} written for a blocked send"
        );
    }
    assert!(s.h.t.db.publications(s.h.issue).expect("rows").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_errors_are_clear_and_never_carry_the_token() {
    let s = setup().await;
    s.document(DocumentKind::Rca, CLEAN_DOC).await;

    // Wrong credentials: each service's 401 body is quoted.
    s.save(
        Service::Confluence,
        s.confluence("/wiki", Some("wrong-CANARY-token")),
    )
    .await
    .expect("saved");
    s.save(
        Service::ServiceNow,
        s.servicenow("", Some("wrong-CANARY-token"), false),
    )
    .await
    .expect("saved");
    s.save(
        Service::AzureDevOps,
        s.ado("Site Ops", Some("wrong-CANARY-token"), false),
    )
    .await
    .expect("saved");
    for (service, said) in [
        (Service::Confluence, "Client must be authenticated"),
        (
            Service::ServiceNow,
            "User Not Authenticated: Required to provide Auth information",
        ),
        (Service::AzureDevOps, "TF400813"),
    ] {
        let test = s.integrations.test_connection(service).await.expect("test");
        assert_eq!(
            test.outcome,
            ConnectionOutcome::AuthRefused,
            "{service:?}: {}",
            test.message
        );
        assert!(
            test.message.contains("401") && test.message.contains(said),
            "{}",
            test.message
        );
        let e = s
            .publish(DocumentKind::Rca, service)
            .await
            .expect_err("refused");
        assert!(e.to_string().contains("refused the credentials"), "{e}");
        assert!(!e.to_string().contains("wrong-CANARY-token"));
    }

    // Not found: a space and a project that do not exist.
    let mut draft = s.confluence("/wiki", Some(CONFLUENCE_TOKEN));
    draft.space_key = "NOPE".into();
    s.save(Service::Confluence, draft).await.expect("saved");
    let test = s
        .integrations
        .test_connection(Service::Confluence)
        .await
        .expect("test");
    assert_eq!(test.outcome, ConnectionOutcome::NotFound);
    assert!(
        test.message.contains("space NOPE")
            && test.message.contains("No space found with key : NOPE"),
        "{}",
        test.message
    );
    s.save(Service::AzureDevOps, s.ado("Nope", Some(ADO_TOKEN), false))
        .await
        .expect("saved");
    let test = s
        .integrations
        .test_connection(Service::AzureDevOps)
        .await
        .expect("test");
    assert_eq!(test.outcome, ConnectionOutcome::NotFound);
    assert!(test.message.contains("TF200016"), "{}", test.message);

    // A work item type the project lacks: 404 with ADO's message.
    let mut draft = s.ado("Site Ops", None, false);
    draft.work_item_type = "Epic".into();
    s.save(Service::AzureDevOps, draft).await.expect("saved");
    let e = s
        .publish(DocumentKind::Rca, Service::AzureDevOps)
        .await
        .expect_err("no such type");
    assert!(
        matches!(&e, AppError::NotFound(m) if m.contains("TF201036")),
        "{e:?}"
    );

    // A login page instead of the API.
    s.save(
        Service::ServiceNow,
        s.servicenow("/html", Some(SERVICENOW_TOKEN), false),
    )
    .await
    .expect("saved");
    let test = s
        .integrations
        .test_connection(Service::ServiceNow)
        .await
        .expect("test");
    assert_eq!(
        test.outcome,
        ConnectionOutcome::Malformed,
        "{}",
        test.message
    );
    assert!(test.message.contains("not JSON"), "{}", test.message);

    // A server that echoes the credentials it got.
    s.save(
        Service::Confluence,
        s.confluence("/echo/wiki", Some(CONFLUENCE_TOKEN)),
    )
    .await
    .expect("saved");
    let test = s
        .integrations
        .test_connection(Service::Confluence)
        .await
        .expect("test");
    assert_eq!(test.outcome, ConnectionOutcome::AuthRefused);
    assert!(
        test.message.contains("Bad credentials: Basic *****"),
        "{}",
        test.message
    );
    let e = s
        .publish(DocumentKind::Rca, Service::Confluence)
        .await
        .expect_err("refused");
    assert_no_token(&e.to_string());

    // Silence past the deadline, and nobody listening.
    s.save(Service::Confluence, s.confluence("/slow/wiki", None))
        .await
        .expect("saved");
    let test = s
        .integrations
        .test_connection(Service::Confluence)
        .await
        .expect("test");
    assert_eq!(test.outcome, ConnectionOutcome::Unreachable);
    assert!(
        test.message.contains("did not answer within 2 s"),
        "{}",
        test.message
    );
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let mut draft = s.servicenow("", None, false);
    draft.base_url = dead;
    s.save(Service::ServiceNow, draft).await.expect("saved");
    let test = s
        .integrations
        .test_connection(Service::ServiceNow)
        .await
        .expect("test");
    assert_eq!(test.outcome, ConnectionOutcome::Unreachable);
    assert!(
        test.message
            .starts_with("Could not reach ServiceNow at 127.0.0.1:"),
        "{}",
        test.message
    );

    for r in s.fake.requests() {
        assert!(r.authorization.is_some(), "every request is authenticated");
    }
    let all_audit: String =
        s.h.t
            .db
            .recent_audit(500)
            .expect("audit")
            .iter()
            .map(|e| e.details.to_string())
            .collect();
    assert_no_token(&all_audit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_and_server_errors_quote_the_remote() {
    let s = setup().await;
    s.document(DocumentKind::Rca, CLEAN_DOC).await;
    s.save(
        Service::Confluence,
        s.confluence("/reject/wiki", Some(CONFLUENCE_TOKEN)),
    )
    .await
    .expect("saved");
    s.save(
        Service::ServiceNow,
        s.servicenow("/reject", Some(SERVICENOW_TOKEN), false),
    )
    .await
    .expect("saved");
    let mut ado = s.ado("Site Ops", Some(ADO_TOKEN), false);
    ado.base_url = s.fake.url("/reject/acme");
    s.save(Service::AzureDevOps, ado).await.expect("saved");
    for (service, said) in [
        (
            Service::Confluence,
            "Confluence said: \u{201C}Error parsing xhtml",
        ),
        (
            Service::ServiceNow,
            "ServiceNow said: \u{201C}Operation Failed: Data Policy Exception: Short description is mandatory",
        ),
        (
            Service::AzureDevOps,
            "Azure DevOps said: \u{201C}TF401320: Rule Error for field Area Path",
        ),
    ] {
        let e = s
            .publish(DocumentKind::Rca, service)
            .await
            .expect_err("rejected");
        let AppError::BadRequest(message) = &e else {
            panic!("{e:?}");
        };
        assert!(
            message.contains("refused the request (400)") && message.contains(said),
            "{message}"
        );
        assert_no_token(message);
    }
    s.save(Service::ServiceNow, s.servicenow("/fail", None, false))
        .await
        .expect("saved");
    let e = s
        .publish(DocumentKind::Rca, Service::ServiceNow)
        .await
        .expect_err("down");
    assert!(
        matches!(&e, AppError::Unavailable(m) if m.contains("server error (503)") && m.contains("hibernating")),
        "{e:?}"
    );
    let test = s
        .integrations
        .test_connection(Service::ServiceNow)
        .await
        .expect("test");
    assert_eq!(test.outcome, ConnectionOutcome::Failed);
    // Failed sends were audited (they left), and recorded nothing else.
    assert_eq!(s.audit("publish_to_servicenow").len(), 2);
    assert!(s.h.t.db.publications(s.h.issue).expect("rows").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_write_only_encrypted_and_validated_by_field() {
    let s = setup().await;
    let view = s
        .save(
            Service::ServiceNow,
            s.servicenow("", Some(SERVICENOW_TOKEN), true),
        )
        .await
        .expect("saved");
    assert!(view.token_set);
    assert!(view.auto_create_on_resolve);
    let wire = serde_json::to_string(&view).expect("json");
    assert_no_token(&wire);
    let listed = s.integrations.integrations().expect("list");
    assert_eq!(
        listed.iter().map(|i| i.service).collect::<Vec<_>>(),
        Service::ALL
    );
    assert!(
        listed[0].updated_at.is_none(),
        "Confluence is not configured"
    );
    assert_no_token(&serde_json::to_string(&listed).expect("json"));
    let stored =
        s.h.t
            .db
            .integration_token(Service::ServiceNow)
            .expect("row")
            .expect("token");
    assert!(!stored.encrypted.contains(SERVICENOW_TOKEN));
    assert_eq!(stored.sha256, sha256(SERVICENOW_TOKEN));

    // Saving without a token keeps it; ticking "remove" clears it, which
    // an enabled integration refuses.
    let kept = s
        .save(Service::ServiceNow, s.servicenow("", None, true))
        .await
        .expect("kept");
    assert!(kept.token_set);
    let e = s
        .save(Service::ServiceNow, s.servicenow("", Some(""), true))
        .await
        .expect_err("needs a token");
    assert!(e.field("token").is_some(), "{e:?}");
    let mut off = s.servicenow("", Some(""), false);
    off.enabled = false;
    let cleared = s.save(Service::ServiceNow, off).await.expect("cleared");
    assert!(!cleared.token_set);

    // Every bad field at once, by name.
    let e = s
        .save(
            Service::Confluence,
            IntegrationDraft {
                base_url: "https://user:pw@acme.atlassian.net".into(),
                space_key: "O PS".into(),
                enabled: true,
                auto_create_on_resolve: true,
                ..Default::default()
            },
        )
        .await
        .expect_err("invalid");
    for field in ["base_url", "space_key", "token", "auto_create_on_resolve"] {
        assert!(e.field(field).is_some(), "{field}: {e:?}");
    }
    let saved = s.audit("integration_saved");
    assert_eq!(saved.len(), 3);
    assert_eq!(saved.iter().filter(|a| a["token"] == "replaced").count(), 1);
    assert_eq!(saved.iter().filter(|a| a["token"] == "cleared").count(), 1);
    let all_audit: String =
        s.h.t
            .db
            .recent_audit(500)
            .expect("audit")
            .iter()
            .map(|e| e.details.to_string())
            .collect();
    assert_no_token(&all_audit);

    // Publishing to a service that is off or not set up says so.
    let e = s
        .publish(DocumentKind::Rca, Service::AzureDevOps)
        .await
        .expect_err("not set up");
    assert!(e.to_string().contains("not set up"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_show_a_stored_token_as_set_and_never_send_it() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use common::web::{HOST, TOKEN, body_bytes, send};
    use tftsr_server::security::SESSION_COOKIE;

    let s = setup().await;
    s.configure_all().await;
    s.document(DocumentKind::Rca, CLEAN_DOC).await;
    let get = |path: String| {
        Request::get(path)
            .header(header::HOST, HOST)
            .header(header::COOKIE, format!("{SESSION_COOKIE}={TOKEN}"))
            .body(Body::empty())
            .expect("request")
    };
    let res = send(&s.h.app, get("/settings/integrations".into())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = String::from_utf8(body_bytes(res).await).expect("utf-8");
    for key in ["confluence", "servicenow", "azure_devops"] {
        assert!(
            html.contains(&format!("data-testid=\"integration-{key}\"")),
            "{key}"
        );
    }
    assert_eq!(
        html.matches("Token: stored (set)").count(),
        3,
        "every form says its token is set"
    );
    assert!(html.contains(&s.fake.url("/wiki")), "the address is shown");
    assert_no_token(&html);
    let res = send(
        &s.h.app,
        get(format!("/issues/{}/documents/rca", s.h.issue)),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = String::from_utf8(body_bytes(res).await).expect("utf-8");
    for key in ["confluence", "servicenow", "azure_devops"] {
        assert!(
            html.contains(&format!("data-testid=\"publish-{key}\"")),
            "{key} button"
        );
    }
    assert_no_token(&html);
    let res = send(&s.h.app, get("/settings".into())).await;
    let html = String::from_utf8(body_bytes(res).await).expect("utf-8");
    assert!(html.contains("href=\"/settings/integrations\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_an_issue_files_the_items_and_records_failures_on_the_timeline() {
    let s = setup().await;
    s.save(
        Service::ServiceNow,
        s.servicenow("", Some(SERVICENOW_TOKEN), true),
    )
    .await
    .expect("saved");
    // A project that does not exist: the work item fails.
    s.save(Service::AzureDevOps, s.ado("Gone", Some(ADO_TOKEN), true))
        .await
        .expect("saved");
    let resolved =
        s.h.t
            .tracker
            .set_status(s.h.issue, IssueStatus::Resolved)
            .expect("resolved");
    assert_eq!(resolved.status, IssueStatus::Resolved);
    s.integrations.issue_resolved(s.h.issue).await;

    let rows = s.h.t.db.publications(s.h.issue).expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].service, Service::ServiceNow);
    assert_eq!(rows[0].doc_type, "issue");
    let incident = s.fake.state.lock().expect("lock").incidents[0].clone();
    assert_eq!(incident["short_description"], "Brute force on bastion");
    assert!(
        incident["description"]
            .as_str()
            .expect("text")
            .contains("was resolved")
    );
    let timeline = s.h.t.db.timeline(s.h.issue).expect("timeline");
    let failed: Vec<_> = timeline
        .iter()
        .filter(|e| e.event_type == "publish_failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].description.contains("Azure DevOps")
            && failed[0].description.contains("TF200016"),
        "{}",
        failed[0].description
    );
    assert_no_token(&failed[0].description);
    assert!(timeline.iter().any(|e| e.event_type == "published"));
    assert_eq!(
        s.audit("publish_to_servicenow")[0]["document_kind"],
        "issue"
    );

    // Resolving again files nothing twice.
    let before = s.fake.state.lock().expect("lock").incidents.len();
    s.integrations.issue_resolved(s.h.issue).await;
    assert_eq!(s.fake.state.lock().expect("lock").incidents.len(), before);
    assert_eq!(
        s.h.t.tracker.get(s.h.issue).expect("issue").status,
        IssueStatus::Resolved
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleared_images_go_out_without_metadata_and_the_rest_stay_here() {
    use common::imagegen::{GPS_TEXT, SECRET_TEXT, contains, jpeg_with_exif, png_with_text};
    let s = setup().await;
    s.configure_all().await;
    s.document(DocumentKind::Rca, CLEAN_DOC).await;
    let png = png_with_text(64, 32);
    let jpeg = jpeg_with_exif(48, 24);
    let other = png_with_text(16, 16);
    let (images, issue) = (s.h.images.clone(), s.h.issue);
    let add = |name: &'static str, bytes: Vec<u8>| {
        let images = images.clone();
        async move {
            tokio::task::spawn_blocking(move || images.add(issue, name, &bytes))
                .await
                .expect("join")
                .expect("added")
                .id
        }
    };
    let grafana = add("grafana cpu.png", png.clone()).await;
    let photo = add("rack photo.jpg", jpeg.clone()).await;
    let _unchecked = add("unchecked.png", other).await;
    let clear = |id| {
        let images = s.h.images.clone();
        async move {
            tokio::task::spawn_blocking(move || images.set_cleared(issue, id, true))
                .await
                .expect("join")
                .expect("cleared")
        }
    };
    clear(grafana).await;
    clear(photo).await;

    // Confluence: the page shows the images from its attachments; both go
    // up without their metadata; the unchecked one stays here.
    let page = s
        .publish(DocumentKind::Rca, Service::Confluence)
        .await
        .expect("published");
    let stored = s.fake.page(&page.remote_id).expect("page");
    assert!(
        stored
            .storage
            .contains("<ri:attachment ri:filename=\"grafana cpu.png\" />")
    );
    assert!(stored.storage.contains("ri:filename=\"rack photo.jpg\""));
    assert!(!stored.storage.contains("unchecked"));
    let sent = s.fake.attachments();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent.iter()
            .all(|a| a.service == "confluence" && a.parent == page.remote_id)
    );
    let png_sent = sent
        .iter()
        .find(|a| a.file_name == "grafana cpu.png")
        .expect("png");
    assert_eq!(png_sent.content_type, "image/png");
    assert!(
        !contains(&png_sent.bytes, SECRET_TEXT),
        "PNG text chunk removed"
    );
    let decoded = image::load_from_memory(&png_sent.bytes).expect("still a PNG");
    assert_eq!((decoded.width(), decoded.height()), (64, 32));
    let jpeg_sent = sent
        .iter()
        .find(|a| a.file_name == "rack photo.jpg")
        .expect("jpeg");
    assert!(!contains(&jpeg_sent.bytes, GPS_TEXT), "EXIF removed");
    assert!(image::load_from_memory(&jpeg_sent.bytes).is_ok());
    let audit = s.audit("publish_to_confluence");
    let listed = audit[0]["images"].as_array().expect("images in the audit");
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|i| i["attachment_id"] == grafana.to_string()
                && i["sent_sha256"] == hex::encode(Sha256::digest(&png_sent.bytes)))
    );

    // ServiceNow: attached to the incident it just created.
    let incident = s
        .publish(DocumentKind::Rca, Service::ServiceNow)
        .await
        .expect("created");
    let snow: Vec<_> = s
        .fake
        .attachments()
        .into_iter()
        .filter(|a| a.service == "servicenow")
        .collect();
    assert_eq!(snow.len(), 2);
    assert!(snow.iter().all(|a| a.parent == incident.remote_id));
    assert!(
        snow.iter()
            .any(|a| a.content_type == "image/jpeg" && a.file_name == "rack photo.jpg")
    );

    // Azure DevOps: uploaded first, then linked by the work item it creates.
    s.publish(DocumentKind::Rca, Service::AzureDevOps)
        .await
        .expect("created");
    let uploads: Vec<_> = s
        .fake
        .attachments()
        .into_iter()
        .filter(|a| a.service == "azure_devops")
        .collect();
    assert_eq!(uploads.len(), 2);
    let item = s.fake.work_items().pop().expect("work item");
    let relations = item["relations"].as_array().expect("relations");
    assert_eq!(relations.len(), 2);
    for upload in &uploads {
        assert!(relations.iter().any(|r| r["url"] == upload.url.as_str()));
        assert!(!contains(&upload.bytes, SECRET_TEXT) && !contains(&upload.bytes, GPS_TEXT));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_name_with_personal_data_stops_the_publish() {
    use common::imagegen::png_with_text;
    let s = setup().await;
    s.configure_all().await;
    s.document(DocumentKind::Rca, CLEAN_DOC).await;
    let (images, issue) = (s.h.images.clone(), s.h.issue);
    tokio::task::spawn_blocking(move || {
        let id = images
            .add(
                issue,
                "receipt 4111 1111 1111 1111.png",
                &png_with_text(8, 8),
            )
            .expect("added")
            .id;
        images.set_cleared(issue, id, true).expect("cleared");
    })
    .await
    .expect("join");
    let before = s.fake.requests().len();
    let err = s
        .publish(DocumentKind::Rca, Service::Confluence)
        .await
        .expect_err("gated");
    // Names are made safe for file systems (no `@` or dots), but digits
    // survive: a card number in a name is stopped like one in the text.
    assert!(
        err.to_string().starts_with("Not sent to Confluence"),
        "{err}"
    );
    assert!(err.to_string().contains("CREDIT_CARD"), "{err}");
    assert_eq!(s.fake.requests().len(), before, "nothing was sent");
    assert!(s.fake.attachments().is_empty());
}
