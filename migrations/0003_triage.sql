-- AI providers and the 5-Whys triage: conversations, their messages and the
-- why-steps they record.

-- Configured model providers. The API key is encrypted with AES-256-GCM
-- (base64 of nonce || ciphertext || tag) under the credentials key; only its
-- last four characters are kept in clear, for display.
CREATE TABLE ai_providers (
    id             TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    name           TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    kind           TEXT NOT NULL
                   CHECK (kind IN ('builtin', 'openai', 'mistral', 'anthropic', 'gemini', 'ollama')),
    base_url       TEXT NOT NULL DEFAULT '',
    model          TEXT NOT NULL DEFAULT '',
    api_key_enc    TEXT,
    api_key_hint   TEXT,
    context_tokens INTEGER NOT NULL CHECK (context_tokens BETWEEN 1024 AND 10000000),
    is_default     INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CHECK ((api_key_enc IS NULL) = (api_key_hint IS NULL))
);
-- At most one default.
CREATE UNIQUE INDEX ai_providers_one_default ON ai_providers (is_default) WHERE is_default = 1;

-- One triage conversation per issue and provider choice; the issue page
-- resumes the newest.
CREATE TABLE ai_conversations (
    id              TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    issue_id        TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    -- The provider at the time; kept as a label too, so the conversation
    -- still reads after the provider is deleted.
    provider_id     TEXT REFERENCES ai_providers (id) ON DELETE SET NULL,
    provider_label  TEXT NOT NULL,
    model           TEXT NOT NULL DEFAULT '',
    -- The open why-question; empty once the root cause is identified.
    question        TEXT NOT NULL DEFAULT '',
    root_cause      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX ai_conversations_issue ON ai_conversations (issue_id, created_at DESC);

CREATE TABLE ai_messages (
    id                TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    conversation_id   TEXT NOT NULL REFERENCES ai_conversations (id) ON DELETE CASCADE,
    role              TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content           TEXT NOT NULL,
    tool_calls        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tool_calls)),
    -- Which provider answered (assistant messages).
    provider_label    TEXT NOT NULL DEFAULT '',
    prompt_tokens     INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    -- Set when the reply failed or was blocked; the content then says why.
    error             TEXT,
    created_at        TEXT NOT NULL
);
CREATE INDEX ai_messages_conversation ON ai_messages (conversation_id, created_at, id);

-- The 5 Whys of a conversation.
CREATE TABLE resolution_steps (
    id              TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 36),
    issue_id        TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES ai_conversations (id) ON DELETE CASCADE,
    step_order      INTEGER NOT NULL CHECK (step_order BETWEEN 1 AND 5),
    question        TEXT NOT NULL,
    answer          TEXT NOT NULL,
    evidence        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(evidence) AND json_type(evidence) = 'array'),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (conversation_id, step_order)
);
CREATE INDEX resolution_steps_issue ON resolution_steps (issue_id, step_order);
