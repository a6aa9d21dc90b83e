//! A reader in front of cln-plugin's: lightningd passes a caller's JSON text through to the
//! plugin unchanged but for the id, and cln-plugin 0.7 ends its whole read loop on the first
//! message it cannot handle (JSON nested deeper than serde_json's 128 levels, a number out of
//! range, a missing `params`, a method it has no handler for). Any RPC caller — a restricted
//! rune too — could stop revops that way. Every message from lightningd passes through
//! `sanitize` first: what cln-plugin can handle goes on as it came; a request it cannot is
//! rewritten into a call whose handler answers the caller's id with an error; anything else is
//! dropped with a warning.

use crate::text::shorten;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream};

/// The parameter that carries a refusal to `Params::parse` (see `rejected_call`).
pub const REJECTED_PARAM: &str = "__revops_rejected";
/// The method a refused request is handed to; its handler starts with `Params::parse`.
const REJECTING_METHOD: &str = "revenue-status";
/// Messages end with an empty line (the plugin protocol's framing, as cln-plugin reads it).
const SEPARATOR: &[u8] = b"\n\n";

/// What to hand cln-plugin for one message from lightningd.
#[derive(Debug, PartialEq)]
pub enum Sanitized {
    /// Unchanged: cln-plugin handles it.
    Pass,
    /// Replaced by this message (a refusal for the same id).
    Rewritten(String),
    /// Nothing can be answered (no id to answer to): dropped, for this reason.
    Drop(String),
}

/// Judges one message (without its separator). `known` tells the methods cln-plugin has a
/// handler for.
pub fn sanitize(message: &[u8], known: impl Fn(&str) -> bool) -> Sanitized {
    let parsed = std::str::from_utf8(message)
        .map_err(|_| "the request is not valid UTF-8".to_owned())
        .and_then(|text| {
            serde_json::from_str::<Value>(text).map_err(|e| format!("malformed request: {e}"))
        });
    match parsed {
        Ok(Value::Object(object)) => {
            let id = object.get("id").filter(|id| !id.is_null());
            let method = object.get("method").and_then(Value::as_str);
            match (id, method) {
                (Some(id), Some(method)) if !known(method) => Sanitized::Rewritten(rejected_call(
                    id,
                    -32601,
                    &format!("Unknown command '{}'", shorten(method, 80)),
                )),
                (Some(_), Some(_)) if !object.contains_key("params") => {
                    let mut object = object.clone();
                    object.insert("params".into(), json!({}));
                    Sanitized::Rewritten(Value::Object(object).to_string())
                }
                (Some(_), Some(_)) => Sanitized::Pass,
                (Some(id), None) => {
                    Sanitized::Rewritten(rejected_call(id, -32600, "request without a method"))
                }
                (None, Some(_)) if object.contains_key("params") => Sanitized::Pass,
                (None, Some(method)) => Sanitized::Drop(format!(
                    "notification {} without params",
                    shorten(method, 80)
                )),
                (None, None) => Sanitized::Drop("a message with neither id nor method".into()),
            }
        }
        Ok(_) => Sanitized::Drop("a message that is not a JSON object".into()),
        Err(reason) => match top_level_id(message) {
            Some(id) => Sanitized::Rewritten(rejected_call(&id, -32602, &reason)),
            None => Sanitized::Drop(reason),
        },
    }
}

/// A call of a method whose handler answers `id` with this error (see `Params::parse`).
fn rejected_call(id: &Value, code: i64, message: &str) -> String {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": REJECTING_METHOD,
        "params": { REJECTED_PARAM: { "code": code, "message": shorten(message, 300) } },
    })
    .to_string()
}

/// The `id` member of a top-level JSON object, found without parsing its other members (which
/// may be nested too deep to parse). `None` when the text is not an object or has no id.
fn top_level_id(text: &[u8]) -> Option<Value> {
    let mut scan = Scanner { text, at: 0 };
    scan.skip_whitespace();
    scan.expect(b'{')?;
    loop {
        scan.skip_whitespace();
        let key_start = scan.at;
        scan.skip_string()?;
        let key: String = serde_json::from_slice(&text[key_start..scan.at]).ok()?;
        scan.skip_whitespace();
        scan.expect(b':')?;
        scan.skip_whitespace();
        let value_start = scan.at;
        scan.skip_value()?;
        if key == "id" {
            return serde_json::from_slice(&text[value_start..scan.at])
                .ok()
                .filter(|id: &Value| id.is_string() || id.is_number());
        }
        scan.skip_whitespace();
        match scan.next()? {
            b',' => continue,
            _ => return None,
        }
    }
}

/// A byte scanner over JSON that skips values without recursion (no depth limit).
struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn next(&mut self) -> Option<u8> {
        let byte = *self.text.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    fn skip_whitespace(&mut self) {
        while self
            .text
            .get(self.at)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.at += 1;
        }
    }

    fn skip_string(&mut self) -> Option<()> {
        self.expect(b'"')?;
        loop {
            match self.next()? {
                b'"' => return Some(()),
                b'\\' => {
                    self.next()?;
                }
                _ => {}
            }
        }
    }

    /// Skips one value: a string, or everything up to the end of a nested structure, or a
    /// scalar up to the next delimiter.
    fn skip_value(&mut self) -> Option<()> {
        match *self.text.get(self.at)? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match *self.text.get(self.at)? {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                let start = self.at;
                while self
                    .text
                    .get(self.at)
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.at += 1;
                }
                (self.at > start).then_some(())
            }
        }
    }
}

/// Copies `input` to `output` message by message, through `sanitize`. Returns when `input`
/// ends (lightningd closed the pipe); dropping `output` then ends cln-plugin's loop as before.
pub async fn pump(
    mut input: impl AsyncRead + Unpin,
    mut output: DuplexStream,
    known: impl Fn(&str) -> bool,
) -> std::io::Result<()> {
    let mut buffer: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut searched = 0;
    loop {
        let read = input.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        while let Some(end) = find(&buffer[searched..], SEPARATOR).map(|i| i + searched) {
            let message = &buffer[..end];
            if !message.iter().all(u8::is_ascii_whitespace) {
                let forwarded = match sanitize(message, &known) {
                    Sanitized::Pass => Some(message.to_vec()),
                    Sanitized::Rewritten(text) => {
                        tracing::warn!(
                            bytes = message.len(),
                            "answered a request cln-plugin could not read with an error"
                        );
                        Some(text.into_bytes())
                    }
                    Sanitized::Drop(reason) => {
                        tracing::warn!(bytes = message.len(), %reason, "dropped a message from lightningd");
                        None
                    }
                };
                if let Some(mut bytes) = forwarded {
                    bytes.extend_from_slice(SEPARATOR);
                    output.write_all(&bytes).await?;
                }
            }
            buffer.drain(..end + SEPARATOR.len());
            searched = 0;
        }
        searched = buffer.len().saturating_sub(SEPARATOR.len() - 1);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(method: &str) -> bool {
        method.starts_with("revenue-")
    }

    fn deep(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    fn rejection(sanitized: &Sanitized) -> Value {
        let Sanitized::Rewritten(text) = sanitized else {
            panic!("expected a rewrite, got {sanitized:?}");
        };
        let call: Value = serde_json::from_str(text).unwrap();
        assert_eq!(call["method"], REJECTING_METHOD);
        call
    }

    #[test]
    fn ordinary_messages_pass_unchanged() {
        for text in [
            r#"{"jsonrpc":"2.0","id":"1/cln:revenue-status#7","method":"revenue-status","params":[]}"#,
            r#"{ "jsonrpc" : "2.0", "id" : "cli:x#1", "method" : "revenue-config", "params" :{"key":"a"} }"#,
            r#"{"jsonrpc":"2.0","method":"forward_event","params":{"forward_event":{}}}"#,
        ] {
            assert_eq!(sanitize(text.as_bytes(), ours), Sanitized::Pass, "{text}");
        }
    }

    #[test]
    fn too_deep_requests_are_answered_for_their_id() {
        for depth in [126, 200, 100_000] {
            let text = format!(
                r#"{{"jsonrpc":"2.0","id":"7/cln:revenue-status#9","method":"revenue-status","params":{}}}"#,
                deep(depth)
            );
            let call = rejection(&sanitize(text.as_bytes(), ours));
            assert_eq!(call["id"], "7/cln:revenue-status#9");
            let error = &call["params"][REJECTED_PARAM];
            assert_eq!(error["code"], -32602);
            assert!(error["message"].as_str().unwrap().contains("malformed"), "{error}");
        }
        // The id may come after the deep part, and be a number.
        let text = format!(r#"{{"params":{},"method":"revenue-status","id":12}}"#, deep(300));
        assert_eq!(rejection(&sanitize(text.as_bytes(), ours))["id"], 12);
    }

    #[test]
    fn requests_cln_plugin_would_die_on_are_refused() {
        let numbers = r#"{"jsonrpc":"2.0","id":"a","method":"revenue-config","params":[1e400]}"#;
        assert_eq!(rejection(&sanitize(numbers.as_bytes(), ours))["id"], "a");
        let unknown = r#"{"jsonrpc":"2.0","id":"b","method":"nosuch","params":{}}"#;
        let call = rejection(&sanitize(unknown.as_bytes(), ours));
        assert_eq!(call["params"][REJECTED_PARAM]["code"], -32601);
        let no_method = r#"{"jsonrpc":"2.0","id":"c","params":{}}"#;
        assert_eq!(rejection(&sanitize(no_method.as_bytes(), ours))["id"], "c");
        let mut bytes = br#"{"jsonrpc":"2.0","id":"d","method":"revenue-status","params":[""#.to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(br#""]}"#);
        assert_eq!(rejection(&sanitize(&bytes, ours))["id"], "d");
    }

    #[test]
    fn a_request_without_params_gets_empty_ones() {
        let text = r#"{"jsonrpc":"2.0","id":"e","method":"revenue-status"}"#;
        let Sanitized::Rewritten(call) = sanitize(text.as_bytes(), ours) else {
            panic!()
        };
        let call: Value = serde_json::from_str(&call).unwrap();
        assert_eq!((call["method"].as_str(), &call["params"]), (Some("revenue-status"), &json!({})));
    }

    #[test]
    fn what_cannot_be_answered_is_dropped() {
        for text in [
            "[1,2]".to_owned(),
            r#"{"jsonrpc":"2.0","method":"x"}"#.to_owned(),
            format!(r#"{{"method":"forward_event","params":{}}}"#, deep(500)),
            "{ not json".to_owned(),
        ] {
            assert!(matches!(sanitize(text.as_bytes(), ours), Sanitized::Drop(_)), "{text}");
        }
    }

    #[tokio::test]
    async fn the_pump_keeps_going_after_a_bad_message() {
        let bad = format!(
            r#"{{"jsonrpc":"2.0","id":"1","method":"revenue-status","params":{}}}"#,
            deep(200)
        );
        let good = r#"{"jsonrpc":"2.0","id":"2","method":"revenue-status","params":[]}"#;
        let input = format!("{bad}\n\n{good}\n\n");
        let (writer, mut reader) = tokio::io::duplex(1 << 20);
        pump(input.as_bytes(), writer, ours).await.unwrap();
        let mut out = String::new();
        reader.read_to_string(&mut out).await.unwrap();
        let messages: Vec<Value> = out
            .split("\n\n")
            .filter(|m| !m.is_empty())
            .map(|m| serde_json::from_str(m).unwrap())
            .collect();
        assert_eq!(messages.len(), 2, "{out}");
        assert_eq!(messages[0]["id"], "1");
        assert!(messages[0]["params"].get(REJECTED_PARAM).is_some());
        assert_eq!(messages[1], serde_json::from_str::<Value>(good).unwrap());
    }
}
