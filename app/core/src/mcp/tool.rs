//! Tools and resources a discovery found, the keys models call tools by,
//! and the read-only rule.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::McpServerId;

/// Provider tool-calling APIs accept names of `[a-zA-Z0-9_-]{1,64}`.
pub const TOOL_KEY_MAX: usize = 64;

/// A tool of a server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpTool {
    pub server_id: McpServerId,
    /// The name the MCP server knows it by (sent in `tools/call`).
    pub name: String,
    /// The name the model calls it by: see [`assign_tool_keys`].
    pub key: String,
    pub description: String,
    /// The JSON Schema of its arguments (an object schema).
    pub input_schema: serde_json::Value,
    /// The JSON Schema of its structured result, when it declares one.
    pub output_schema: Option<serde_json::Value>,
    /// MCP's tool annotations (`readOnlyHint`, `destructiveHint`, ...), as
    /// sent; `{}` when none.
    pub annotations: serde_json::Value,
}

impl McpTool {
    /// Whether a call needs the user's confirmation first.
    pub fn needs_confirmation(&self) -> bool {
        needs_confirmation(&self.annotations)
    }

    /// The tool as the model sees it.
    pub fn to_tool_spec(&self) -> crate::ai::ToolSpec {
        crate::ai::ToolSpec {
            name: self.key.clone(),
            description: self.description.clone(),
            parameters: self.input_schema.clone(),
        }
    }
}

/// A resource of a server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpResource {
    pub server_id: McpServerId,
    pub uri: String,
    pub name: String,
    pub description: String,
    pub mime_type: Option<String>,
}

/// Only a tool that says it is read-only (`annotations.readOnlyHint` is
/// `true`) runs without the user's confirmation. Anything else — no
/// annotations, `false`, a string "true" — asks first: the hint is the
/// server's claim, and an absent claim must not be read as harmless.
pub fn needs_confirmation(annotations: &serde_json::Value) -> bool {
    annotations.get("readOnlyHint") != Some(&serde_json::Value::Bool(true))
}

/// Replaces every character outside `[A-Za-z0-9_-]` with `_`; an empty
/// result becomes `tool`.
pub fn sanitize(text: &str) -> String {
    let out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        "tool".to_owned()
    } else {
        out
    }
}

/// The keys of a server's tools, in the order given: `prefix__toolname`
/// sanitised and cut to [`TOOL_KEY_MAX`]; when two tools would share a key
/// (after sanitising or cutting), the later one gets `_2`, `_3`, ... The
/// same names in the same order always give the same keys.
pub fn assign_tool_keys(prefix: &str, tool_names: &[&str]) -> Vec<String> {
    let prefix = sanitize(prefix);
    let mut taken = HashSet::new();
    tool_names
        .iter()
        .map(|name| {
            let base: String = format!("{prefix}__{}", sanitize(name))
                .chars()
                .take(TOOL_KEY_MAX)
                .collect();
            let mut key = base.clone();
            let mut n = 2u32;
            while taken.contains(&key) {
                let suffix = format!("_{n}");
                let keep = TOOL_KEY_MAX - suffix.len();
                key = format!("{}{suffix}", &base[..base.len().min(keep)]);
                n += 1;
            }
            taken.insert(key.clone());
            key
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid_key(key: &str) -> bool {
        (1..=TOOL_KEY_MAX).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    #[test]
    fn keys_are_prefixed_and_sanitised() {
        let keys = assign_tool_keys("grafana", &["query_logs", "search.dashboards", "über"]);
        assert_eq!(
            keys,
            [
                "grafana__query_logs",
                "grafana__search_dashboards",
                "grafana___ber"
            ]
        );
    }

    #[test]
    fn collisions_get_numeric_suffixes_deterministically() {
        let names = ["a.b", "a_b", "a b", "a-b"];
        let keys = assign_tool_keys("s", &names);
        assert_eq!(keys, ["s__a_b", "s__a_b_2", "s__a_b_3", "s__a-b"]);
        assert_eq!(keys, assign_tool_keys("s", &names));
    }

    #[test]
    fn long_names_are_cut_and_still_unique() {
        let long_a = format!("{}a", "x".repeat(100));
        let long_b = format!("{}b", "x".repeat(100));
        let keys = assign_tool_keys("server", &[&long_a, &long_b, &long_a]);
        assert!(keys.iter().all(|k| valid_key(k)), "{keys:?}");
        let unique: HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), 3);
        assert!(keys[1].ends_with("_2"));
    }

    #[test]
    fn only_an_explicit_true_read_only_hint_skips_confirmation() {
        assert!(!needs_confirmation(&json!({"readOnlyHint": true})));
        assert!(needs_confirmation(&json!({"readOnlyHint": false})));
        assert!(needs_confirmation(&json!({"readOnlyHint": "true"})));
        assert!(needs_confirmation(&json!({})));
        assert!(needs_confirmation(&json!(null)));
        assert!(needs_confirmation(&json!({"destructiveHint": false})));
    }

    proptest::proptest! {
        #[test]
        fn keys_are_always_valid_and_unique(
            prefix in "[a-z0-9_]{1,24}",
            names in proptest::collection::vec(".{0,80}", 0..20),
        ) {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let keys = assign_tool_keys(&prefix, &refs);
            proptest::prop_assert_eq!(keys.len(), names.len());
            proptest::prop_assert!(keys.iter().all(|k| valid_key(k)));
            let unique: HashSet<_> = keys.iter().collect();
            proptest::prop_assert_eq!(unique.len(), keys.len());
        }
    }
}
