-- RCA and post-mortem documents, their saved versions, the action items
-- they commit to, and every export of them.

-- One document of each kind per issue; its content is Markdown.
CREATE TABLE documents (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    issue_id    TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    doc_type    TEXT NOT NULL CHECK (doc_type IN ('rca', 'post_mortem')),
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    content     TEXT NOT NULL CHECK (length(content) <= 1048576),
    -- Bumped by every save; an edit based on an older version is refused
    -- (another tab saved in between).
    version     INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (issue_id, doc_type)
);

-- Earlier contents people can look at and restore. Autosaves within a few
-- minutes of each other update the newest edit entry instead of adding one.
CREATE TABLE document_versions (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    -- The document's version this entry holds the content of.
    version     INTEGER NOT NULL CHECK (version >= 1),
    reason      TEXT NOT NULL CHECK (reason IN ('generated', 'edited', 'restored', 'redrafted')),
    title       TEXT NOT NULL,
    content     TEXT NOT NULL,
    saved_at    TEXT NOT NULL
);
CREATE INDEX document_versions_document ON document_versions (document_id, saved_at DESC, id DESC);

CREATE TABLE action_items (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    issue_id    TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    description TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
    owner       TEXT NOT NULL DEFAULT '' CHECK (length(owner) <= 100),
    -- YYYY-MM-DD, or none.
    due_date    TEXT CHECK (due_date IS NULL OR due_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    status      TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'wont_do')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX action_items_issue ON action_items (issue_id, created_at);
CREATE INDEX action_items_open ON action_items (status, due_date) WHERE status IN ('open', 'in_progress');

-- Every file made from a document: what, when, where to, and its hash.
CREATE TABLE export_history (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    issue_id    TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    format      TEXT NOT NULL CHECK (format IN ('markdown', 'pdf', 'docx')),
    -- The document version exported.
    version     INTEGER NOT NULL,
    size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    -- 'download' (the browser) or 'cli'.
    destination TEXT NOT NULL CHECK (destination IN ('download', 'cli')),
    exported_at TEXT NOT NULL
);
CREATE INDEX export_history_document ON export_history (document_id, exported_at DESC);
