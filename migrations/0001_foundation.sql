-- TFTSR foundation schema: issues (with full-text search), their timelines,
-- the audit log and settings.
--
-- Conventions for every table:
--   * primary keys are UUID v7 text (36 characters);
--   * every timestamp is RFC 3339 UTC with milliseconds and a Z suffix, e.g.
--     2026-11-23T08:31:10.123Z, the format of strftime('%Y-%m-%dT%H:%M:%fZ');
--   * enumerations are lowercase text guarded by CHECK constraints;
--   * JSON columns are checked with json_valid().

CREATE TABLE issues (
    id           TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    -- FTS5 external content needs a stable integer key. The implicit rowid of
    -- a table without INTEGER PRIMARY KEY may change on VACUUM, so the search
    -- key is an explicit column, assigned by the store on insert.
    search_rowid INTEGER NOT NULL UNIQUE,
    title        TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 800),
    description  TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 80000),
    severity     TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    status       TEXT NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'investigating', 'resolved', 'closed')),
    domain       TEXT NOT NULL
                 CHECK (domain IN ('linux', 'windows', 'network', 'k8s', 'db', 'virt', 'hw', 'obs')),
    category     TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',
    assigned_to  TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    resolved_at  TEXT,
    CHECK ((status IN ('resolved', 'closed')) = (resolved_at IS NOT NULL))
);

-- The list is newest first, filtered by at most a few columns; keyset
-- pagination walks these indexes. Each also carries the other filter columns,
-- so a filtered page or count is answered from the index alone, without a
-- (decrypting) table lookup per row.
CREATE INDEX issues_created ON issues (created_at DESC, id DESC, status, severity, domain);
CREATE INDEX issues_status_created ON issues (status, created_at DESC, id DESC, severity, domain);
CREATE INDEX issues_severity_created ON issues (severity, created_at DESC, id DESC, status, domain);
CREATE INDEX issues_domain_created ON issues (domain, created_at DESC, id DESC, status, severity);
CREATE INDEX issues_resolved ON issues (resolved_at) WHERE resolved_at IS NOT NULL;

-- Full-text search over title, description and tags (prefix queries use the
-- 2- and 3-character prefix indexes).
CREATE VIRTUAL TABLE issues_fts USING fts5 (
    title, description, tags,
    content = 'issues',
    content_rowid = 'search_rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER issues_fts_insert AFTER INSERT ON issues BEGIN
    INSERT INTO issues_fts (rowid, title, description, tags)
    VALUES (new.search_rowid, new.title, new.description, new.tags);
END;

CREATE TRIGGER issues_fts_delete AFTER DELETE ON issues BEGIN
    INSERT INTO issues_fts (issues_fts, rowid, title, description, tags)
    VALUES ('delete', old.search_rowid, old.title, old.description, old.tags);
END;

CREATE TRIGGER issues_fts_update AFTER UPDATE OF title, description, tags ON issues BEGIN
    INSERT INTO issues_fts (issues_fts, rowid, title, description, tags)
    VALUES ('delete', old.search_rowid, old.title, old.description, old.tags);
    INSERT INTO issues_fts (rowid, title, description, tags)
    VALUES (new.search_rowid, new.title, new.description, new.tags);
END;

CREATE TABLE timeline_events (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    issue_id    TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL CHECK (length(event_type) BETWEEN 1 AND 64),
    description TEXT NOT NULL DEFAULT '',
    metadata    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    created_at  TEXT NOT NULL
);
CREATE INDEX timeline_events_issue ON timeline_events (issue_id, created_at, id);

-- Append-only: entries outlive the entities they describe (no foreign key),
-- and hold ids and hashes, never content.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    timestamp   TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
);
CREATE INDEX audit_log_timestamp ON audit_log (timestamp DESC, id DESC);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
