//! Text for people: error messages that quote an input never quote all of a huge one.

use serde_json::Value;

/// `text` in at most `max` characters: when cut, a prefix and a marker saying how long it was.
pub fn shorten(text: &str, max: usize) -> String {
    if text.char_indices().nth(max).is_none() {
        return text.to_owned();
    }
    let marker = format!("… ({} bytes in all)", text.len());
    let keep = max.saturating_sub(marker.chars().count());
    let cut = text
        .char_indices()
        .nth(keep)
        .map_or(text.len(), |(at, _)| at);
    format!("{}{marker}", &text[..cut])
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
        assert!(
            short.chars().count() < 130 && short.contains("20000 bytes"),
            "{short}"
        );
        assert_eq!(shorten("héllo", 10), "héllo");
        assert!(brief(&Value::String("x".repeat(1 << 20))).chars().count() <= 80);
    }
}
