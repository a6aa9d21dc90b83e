//! RPC parameters as lightning-cli sends them: positional (an array) or keyword (an object).

use super::{
    errors::{INVALID_PARAMS, invalid_params, rpc_error},
    framing::REJECTED_PARAM,
};
use crate::text::{brief, shorten};
use serde_json::{Map, Value};

/// The parameters of one call, by name.
pub struct Params {
    method: &'static str,
    values: Map<String, Value>,
}

impl Params {
    /// Maps positional parameters onto `names`, and refuses unknown or surplus ones.
    pub fn parse(method: &'static str, raw: Value, names: &[&str]) -> anyhow::Result<Self> {
        if let Some(refusal) = raw.get(REJECTED_PARAM) {
            // A request the framing in front of cln-plugin could not pass on (see `framing`).
            let code = refusal["code"].as_i64().unwrap_or(INVALID_PARAMS);
            return Err(rpc_error(code, refusal["message"].as_str().unwrap_or("malformed request")));
        }
        let values = match raw {
            Value::Null => Map::new(),
            Value::Array(items) => {
                if items.len() > names.len() {
                    return Err(invalid_params(format!(
                        "{method} takes at most {} parameters ({}), got {}",
                        names.len(),
                        names.join(", "),
                        items.len()
                    )));
                }
                names
                    .iter()
                    .zip(items)
                    .filter(|(_, v)| !v.is_null())
                    .map(|(n, v)| ((*n).to_owned(), v))
                    .collect()
            }
            Value::Object(map) => {
                if let Some(unknown) = map.keys().find(|k| !names.contains(&k.as_str())) {
                    return Err(invalid_params(format!(
                        "{method}: unknown parameter {}; it takes: {}",
                        shorten(&format!("{unknown:?}"), 80),
                        names.join(", ")
                    )));
                }
                map
            }
            other => {
                return Err(invalid_params(format!(
                    "{method}: parameters must be an array or an object, got {}",
                    brief(&other)
                )));
            }
        };
        Ok(Self { method, values })
    }

    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn required_str(&self, name: &str) -> anyhow::Result<&str> {
        match self.values.get(name) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(invalid_params(format!(
                "{}: {name} must be a string, got {}",
                self.method,
                brief(other)
            ))),
            None => Err(invalid_params(format!(
                "{}: missing parameter {name}",
                self.method
            ))),
        }
    }

    pub fn optional_str(&self, name: &str) -> anyhow::Result<Option<&str>> {
        match self.values.get(name) {
            None => Ok(None),
            Some(_) => self.required_str(name).map(Some),
        }
    }

    /// A boolean, accepting the strings lightning-cli passes for `-k dry_run=true`.
    pub fn flag(&self, name: &str) -> anyhow::Result<bool> {
        match self.values.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" => Ok(true),
            Some(Value::String(s)) if s == "false" => Ok(false),
            Some(other) => Err(invalid_params(format!(
                "{}: {name} must be true or false, got {}",
                self.method,
                brief(other)
            ))),
        }
    }

    pub fn optional_u32(&self, name: &str) -> anyhow::Result<Option<u32>> {
        match self.values.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some_and(|v| v <= u64::from(u32::MAX)) => {
                Ok(n.as_u64().map(|v| v as u32))
            }
            Some(Value::String(s)) if s.parse::<u32>().is_ok() => Ok(s.parse().ok()),
            Some(other) => Err(invalid_params(format!(
                "{}: {name} must be a non-negative integer, got {}",
                self.method,
                brief(other)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn positional_and_keyword_forms_agree() {
        let names = ["kind", "name", "path"];
        let a = Params::parse("m", json!(["fee", "main", "x.wasm"]), &names).unwrap();
        let b = Params::parse(
            "m",
            json!({"kind": "fee", "name": "main", "path": "x.wasm"}),
            &names,
        )
        .unwrap();
        for n in names {
            assert_eq!(a.required_str(n).unwrap(), b.required_str(n).unwrap());
        }
    }

    #[test]
    fn bad_shapes_are_refused_with_the_reason() {
        let names = ["kind"];
        for bad in [json!(["a", "b"]), json!({"kynd": 1}), json!(5)] {
            let error = Params::parse("m", bad, &names).err().unwrap().to_string();
            assert!(error.contains("-32602"), "{error}");
        }
        let p = Params::parse("m", json!({"kind": 3}), &names).unwrap();
        assert!(p.required_str("kind").is_err());
        assert!(
            Params::parse("m", json!({}), &names)
                .unwrap()
                .required_str("kind")
                .is_err()
        );
    }
}
