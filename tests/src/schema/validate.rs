//! Checks a JSON value against a compiled `Schema` with JSON Schema's meaning of each keyword
//! (an `additionalProperties: false` sees only the `properties` of its own subschema, `if`
//! picks `then` or `else`), plus CLN's types and request rules. Every problem is reported
//! with the path of the value it is about.

use super::{compile::Schema, types::Side};
use serde_json::Value;
use std::fmt;

/// One way a value breaks its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Where: `channels[0].fee_proportional_millionths` (empty for the value itself).
    pub path: String,
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(top level)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.problem)
    }
}

/// All the violations of `value` against `schema`, each once, in the order found.
pub fn violations(schema: &Schema, value: &Value, side: Side) -> Vec<Violation> {
    let mut found = Vec::new();
    check(schema, value, side, "", &mut found);
    let mut unique = Vec::new();
    for violation in found {
        if !unique.contains(&violation) {
            unique.push(violation);
        }
    }
    unique
}

fn conforms(schema: &Schema, value: &Value, side: Side) -> bool {
    let mut found = Vec::new();
    check(schema, value, side, "", &mut found);
    found.is_empty()
}

fn key_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A value as it appears in a message: its JSON, cut short.
fn brief(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn report(out: &mut Vec<Violation>, path: &str, problem: String) {
    out.push(Violation {
        path: path.to_owned(),
        problem,
    });
}

fn check(schema: &Schema, value: &Value, side: Side, path: &str, out: &mut Vec<Violation>) {
    if let Some(ty) = schema.ty
        && !ty.admits(value, side)
    {
        // Nothing else about a value of the wrong type is worth saying.
        return report(
            out,
            path,
            format!("expected {}, got {}", ty.name(), brief(value)),
        );
    }
    if let Some(allowed) = &schema.enumeration
        && !allowed.contains(value)
    {
        let allowed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        report(
            out,
            path,
            format!("{} is not one of {}", brief(value), allowed.join(", ")),
        );
    }
    if let Some(text) = value.as_str() {
        let chars = text.chars().count();
        if schema.min_length.is_some_and(|min| chars < min)
            || schema.max_length.is_some_and(|max| chars > max)
        {
            report(
                out,
                path,
                format!(
                    "length {chars} is outside {}..={}",
                    schema.min_length.unwrap_or(0),
                    schema.max_length.map_or("∞".to_owned(), |m| m.to_string())
                ),
            );
        }
    }
    if let Some(object) = value.as_object() {
        for name in &schema.required {
            if !object.contains_key(name) {
                report(out, &key_path(path, name), "required, missing".to_owned());
            }
        }
        if !schema.additional {
            for key in object.keys() {
                if !schema.properties.iter().any(|(name, _)| name == key) {
                    report(
                        out,
                        &key_path(path, key),
                        "not allowed here (additionalProperties is false)".to_owned(),
                    );
                }
            }
        }
        for (anchor, dependents) in &schema.dependent_upon {
            for dependent in dependents {
                if object.contains_key(dependent) && !object.contains_key(anchor) {
                    report(
                        out,
                        &key_path(path, dependent),
                        format!("only allowed with {anchor}"),
                    );
                }
            }
        }
        for group in &schema.paired_with {
            let given = group.iter().filter(|n| object.contains_key(*n)).count();
            if given != 0 && given != group.len() {
                report(out, path, format!("{} go together", group.join(" and ")));
            }
        }
        for group in &schema.one_of_many {
            if group.iter().filter(|n| object.contains_key(*n)).count() > 1 {
                report(
                    out,
                    path,
                    format!("at most one of {} may be given", group.join(", ")),
                );
            }
        }
        for (name, sub) in &schema.properties {
            let Some(field) = object.get(name) else {
                continue;
            };
            let here = key_path(path, name);
            // Only in requests: revops should not use what is going away. Answers print
            // deprecated fields (a real v26.06.6 listconfigs, without allow-deprecated-apis,
            // has `experimental-splicing`, deprecated since v26.04: the capture wins).
            if let Some(versions) = sub.deprecated.as_ref().filter(|_| side == Side::Request) {
                report(out, &here, format!("deprecated ({versions}): going away"));
            }
            check(sub, field, side, &here, out);
        }
    }
    if let (Some(items), Some(elements)) = (&schema.items, value.as_array()) {
        for (i, element) in elements.iter().enumerate() {
            check(items, element, side, &format!("{path}[{i}]"), out);
        }
    }
    for sub in &schema.all_of {
        check(sub, value, side, path, out);
    }
    if !schema.any_of.is_empty() && !schema.any_of.iter().any(|s| conforms(s, value, side)) {
        report(
            out,
            path,
            "matches none of the anyOf alternatives".to_owned(),
        );
    }
    if !schema.one_of.is_empty() {
        let matching = schema
            .one_of
            .iter()
            .filter(|s| conforms(s, value, side))
            .count();
        if matching != 1 {
            report(
                out,
                path,
                format!("matches {matching} of the oneOf alternatives, not exactly one"),
            );
        }
    }
    if let Some(condition) = &schema.condition {
        let branch = if conforms(&condition.test, value, side) {
            &condition.then
        } else {
            &condition.otherwise
        };
        if let Some(branch) = branch {
            check(branch, value, side, path, out);
        }
    }
}
