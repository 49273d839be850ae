-- MCP servers TFTSR can call tools on, and what their last discovery found.

-- A configured server. Stdio servers are a command with arguments and
-- environment; HTTP servers a URL with an authentication method. Secrets (the
-- key or token, secret environment values) are encrypted with AES-256-GCM
-- (base64 of nonce || ciphertext || tag) under the credentials key; only the
-- last four characters are kept in clear, for display.
CREATE TABLE mcp_servers (
    id                 TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    name               TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    -- The sanitised name every tool key starts with; unique so that tool
    -- keys are unique across servers.
    key_prefix         TEXT NOT NULL UNIQUE CHECK (length(key_prefix) BETWEEN 1 AND 24),
    transport          TEXT NOT NULL CHECK (transport IN ('stdio', 'http')),
    command            TEXT NOT NULL DEFAULT '',
    args               TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(args) AND json_type(args) = 'array'),
    -- [{"name", "value"} | {"name", "secret": true, "value_enc", "hint"}]
    env                TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(env) AND json_type(env) = 'array'),
    url                TEXT NOT NULL DEFAULT '',
    auth               TEXT NOT NULL DEFAULT 'none'
                       CHECK (auth IN ('none', 'api_key', 'bearer', 'oauth2')),
    auth_header        TEXT NOT NULL DEFAULT '',
    secret_enc         TEXT,
    secret_hint        TEXT,
    enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    status             TEXT NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'connected', 'unreachable', 'error')),
    status_error       TEXT,
    last_discovered_at TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    CHECK ((secret_enc IS NULL) = (secret_hint IS NULL)),
    CHECK (transport = 'http' OR (length(command) > 0 AND auth = 'none')),
    CHECK (transport = 'stdio' OR length(url) > 0)
);

-- The tools of each server's last successful discovery, replaced as a whole.
CREATE TABLE mcp_tools (
    server_id     TEXT NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    -- The name the MCP server knows the tool by.
    name          TEXT NOT NULL,
    -- The name models call it by: prefix__name, [A-Za-z0-9_-]{1,64}.
    tool_key      TEXT NOT NULL CHECK (length(tool_key) BETWEEN 1 AND 64),
    description   TEXT NOT NULL DEFAULT '',
    input_schema  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(input_schema)),
    output_schema TEXT CHECK (output_schema IS NULL OR json_valid(output_schema)),
    annotations   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(annotations)),
    -- The position in the server's listing.
    position      INTEGER NOT NULL,
    PRIMARY KEY (server_id, name),
    UNIQUE (server_id, tool_key)
);
CREATE UNIQUE INDEX mcp_tools_key ON mcp_tools (tool_key);

-- The resources of each server's last successful discovery.
CREATE TABLE mcp_resources (
    server_id   TEXT NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    uri         TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    mime_type   TEXT,
    position    INTEGER NOT NULL,
    PRIMARY KEY (server_id, uri)
);
