-- Log files, their findings and their review.
--
-- Content lives outside the database in encrypted, content-addressed blobs
-- (see docs/Database.md); `blobs` records which exist. Offsets are byte
-- offsets into the file's decoded UTF-8 text.

CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
    kind        TEXT NOT NULL CHECK (kind IN ('log_text', 'log_redacted')),
    plain_size  INTEGER NOT NULL CHECK (plain_size >= 0),
    created_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE log_files (
    id                 TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    issue_id           TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    name               TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    size_bytes         INTEGER NOT NULL CHECK (size_bytes >= 0),
    mime_type          TEXT NOT NULL,
    sha256             TEXT NOT NULL CHECK (length(sha256) = 64),
    state              TEXT NOT NULL
                       CHECK (state IN ('scanning', 'review', 'redacted', 'failed')),
    error              TEXT,
    encoding           TEXT CHECK (encoding IN ('utf-8', 'utf-16le', 'utf-16be', 'windows-1252')),
    compressed         INTEGER NOT NULL DEFAULT 0 CHECK (compressed IN (0, 1)),
    text_blob          TEXT REFERENCES blobs (sha256),
    text_bytes         INTEGER,
    line_count         INTEGER,
    replaced_sequences INTEGER NOT NULL DEFAULT 0,
    redacted           INTEGER NOT NULL DEFAULT 0 CHECK (redacted IN (0, 1)),
    redacted_blob      TEXT REFERENCES blobs (sha256),
    uploaded_at        TEXT NOT NULL,
    scanned_at         TEXT,
    redacted_at        TEXT,
    CHECK ((state = 'redacted') = (redacted = 1 AND redacted_blob IS NOT NULL)),
    CHECK (state NOT IN ('review', 'redacted') OR text_blob IS NOT NULL),
    CHECK ((state = 'failed') = (error IS NOT NULL))
);
CREATE INDEX log_files_issue ON log_files (issue_id, uploaded_at, id);
CREATE INDEX log_files_text_blob ON log_files (text_blob);
CREATE INDEX log_files_redacted_blob ON log_files (redacted_blob);

-- Page table of each file's text, for the paged viewer.
CREATE TABLE log_pages (
    log_file_id  TEXT NOT NULL REFERENCES log_files (id) ON DELETE CASCADE,
    page         INTEGER NOT NULL CHECK (page >= 0),
    start_byte   INTEGER NOT NULL,
    end_byte     INTEGER NOT NULL CHECK (end_byte >= start_byte),
    first_line   INTEGER NOT NULL CHECK (first_line >= 1),
    PRIMARY KEY (log_file_id, page)
) WITHOUT ROWID;

CREATE TABLE pii_spans (
    id           INTEGER PRIMARY KEY,
    log_file_id  TEXT NOT NULL REFERENCES log_files (id) ON DELETE CASCADE,
    pii_type     TEXT NOT NULL CHECK (pii_type IN ('IPV4', 'IPV6', 'EMAIL', 'PHONE', 'SSN',
                     'CREDIT_CARD', 'MAC_ADDRESS', 'JWT', 'BEARER_TOKEN', 'API_KEY', 'PASSWORD',
                     'URL_TOKEN', 'PRIVATE_KEY', 'HOSTNAME', 'USERNAME')),
    start_byte   INTEGER NOT NULL CHECK (start_byte >= 0),
    end_byte     INTEGER NOT NULL CHECK (end_byte > start_byte),
    line         INTEGER NOT NULL CHECK (line >= 1),
    value        TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('detected', 'manual')),
    decision     TEXT NOT NULL DEFAULT 'pending'
                 CHECK (decision IN ('pending', 'approved', 'rejected')),
    decided_at   TEXT
);
CREATE INDEX pii_spans_position ON pii_spans (log_file_id, start_byte);
-- Covering for the review panel's grouping by type and value.
CREATE INDEX pii_spans_value ON pii_spans (log_file_id, pii_type, value, decision, line);
-- Counting findings by decision without visiting the others.
CREATE INDEX pii_spans_decision ON pii_spans (log_file_id, decision);

-- The issue's placeholder numbering (a serialised PseudonymMap): the same
-- value is the same placeholder in every log of the issue, and answers can be
-- re-identified locally.
CREATE TABLE issue_pseudonyms (
    issue_id    TEXT PRIMARY KEY NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    map         TEXT NOT NULL CHECK (json_valid(map)),
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
