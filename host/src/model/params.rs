//! Policy parameters: the schema a policy declares in `describe()`, and the operator's values
//! checked against it when the policy is loaded.

use serde::Serialize;
use serde_json::Value;
use std::{collections::BTreeMap, fmt};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Text(String),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    Integer,
    Float,
    Boolean,
    Text,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamSpec {
    pub name: String,
    pub description: String,
    pub kind: ParamKind,
    pub default: ParamValue,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// What a policy says about itself.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub params: Vec<ParamSpec>,
}

/// Every parameter of a schema with its effective value, in schema order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ResolvedParams(pub Vec<(String, ParamValue)>);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParamError {
    #[error("unknown parameter {name:?}; this policy takes: {known}")]
    Unknown { name: String, known: String },
    #[error("parameter {name:?} must be {expected}, got {got}")]
    WrongType {
        name: String,
        expected: ParamKind,
        got: String,
    },
    #[error("parameter {name:?} = {value} is outside its range [{min}, {max}]")]
    OutOfRange {
        name: String,
        value: f64,
        min: String,
        max: String,
    },
    #[error("the policy's own schema is invalid: {0}")]
    BadSchema(String),
}

impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamKind::Integer => "an integer",
            ParamKind::Float => "a number",
            ParamKind::Boolean => "true or false",
            ParamKind::Text => "a string",
        })
    }
}

impl ParamValue {
    fn kind(&self) -> ParamKind {
        match self {
            ParamValue::Integer(_) => ParamKind::Integer,
            ParamValue::Float(_) => ParamKind::Float,
            ParamValue::Boolean(_) => ParamKind::Boolean,
            ParamValue::Text(_) => ParamKind::Text,
        }
    }

    fn as_number(&self) -> Option<f64> {
        match self {
            ParamValue::Integer(v) => Some(*v as f64),
            ParamValue::Float(v) => Some(*v),
            _ => None,
        }
    }
}

/// Parses `KEY=VALUE` words (as typed on a command line) into the JSON map `resolve` takes.
/// A value that parses as JSON (`5`, `1.5`, `true`, `"x"`) is taken as such, otherwise as text.
pub fn params_from_words<'a, I: IntoIterator<Item = &'a str>>(
    words: I,
) -> Result<BTreeMap<String, Value>, String> {
    words
        .into_iter()
        .map(|word| {
            let (key, raw) = word
                .split_once('=')
                .ok_or_else(|| format!("parameter {word:?} is not KEY=VALUE"))?;
            let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.into()));
            Ok((key.to_owned(), value))
        })
        .collect()
}

impl PolicyInfo {
    /// Checks the policy's own schema: unique names, defaults of the declared kind and range.
    pub fn validate_schema(&self) -> Result<(), ParamError> {
        let mut seen = std::collections::BTreeSet::new();
        for spec in &self.params {
            if spec.name.is_empty() || !seen.insert(spec.name.as_str()) {
                return Err(ParamError::BadSchema(format!(
                    "parameter name {:?} is empty or repeated",
                    spec.name
                )));
            }
            if spec.default.kind() != spec.kind {
                return Err(ParamError::BadSchema(format!(
                    "default of {:?} is not {}",
                    spec.name, spec.kind
                )));
            }
            if let (Some(min), Some(max)) = (spec.min, spec.max)
                && min > max
            {
                return Err(ParamError::BadSchema(format!(
                    "{:?} has min {min} above max {max}",
                    spec.name
                )));
            }
            check_range(spec, &spec.default).map_err(|e| ParamError::BadSchema(e.to_string()))?;
        }
        Ok(())
    }

    /// Resolves the operator's values against the schema: unknown names, wrong types and
    /// out-of-range values are errors; missing ones take the default.
    pub fn resolve(&self, given: &BTreeMap<String, Value>) -> Result<ResolvedParams, ParamError> {
        if let Some(unknown) = given
            .keys()
            .find(|name| !self.params.iter().any(|s| &s.name == *name))
        {
            let known: Vec<&str> = self.params.iter().map(|s| s.name.as_str()).collect();
            return Err(ParamError::Unknown {
                name: unknown.clone(),
                known: if known.is_empty() {
                    "no parameters".into()
                } else {
                    known.join(", ")
                },
            });
        }
        let mut resolved = Vec::with_capacity(self.params.len());
        for spec in &self.params {
            let value = match given.get(&spec.name) {
                Some(raw) => coerce(spec, raw)?,
                None => spec.default.clone(),
            };
            check_range(spec, &value)?;
            resolved.push((spec.name.clone(), value));
        }
        Ok(ResolvedParams(resolved))
    }
}

fn coerce(spec: &ParamSpec, raw: &Value) -> Result<ParamValue, ParamError> {
    let value = match (spec.kind, raw) {
        (ParamKind::Integer, Value::Number(n)) => n.as_i64().map(ParamValue::Integer),
        (ParamKind::Float, Value::Number(n)) => n.as_f64().map(ParamValue::Float),
        (ParamKind::Boolean, Value::Bool(b)) => Some(ParamValue::Boolean(*b)),
        (ParamKind::Text, Value::String(s)) => Some(ParamValue::Text(s.clone())),
        // A text parameter typed on a command line may look like a number: keep its text.
        (ParamKind::Text, Value::Number(n)) => Some(ParamValue::Text(n.to_string())),
        (ParamKind::Text, Value::Bool(b)) => Some(ParamValue::Text(b.to_string())),
        _ => None,
    };
    value.ok_or_else(|| ParamError::WrongType {
        name: spec.name.clone(),
        expected: spec.kind,
        got: raw.to_string(),
    })
}

fn check_range(spec: &ParamSpec, value: &ParamValue) -> Result<(), ParamError> {
    let Some(number) = value.as_number() else {
        return Ok(());
    };
    let below = spec.min.is_some_and(|min| number < min);
    let above = spec.max.is_some_and(|max| number > max);
    if below || above || number.is_nan() {
        let bound = |b: Option<f64>| b.map_or_else(|| "unbounded".to_owned(), |b| b.to_string());
        return Err(ParamError::OutOfRange {
            name: spec.name.clone(),
            value: number,
            min: bound(spec.min),
            max: bound(spec.max),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info() -> PolicyInfo {
        PolicyInfo {
            name: "t".into(),
            version: "1".into(),
            description: String::new(),
            params: vec![
                ParamSpec {
                    name: "fee-ppm".into(),
                    description: String::new(),
                    kind: ParamKind::Integer,
                    default: ParamValue::Integer(100),
                    min: Some(0.0),
                    max: Some(5000.0),
                },
                ParamSpec {
                    name: "mode".into(),
                    description: String::new(),
                    kind: ParamKind::Text,
                    default: ParamValue::Text("ok".into()),
                    min: None,
                    max: None,
                },
            ],
        }
    }

    fn map(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn defaults_fill_missing_values() {
        let resolved = info().resolve(&BTreeMap::new()).unwrap();
        assert_eq!(resolved.0[0], ("fee-ppm".into(), ParamValue::Integer(100)));
        assert_eq!(
            resolved.0[1],
            ("mode".into(), ParamValue::Text("ok".into()))
        );
    }

    #[test]
    fn rejects_unknown_wrong_type_and_out_of_range() {
        let info = info();
        assert!(matches!(
            info.resolve(&map(json!({"fee": 1}))),
            Err(ParamError::Unknown { .. })
        ));
        assert!(matches!(
            info.resolve(&map(json!({"fee-ppm": "high"}))),
            Err(ParamError::WrongType { .. })
        ));
        assert!(matches!(
            info.resolve(&map(json!({"fee-ppm": 1.5}))),
            Err(ParamError::WrongType { .. })
        ));
        assert!(matches!(
            info.resolve(&map(json!({"fee-ppm": 5001}))),
            Err(ParamError::OutOfRange { .. })
        ));
        assert!(info.resolve(&map(json!({"fee-ppm": 5000}))).is_ok());
    }

    #[test]
    fn command_line_words_become_typed_values() {
        let words = params_from_words(["fee-ppm=250", "mode=loop"]).unwrap();
        let resolved = info().resolve(&words).unwrap();
        assert_eq!(resolved.0[0].1, ParamValue::Integer(250));
        assert_eq!(resolved.0[1].1, ParamValue::Text("loop".into()));
        assert!(params_from_words(["nokey"]).is_err());
    }

    #[test]
    fn schema_defects_are_caught() {
        let mut bad = info();
        bad.params[0].default = ParamValue::Integer(9999);
        assert!(matches!(
            bad.validate_schema(),
            Err(ParamError::BadSchema(_))
        ));
        let mut dup = info();
        dup.params[1].name = "fee-ppm".into();
        assert!(dup.validate_schema().is_err());
        assert!(info().validate_schema().is_ok());
    }
}
