//! A tiny JSON Schema → form model, for running a tool by hand: each
//! top-level property of the tool's input schema becomes a field (text,
//! number, integer, checkbox or choice; anything richer is a JSON text
//! field), and the submitted text values are checked and assembled into the
//! JSON object the tool is called with.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What kind of input a field is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldKind {
    Text {
        min_length: Option<u64>,
        max_length: Option<u64>,
    },
    Number {
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Integer {
        minimum: Option<i64>,
        maximum: Option<i64>,
    },
    Boolean,
    /// One of fixed values (`enum`), shown by their JSON text.
    Choice {
        options: Vec<Value>,
    },
    /// Objects, arrays, unions: the user writes JSON.
    Json,
}

/// One input of the form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    /// The property name (the key in the arguments object).
    pub name: String,
    /// `title`, or the name.
    pub label: String,
    pub description: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The schema's `default`, to prefill.
    pub default: Option<Value>,
}

/// The form of one tool.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolForm {
    pub fields: Vec<FormField>,
}

/// How a choice value is written in the form.
pub fn option_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn schema_type(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        // ["string", "null"]: the nullable form of one type.
        Some(Value::Array(types)) => {
            let non_null: Vec<&str> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            match non_null.as_slice() {
                [one] => Some(one),
                _ => None,
            }
        }
        _ => None,
    }
}

fn field_kind(schema: &Value) -> FieldKind {
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.is_empty()
    {
        return FieldKind::Choice {
            options: options.clone(),
        };
    }
    let u = |k: &str| schema.get(k).and_then(Value::as_u64);
    let f = |k: &str| schema.get(k).and_then(Value::as_f64);
    let i = |k: &str| schema.get(k).and_then(Value::as_i64);
    match schema_type(schema) {
        Some("string") => FieldKind::Text {
            min_length: u("minLength"),
            max_length: u("maxLength"),
        },
        Some("number") => FieldKind::Number {
            minimum: f("minimum"),
            maximum: f("maximum"),
        },
        Some("integer") => FieldKind::Integer {
            minimum: i("minimum"),
            maximum: i("maximum"),
        },
        Some("boolean") => FieldKind::Boolean,
        _ => FieldKind::Json,
    }
}

impl ToolForm {
    /// The form for an input schema: required properties first, in the
    /// order `required` lists them, then the others by name (a parsed
    /// schema object does not keep its properties' order).
    pub fn from_schema(schema: &Value) -> Self {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return Self::default();
        };
        let mut ordered: Vec<(&String, &Value)> = required
            .iter()
            .filter_map(|r| properties.get_key_value(*r))
            .collect();
        ordered.extend(
            properties
                .iter()
                .filter(|(name, _)| !required.contains(&name.as_str())),
        );
        let fields = ordered
            .into_iter()
            .map(|(name, prop)| {
                let text = |k: &str| prop.get(k).and_then(Value::as_str).map(str::to_owned);
                FormField {
                    name: name.clone(),
                    label: text("title").unwrap_or_else(|| name.clone()),
                    description: text("description").unwrap_or_default(),
                    kind: field_kind(prop),
                    required: required.contains(&name.as_str()),
                    default: prop.get("default").cloned(),
                }
            })
            .collect();
        Self { fields }
    }

    /// Checks the submitted values (`(field name, text)`; a checkbox that is
    /// off may be absent) and builds the arguments object. Empty optional
    /// fields are left out. Errors are `(field name, message)` pairs.
    pub fn values(
        &self,
        submitted: &[(String, String)],
    ) -> Result<Map<String, Value>, Vec<(String, String)>> {
        let mut out = Map::new();
        let mut errors = Vec::new();
        for field in &self.fields {
            let raw = submitted
                .iter()
                .find(|(name, _)| *name == field.name)
                .map(|(_, v)| v.as_str());
            let text = raw.map(str::trim).unwrap_or_default();
            if let FieldKind::Boolean = field.kind {
                let value = match text.to_ascii_lowercase().as_str() {
                    "" | "false" | "off" | "0" => false,
                    "true" | "on" | "1" => true,
                    _ => {
                        errors.push((field.name.clone(), "Tick it or leave it.".to_owned()));
                        continue;
                    }
                };
                if value || field.required || raw.is_some() {
                    out.insert(field.name.clone(), Value::Bool(value));
                }
                continue;
            }
            // Text keeps its spaces; other kinds are trimmed.
            let is_text = matches!(field.kind, FieldKind::Text { .. });
            if text.is_empty() && !(is_text && raw.is_some_and(|r| !r.is_empty())) {
                if field.required {
                    errors.push((field.name.clone(), format!("{} is required.", field.label)));
                }
                continue;
            }
            match parse_value(&field.kind, raw.unwrap_or_default(), text) {
                Ok(value) => {
                    out.insert(field.name.clone(), value);
                }
                Err(message) => errors.push((field.name.clone(), message)),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

fn parse_value(kind: &FieldKind, raw: &str, text: &str) -> Result<Value, String> {
    match kind {
        FieldKind::Text {
            min_length,
            max_length,
        } => {
            let len = raw.chars().count() as u64;
            if min_length.is_some_and(|m| len < m) {
                return Err(format!("At least {} characters.", min_length.unwrap_or(0)));
            }
            if max_length.is_some_and(|m| len > m) {
                return Err(format!("At most {} characters.", max_length.unwrap_or(0)));
            }
            Ok(Value::String(raw.to_owned()))
        }
        FieldKind::Number { minimum, maximum } => {
            let n: f64 = text
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| "A number, e.g. 1.5.".to_owned())?;
            check_range(n, *minimum, *maximum)?;
            serde_json::Number::from_f64(n)
                .map(Value::Number)
                .ok_or_else(|| "A number, e.g. 1.5.".to_owned())
        }
        FieldKind::Integer { minimum, maximum } => {
            let n: i64 = text
                .parse()
                .map_err(|_| "A whole number, e.g. 10.".to_owned())?;
            if minimum.is_some_and(|m| n < m) || maximum.is_some_and(|m| n > m) {
                return Err(range_message(*minimum, *maximum));
            }
            Ok(Value::from(n))
        }
        FieldKind::Boolean => Ok(Value::Bool(text == "true")),
        FieldKind::Choice { options } => options
            .iter()
            .find(|o| option_text(o) == text)
            .cloned()
            .ok_or_else(|| "Pick one of the listed values.".to_owned()),
        FieldKind::Json => serde_json::from_str(text).map_err(|e| format!("Not valid JSON: {e}.")),
    }
}

fn check_range(n: f64, minimum: Option<f64>, maximum: Option<f64>) -> Result<(), String> {
    if minimum.is_some_and(|m| n < m) || maximum.is_some_and(|m| n > m) {
        return Err(range_message(minimum, maximum));
    }
    Ok(())
}

fn range_message<T: std::fmt::Display>(minimum: Option<T>, maximum: Option<T>) -> String {
    match (minimum, maximum) {
        (Some(a), Some(b)) => format!("Between {a} and {b}."),
        (Some(a), None) => format!("At least {a}."),
        (None, Some(b)) => format!("At most {b}."),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "title": "Query", "description": "LogQL", "minLength": 2},
                "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                "ratio": {"type": ["number", "null"]},
                "follow": {"type": "boolean"},
                "level": {"enum": ["info", "warn", "error"]},
                "labels": {"type": "object"}
            },
            "required": ["query", "level"]
        })
    }

    fn sub(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn properties_become_typed_fields_in_order() {
        let form = ToolForm::from_schema(&schema());
        let names: Vec<_> = form.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["query", "level", "follow", "labels", "limit", "ratio"]
        );
        let field = |n: &str| form.fields.iter().find(|f| f.name == n).expect("field");
        assert_eq!(field("query").label, "Query");
        assert!(field("query").required && field("level").required && !field("limit").required);
        assert_eq!(
            field("limit").kind,
            FieldKind::Integer {
                minimum: Some(1),
                maximum: Some(500)
            }
        );
        assert_eq!(field("limit").default, Some(json!(100)));
        assert!(matches!(field("ratio").kind, FieldKind::Number { .. }));
        assert_eq!(field("follow").kind, FieldKind::Boolean);
        assert!(matches!(field("level").kind, FieldKind::Choice { .. }));
        assert_eq!(field("labels").kind, FieldKind::Json);
        assert!(
            ToolForm::from_schema(&json!({"type": "object"}))
                .fields
                .is_empty()
        );
    }

    #[test]
    fn valid_values_build_the_arguments_object() {
        let form = ToolForm::from_schema(&schema());
        let args = form
            .values(&sub(&[
                ("query", "{app=\"api\"}"),
                ("limit", " 20 "),
                ("ratio", "0.5"),
                ("follow", "on"),
                ("level", "warn"),
                ("labels", "{\"env\": \"prod\"}"),
            ]))
            .expect("valid");
        assert_eq!(
            Value::Object(args),
            json!({
                "query": "{app=\"api\"}", "limit": 20, "ratio": 0.5, "follow": true,
                "level": "warn", "labels": {"env": "prod"}
            })
        );
    }

    #[test]
    fn empty_optionals_are_left_out() {
        let form = ToolForm::from_schema(&schema());
        let args = form
            .values(&sub(&[("query", "up"), ("level", "info"), ("limit", "")]))
            .expect("valid");
        assert_eq!(Value::Object(args), json!({"query": "up", "level": "info"}));
    }

    #[test]
    fn bad_values_name_their_fields() {
        let form = ToolForm::from_schema(&schema());
        let errors = form
            .values(&sub(&[
                ("query", "x"),
                ("limit", "1000"),
                ("ratio", "abc"),
                ("follow", "maybe"),
                ("level", "debug"),
                ("labels", "{oops"),
            ]))
            .expect_err("invalid");
        let names: Vec<_> = errors.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["query", "level", "follow", "labels", "limit", "ratio"]
        );
        assert_eq!(errors[4].1, "Between 1 and 500.");
        let errors = form.values(&[]).expect_err("required");
        let names: Vec<_> = errors.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["query", "level"]);
    }

    #[test]
    fn non_string_choices_round_trip_through_their_text() {
        let form = ToolForm::from_schema(&json!({
            "properties": {"n": {"enum": [1, 2, null]}}, "required": ["n"]
        }));
        let args = form.values(&sub(&[("n", "2")])).expect("valid");
        assert_eq!(args.get("n"), Some(&json!(2)));
    }
}
