//! A CLN schema (JSON) made into a `Schema` the validator walks. Only the keywords CLN's files
//! use are understood; any other keyword, or a type name not in `types`, fails the load, so
//! nothing passes unchecked because the validator did not know it.

use super::types::Type;
use serde_json::{Map, Value};

/// One (sub)schema.
#[derive(Debug, Default)]
pub struct Schema {
    pub ty: Option<Type>,
    pub enumeration: Option<Vec<Value>>,
    pub properties: Vec<(String, Schema)>,
    pub required: Vec<String>,
    /// `additionalProperties`: absent means allowed, as in JSON Schema.
    pub additional: bool,
    pub items: Option<Box<Schema>>,
    pub all_of: Vec<Schema>,
    pub any_of: Vec<Schema>,
    pub one_of: Vec<Schema>,
    pub condition: Option<Box<Condition>>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// `deprecated: [since, removed]`.
    pub deprecated: Option<String>,
    /// Request-only rules (lightningd's parameter checks):
    /// `dependentUpon: {a: [b, c]}`: b or c only with a.
    pub dependent_upon: Vec<(String, Vec<String>)>,
    /// `pairedWith: [[a, b]]`: all of them or none.
    pub paired_with: Vec<Vec<String>>,
    /// `oneOfMany: [[a, b]]`: at most one of them (not exactly one: a real v26.06.6 answers
    /// `plugin list` given neither; the capture wins).
    pub one_of_many: Vec<Vec<String>>,
}

#[derive(Debug)]
pub struct Condition {
    pub test: Schema,
    pub then: Option<Schema>,
    pub otherwise: Option<Schema>,
}

/// Keywords that only describe (no effect on validity).
const ANNOTATIONS: [&str; 9] = [
    "description",
    "added",
    "default",
    "hidden",
    "comment",
    "untyped",
    "format",
    "pre_return_value_notes",
    "post_return_value_notes",
];

impl Schema {
    /// `at` names the place in the file, for load errors.
    pub fn compile(value: &Value, at: &str) -> Result<Schema, String> {
        let object = value
            .as_object()
            .ok_or_else(|| format!("{at}: a schema must be an object"))?;
        let mut schema = Schema {
            additional: true,
            ..Schema::default()
        };
        for (keyword, v) in object {
            let here = format!("{at}.{keyword}");
            match keyword.as_str() {
                "type" => {
                    let name = v
                        .as_str()
                        .ok_or_else(|| format!("{here}: only a single type name is supported"))?;
                    schema.ty = Some(
                        Type::named(name).ok_or_else(|| format!("{here}: unknown type {name}"))?,
                    );
                }
                "enum" => schema.enumeration = Some(array(v, &here)?.clone()),
                "properties" => {
                    schema.properties = object_of(v, &here)?
                        .iter()
                        .map(|(name, sub)| {
                            Ok((
                                name.clone(),
                                Schema::compile(sub, &format!("{here}.{name}"))?,
                            ))
                        })
                        .collect::<Result<_, String>>()?;
                }
                "required" => schema.required = names(v, &here)?,
                "additionalProperties" => {
                    schema.additional = v
                        .as_bool()
                        .ok_or_else(|| format!("{here}: only true or false is supported"))?;
                }
                "items" => schema.items = Some(Box::new(Schema::compile(v, &here)?)),
                "allOf" => schema.all_of = list(v, &here)?,
                "anyOf" => schema.any_of = list(v, &here)?,
                "oneOf" => schema.one_of = list(v, &here)?,
                "if" | "then" | "else" => {}
                "minLength" => schema.min_length = Some(length(v, &here)?),
                "maxLength" => schema.max_length = Some(length(v, &here)?),
                "deprecated" => schema.deprecated = Some(names(v, &here)?.join(" → ")),
                "dependentUpon" => {
                    schema.dependent_upon = object_of(v, &here)?
                        .iter()
                        .map(|(name, deps)| Ok((name.clone(), names(deps, &here)?)))
                        .collect::<Result<_, String>>()?;
                }
                "pairedWith" => schema.paired_with = groups(v, &here)?,
                "oneOfMany" => schema.one_of_many = groups(v, &here)?,
                k if ANNOTATIONS.contains(&k) => {}
                other => return Err(format!("{at}: unsupported keyword {other}")),
            }
        }
        if let Some(test) = object.get("if") {
            let branch = |name: &str| {
                object
                    .get(name)
                    .map(|b| Schema::compile(b, &format!("{at}.{name}")))
                    .transpose()
            };
            schema.condition = Some(Box::new(Condition {
                test: Schema::compile(test, &format!("{at}.if"))?,
                then: branch("then")?,
                otherwise: branch("else")?,
            }));
        } else if object.contains_key("then") || object.contains_key("else") {
            return Err(format!("{at}: then/else without if"));
        }
        Ok(schema)
    }
}

fn array<'a>(v: &'a Value, at: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{at}: expected an array"))
}

fn object_of<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{at}: expected an object"))
}

fn names(v: &Value, at: &str) -> Result<Vec<String>, String> {
    array(v, at)?
        .iter()
        .map(|n| {
            n.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{at}: expected strings"))
        })
        .collect()
}

fn groups(v: &Value, at: &str) -> Result<Vec<Vec<String>>, String> {
    array(v, at)?.iter().map(|g| names(g, at)).collect()
}

fn list(v: &Value, at: &str) -> Result<Vec<Schema>, String> {
    array(v, at)?
        .iter()
        .enumerate()
        .map(|(i, s)| Schema::compile(s, &format!("{at}[{i}]")))
        .collect()
}

fn length(v: &Value, at: &str) -> Result<usize, String> {
    v.as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| format!("{at}: expected a length"))
}
