//! Text for people: error messages that quote an input never quote all of a huge one.

use serde_json::Value;

/// At most `max` characters of `text`, marked when cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
    }
}

/// A JSON value as an error message quotes it: at most 80 characters.
pub fn brief(value: &Value) -> String {
    shorten(&value.to_string(), 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_shortened_on_a_character_boundary() {
        let long = "é".repeat(10_000);
        let short = shorten(&long, 100);
        assert!(short.chars().count() < 130 && short.contains("20000 bytes"), "{short}");
        assert_eq!(shorten("héllo", 10), "héllo");
        assert!(brief(&Value::String("x".repeat(1 << 20))).len() < 130);
    }
}
