-- Publishing to Confluence, ServiceNow and Azure DevOps: one settings row
-- and one credential per service, and every item published or created.

CREATE TABLE integration_config (
    service     TEXT PRIMARY KEY NOT NULL
                CHECK (service IN ('confluence', 'servicenow', 'azure_devops')),
    -- No trailing slash; Confluence Cloud's ends in /wiki.
    base_url    TEXT NOT NULL CHECK (length(base_url) BETWEEN 1 AND 500),
    -- Confluence: the space pages go to.
    space_key   TEXT NOT NULL DEFAULT '' CHECK (length(space_key) <= 255),
    -- Azure DevOps: the project work items go to.
    project     TEXT NOT NULL DEFAULT '' CHECK (length(project) <= 64),
    -- Confluence (Basic; empty for a Bearer token) and ServiceNow.
    username    TEXT NOT NULL DEFAULT '' CHECK (length(username) <= 255),
    -- Azure DevOps: Bug, Issue, Task, User Story…
    work_item_type TEXT NOT NULL DEFAULT '' CHECK (length(work_item_type) <= 128),
    auto_create_on_resolve INTEGER NOT NULL DEFAULT 0 CHECK (auto_create_on_resolve IN (0, 1)),
    enabled     INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    updated_at  TEXT NOT NULL
);

-- The token of each service, encrypted (base64 of nonce || AES-256-GCM
-- ciphertext || tag under the credentials key), and the SHA-256 of the
-- token, which audit entries cite so a send can be tied to a token
-- without the token being readable from the audit log.
CREATE TABLE credentials (
    service     TEXT PRIMARY KEY NOT NULL
                REFERENCES integration_config (service) ON DELETE CASCADE,
    token_enc   TEXT NOT NULL CHECK (length(token_enc) > 0),
    token_sha256 TEXT NOT NULL CHECK (length(token_sha256) = 64),
    updated_at  TEXT NOT NULL
);

-- What was published where. One row per (issue, document kind, service):
-- publishing a Confluence page again updates the page this row names; a
-- ServiceNow incident or Azure DevOps work item is created once per issue
-- (doc_type 'issue' when it was created on resolve, without a document).
CREATE TABLE publications (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    issue_id    TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    doc_type    TEXT NOT NULL CHECK (doc_type IN ('rca', 'post_mortem', 'issue')),
    service     TEXT NOT NULL CHECK (service IN ('confluence', 'servicenow', 'azure_devops')),
    remote_id   TEXT NOT NULL CHECK (length(remote_id) BETWEEN 1 AND 200),
    -- What people call it: the page title, INC0010001, #42.
    remote_label TEXT NOT NULL DEFAULT '' CHECK (length(remote_label) <= 300),
    remote_url  TEXT NOT NULL CHECK (length(remote_url) <= 2000),
    -- Confluence's page version after the publish.
    remote_version INTEGER,
    published_at TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL CHECK (length(payload_sha256) = 64),
    UNIQUE (issue_id, doc_type, service)
);
CREATE INDEX publications_issue ON publications (issue_id, published_at DESC);
