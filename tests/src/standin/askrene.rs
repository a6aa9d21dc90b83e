//! askrene's layer commands as CLN v26.06 answers them (`plugins/askrene/askrene.c`): a layer
//! lives in lightningd's memory; naming one that does not exist is an "invalid params" error
//! in the `param` style (`layer: Unknown layer: invalid token '"name"'`, developer mode, as
//! the captured nodes ran).

use super::shapes;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Layer name → disabled node ids.
pub type Layers = BTreeMap<String, Vec<String>>;

/// Layers getroutes knows without their being created.
const AUTO_LAYERS: [&str; 4] = [
    "auto.localchans",
    "auto.no_mpp_support",
    "auto.sourcefree",
    "auto.include_fees",
];

fn invalid(message: impl Into<String>) -> Value {
    json!({ "code": -32602, "message": message.into() })
}

/// `command_fail_badparam`: "NAME: MESSAGE: invalid token 'TOKEN'".
fn bad_param(name: &str, message: &str, token: &Value) -> Value {
    invalid(format!("{name}: {message}: invalid token '{token}'"))
}

fn known_layer<'a>(
    layers: &'a mut Layers,
    params: &Value,
) -> Result<(String, &'a mut Vec<String>), Value> {
    let token = params
        .get("layer")
        .ok_or_else(|| invalid("missing required parameter: layer"))?;
    let name = token
        .as_str()
        .ok_or_else(|| bad_param("layer", "should be a string", token))?;
    match layers.get_mut(name) {
        Some(disabled) => Ok((name.to_owned(), disabled)),
        None => Err(bad_param("layer", "Unknown layer", token)),
    }
}

/// `askrene-listlayers`, `-create-layer`, `-disable-node`.
pub fn answer(layers: &mut Layers, method: &str, params: &Value) -> Result<Value, Value> {
    match method {
        "askrene-listlayers" => {
            if params.get("layer").is_none() {
                return Ok(shapes::askrene_layers(layers.iter()));
            }
            let (name, _) = known_layer(layers, params)?;
            Ok(shapes::askrene_layers(
                layers.iter().filter(|(n, _)| **n == name),
            ))
        }
        "askrene-create-layer" => {
            let name = params
                .get("layer")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("missing required parameter: layer"))?
                .to_owned();
            if name.starts_with("auto.") {
                return Err(invalid("Cannot create auto layer"));
            }
            let persistent = params.get("persistent").and_then(Value::as_bool) == Some(true);
            if layers.contains_key(&name) && !persistent {
                return Err(invalid("Layer already exists"));
            }
            layers.entry(name.clone()).or_default();
            Ok(shapes::askrene_layers(
                layers.iter().filter(|(n, _)| **n == name),
            ))
        }
        "askrene-disable-node" => {
            let node = params
                .get("node")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("missing required parameter: node"))?
                .to_owned();
            let (_, disabled) = known_layer(layers, params)?;
            if !disabled.contains(&node) {
                disabled.push(node);
            }
            Ok(json!({}))
        }
        other => Err(shapes::unknown_method_error(other)),
    }
}

/// getroutes refuses a layer that does not exist ("layers: unknown layer: …").
pub fn check_getroutes_layers(layers: &Layers, params: &Value) -> Result<(), Value> {
    let Some(names) = params.get("layers").and_then(Value::as_array) else {
        return Ok(());
    };
    for token in names {
        let name = token
            .as_str()
            .ok_or_else(|| bad_param("layers", "should be a string", token))?;
        if !AUTO_LAYERS.contains(&name) && !layers.contains_key(name) {
            return Err(bad_param("layers", "unknown layer", token));
        }
    }
    Ok(())
}
