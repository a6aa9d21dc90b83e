//! CLN v26.06.6's own JSON schemas (`fixtures/cln-v26.06/schemas/`, copied from Core
//! Lightning's `doc/schemas/`) and a small validator for exactly what they use: the stand-in
//! lightningd checks every request the plugin sends, every answer it gives and every
//! notification it sends against them (see `standin::daemon`).

mod compile;
mod messages;
mod types;
mod validate;

pub use messages::{check_answer, check_notification_message, check_request_envelope};
pub use types::Side;
pub use validate::Violation;

use compile::Schema;
use serde_json::Value;
use std::{collections::BTreeMap, path::Path, sync::OnceLock};

/// A method's request and response schemas.
struct Method {
    request: Schema,
    response: Schema,
    /// The whole method is deprecated (`pay`).
    deprecated: Option<String>,
}

/// Every schema of the corpus, by method and by notification topic.
pub struct ClnSchemas {
    methods: BTreeMap<String, Method>,
    notifications: BTreeMap<String, Schema>,
}

/// The schemas in the repository, loaded once.
pub fn cln() -> &'static ClnSchemas {
    static SCHEMAS: OnceLock<ClnSchemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cln-v26.06/schemas");
        ClnSchemas::load(&dir).unwrap_or_else(|e| panic!("loading CLN schemas: {e}"))
    })
}

impl ClnSchemas {
    /// Loads `dir/*.json` (methods) and `dir/notification/*.json`; the meta-schema is skipped.
    pub fn load(dir: &Path) -> Result<ClnSchemas, String> {
        let mut schemas = ClnSchemas {
            methods: BTreeMap::new(),
            notifications: BTreeMap::new(),
        };
        for path in json_files(dir)?
            .into_iter()
            .chain(json_files(&dir.join("notification"))?)
        {
            if path.ends_with("rpc-schema-draft.json") {
                continue;
            }
            let at = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{at}: {e}"))?;
            let file: Value = serde_json::from_str(&text).map_err(|e| format!("{at}: {e}"))?;
            let part = |name: &str| Schema::compile(&file[name], &format!("{at}: {name}"));
            if let Some(method) = file["rpc"].as_str() {
                let deprecated = file["deprecated"].as_array().map(|v| {
                    v.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" → ")
                });
                let method_schema = Method {
                    request: part("request")?,
                    response: part("response")?,
                    deprecated,
                };
                schemas.methods.insert(method.to_owned(), method_schema);
            } else if let Some(topic) = file["notification"].as_str() {
                schemas
                    .notifications
                    .insert(topic.to_owned(), part("response")?);
            } else {
                return Err(format!("{at}: neither an rpc nor a notification schema"));
            }
        }
        Ok(schemas)
    }

    pub fn has_method(&self, method: &str) -> bool {
        self.methods.contains_key(method)
    }

    pub fn has_notification(&self, topic: &str) -> bool {
        self.notifications.contains_key(topic)
    }

    /// A request's `params` against `method`'s request schema; `None` without a schema.
    /// Positional params (an array) are refused: revops sends keyword params (cln-rpc's typed
    /// requests), and the schema files do not fix the order to check an array against.
    pub fn check_request(&self, method: &str, params: &Value) -> Option<Vec<Violation>> {
        let schema = self.methods.get(method)?;
        let mut found = Vec::new();
        if let Some(versions) = &schema.deprecated {
            found.push(Violation {
                path: String::new(),
                problem: format!("the method is deprecated ({versions})"),
            });
        }
        if params.is_array() {
            found.push(Violation {
                path: String::new(),
                problem: "positional params: only keyword params are checked".to_owned(),
            });
        } else {
            found.extend(validate::violations(&schema.request, params, Side::Request));
        }
        Some(found)
    }

    /// A successful answer's `result` against `method`'s response schema; `None` without one.
    pub fn check_response(&self, method: &str, result: &Value) -> Option<Vec<Violation>> {
        let schema = self.methods.get(method)?;
        Some(validate::violations(
            &schema.response,
            result,
            Side::Response,
        ))
    }

    /// A notification message as lightningd sends it to a plugin:
    /// `{"jsonrpc":"2.0","method":T,"params":{T:{payload}}}`; the payload is checked when
    /// the corpus has T's schema.
    pub fn check_notification(&self, message: &Value) -> Vec<Violation> {
        let mut found = Vec::new();
        let mut report = |path: &str, problem: String| {
            found.push(Violation {
                path: path.to_owned(),
                problem,
            })
        };
        if message.get("id").is_some() {
            report("id", "a notification has no id".to_owned());
        }
        if message["jsonrpc"] != "2.0" {
            report("jsonrpc", "expected \"2.0\"".to_owned());
        }
        let Some(topic) = message["method"].as_str() else {
            report("method", "expected the topic as a string".to_owned());
            return found;
        };
        let params = message["params"].as_object();
        let payload = params.and_then(|p| p.get(topic));
        match (params, payload) {
            (Some(params), Some(payload)) if params.len() == 1 => {
                if let Some(schema) = self.notifications.get(topic) {
                    for mut violation in validate::violations(schema, payload, Side::Response) {
                        violation.path = format!("params.{topic}{}", dotted(&violation.path));
                        found.push(violation);
                    }
                }
            }
            _ => report(
                "params",
                format!("expected exactly one key, {topic:?}, holding the payload"),
            ),
        }
        found
    }
}

/// lightningd's error object: an integer `code`, a string `message` and optionally `data`.
pub fn check_error(error: &Value) -> Vec<Violation> {
    let mut found = Vec::new();
    let Some(object) = error.as_object() else {
        return vec![Violation {
            path: String::new(),
            problem: "an error must be an object".to_owned(),
        }];
    };
    if !object.get("code").is_some_and(|c| c.is_i64()) {
        found.push(Violation {
            path: "code".to_owned(),
            problem: "expected an integer".to_owned(),
        });
    }
    if !object.get("message").is_some_and(Value::is_string) {
        found.push(Violation {
            path: "message".to_owned(),
            problem: "expected a string".to_owned(),
        });
    }
    for key in object
        .keys()
        .filter(|k| !["code", "message", "data"].contains(&k.as_str()))
    {
        found.push(Violation {
            path: key.clone(),
            problem: "not part of a JSON-RPC error".to_owned(),
        });
    }
    found
}

fn dotted(path: &str) -> String {
    if path.is_empty() || path.starts_with('[') {
        path.to_owned()
    } else {
        format!(".{path}")
    }
}

fn json_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests;
