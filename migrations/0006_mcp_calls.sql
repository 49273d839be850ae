-- Calls to MCP servers made for an issue: tools the assistant asked for or
-- the engineer ran by hand, and resources read. The arguments are kept as
-- sent (they passed the PII gate) and the result as the model saw it
-- (redacted with the issue's pseudonyms); the original result is never
-- stored. Rows outlive the server (no foreign key), so the history of a
-- triage stays readable after a server is removed.
CREATE TABLE mcp_calls (
    id               TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    issue_id         TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    -- The conversation whose reply asked for the call (calls by the model).
    conversation_id  TEXT REFERENCES ai_conversations (id) ON DELETE CASCADE,
    -- The provider's id of the tool call, echoed back with its result.
    provider_call_id TEXT NOT NULL DEFAULT '',
    kind             TEXT NOT NULL CHECK (kind IN ('tool', 'resource')),
    origin           TEXT NOT NULL CHECK (origin IN ('model', 'user')),
    status           TEXT NOT NULL CHECK (status IN (
                         'awaiting_confirmation', 'running', 'done', 'tool_error',
                         'failed', 'declined')),
    server_id        TEXT NOT NULL CHECK (length(server_id) = 36),
    server_name      TEXT NOT NULL,
    -- The tool's name on its server, or the resource's URI.
    target           TEXT NOT NULL,
    tool_key         TEXT NOT NULL DEFAULT '',
    arguments        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(arguments)),
    arguments_sha256 TEXT NOT NULL DEFAULT '',
    result           TEXT,
    redacted         INTEGER NOT NULL DEFAULT 0 CHECK (redacted >= 0),
    error            TEXT,
    created_at       TEXT NOT NULL,
    finished_at      TEXT,
    CHECK ((status IN ('awaiting_confirmation', 'running')) = (finished_at IS NULL))
);
CREATE INDEX mcp_calls_issue ON mcp_calls (issue_id, created_at, id);
CREATE INDEX mcp_calls_open ON mcp_calls (status) WHERE status IN ('awaiting_confirmation', 'running');
