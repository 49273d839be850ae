-- Image attachments (screenshots, photos) on issues.
--
-- Like log text, image bytes live in the encrypted, content-addressed blob
-- store; `attachment_blobs` records which of those blobs are images or
-- their thumbnails (the `blobs` table of 0002 keeps its log kinds). The
-- same image attached twice to one issue is one row; attached to two
-- issues it is two rows over one blob.
--
-- `cleared_at` is set when the engineer confirms that an image shows
-- nothing that must stay on this machine; until then it is never sent
-- anywhere (images cannot be scanned for personal data).

CREATE TABLE attachment_blobs (
    sha256      TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
    kind        TEXT NOT NULL CHECK (kind IN ('image', 'thumbnail')),
    plain_size  INTEGER NOT NULL CHECK (plain_size > 0),
    created_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE attachments (
    id            TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    issue_id      TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    mime_type     TEXT NOT NULL
                  CHECK (mime_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    size_bytes    INTEGER NOT NULL CHECK (size_bytes > 0),
    width         INTEGER NOT NULL CHECK (width > 0),
    height        INTEGER NOT NULL CHECK (height > 0),
    sha256        TEXT NOT NULL REFERENCES attachment_blobs (sha256),
    thumb_sha256  TEXT NOT NULL REFERENCES attachment_blobs (sha256),
    uploaded_at   TEXT NOT NULL,
    cleared_at    TEXT,
    UNIQUE (issue_id, sha256)
);
CREATE INDEX attachments_issue ON attachments (issue_id, uploaded_at, id);
CREATE INDEX attachments_sha256 ON attachments (sha256);
CREATE INDEX attachments_thumb ON attachments (thumb_sha256);
