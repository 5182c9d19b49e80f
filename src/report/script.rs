//! What goes inside the page's `<script>` elements: JSON data blocks escaped so that no value can
//! end the block, and the Content-Security-Policy hashes of the inline script and style.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// Writes `value` as JSON for a `<script type="application/json">` block: serde_json's output
/// with every `<`, `>` and `&` written as `\u003c`, `\u003e`, `\u0026` and U+2028/U+2029 as
/// `\u2028`/`\u2029`. Those characters can only occur inside JSON strings, where the escapes
/// mean the same, so `JSON.parse` reads the value back unchanged, and no data can close the
/// block (`</script>`) or open a comment (`<!--`).
pub fn json_for_script(value: &impl serde::Serialize) -> Vec<u8> {
    escape_json(&to_json(value)).into_bytes()
}

/// `value` as JSON text. Serializing plain data cannot fail; an error would be a bug in a
/// Serialize impl, written as a JSON string in place of the value rather than aborting the
/// report.
pub fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|e| serde_json::Value::String(format!("unserializable: {e}")).to_string())
}

/// The escaping of [`json_for_script`] on serialized JSON text.
pub fn escape_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The CSP source for an inline element's exact text: `'sha256-BASE64'`.
pub fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_end_the_script_block_and_reads_back_unchanged() {
        let value = serde_json::json!({
            "a": "</script><script>alert(1)</script>",
            "b": "<!-- x --> & y",
            "c": "line\u{2028}separator\u{2029}paragraph",
        });
        let bytes = json_for_script(&value);
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains('<'), "{text}");
        assert!(!text.contains('>'), "{text}");
        assert!(!text.contains('&'), "{text}");
        assert!(
            !text.contains('\u{2028}') && !text.contains('\u{2029}'),
            "{text}"
        );
        assert!(text.contains("\\u003c/script\\u003e"), "{text}");
        assert!(text.contains("\\u2028"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn csp_hash_is_the_base64_sha256_of_the_text() {
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            csp_hash("alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }
}
