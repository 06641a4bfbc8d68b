//! The decoder and the detectors on arbitrary input: never a panic, and the streaming field
//! probe used by detection always agrees with the full parse used by verification.
#![no_main]

use clerk_m2m_core::TokenType;
use clerk_m2m_core::internals::split3;
use clerk_m2m_core::{decode_with_limit, DecodeError};
use clerk_m2m_core::internals::json::{parse_segment, probe_string_field, FieldProbe};
use clerk_m2m_core::internals::{base64url, classify_jwt, redact};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// What `probe_string_field` must report, computed from the full parse.
fn expected_probe(parsed: &Option<Value>, field: &str) -> Option<FieldProbe> {
    let v = parsed.as_ref()?;
    Some(match v.as_object().and_then(|o| o.get(field)) {
        Some(Value::String(s)) => FieldProbe::String(s.clone()),
        _ => FieldProbe::NotAString,
    })
}

fuzz_target!(|data: &[u8]| {
    // JSON segment parsing, both ways.
    // Where the full parse succeeds, the probe must say exactly the same. The probe may accept
    // more (it skips other members without converting them, so `1e400` or a lone surrogate
    // there does not fail it, as JSON.parse would not fail either): that is the documented
    // J-40/J-87 divergence of verification, not of detection.
    let parsed = parse_segment(data);
    for field in ["sub", "typ"] {
        let probe = probe_string_field(data, field);
        if parsed.is_some() || probe.is_none() {
            assert_eq!(
                probe,
                expected_probe(&parsed, field),
                "probe({field}) disagrees with the parse"
            );
        }
    }

    let token = String::from_utf8_lossy(data);
    let token = token.as_ref();

    // Detection.
    let jwt_format = clerk_m2m_core::is_jwt_format(token);
    let class = classify_jwt(token, 64 * 1024);
    if class.is_some() {
        assert!(jwt_format);
    }
    let kind = clerk_m2m_core::get_machine_token_type(token);
    let _ = (
        clerk_m2m_core::is_oauth_jwt(token),
        clerk_m2m_core::is_machine_token(token),
        clerk_m2m_core::is_machine_token_by_prefix(token),
    );

    // Decoding: the ceiling first, then three segments.
    match decode_with_limit(token, 64 * 1024) {
        Ok(d) => {
            assert!(split3(token).is_some());
            assert_eq!(
                d.signing_input(token).len(),
                d.raw_header.len() + 1 + d.raw_payload.len()
            );
            if let Some(c) = class {
                // Detection and decoding read the same values.
                let sub_is_m2m = matches!(d.payload.as_object().and_then(|o| o.get("sub")), Some(Value::String(s)) if s.starts_with("mch_"));
                assert_eq!(c.m2m, sub_is_m2m);
                if c.m2m {
                    assert_eq!(kind, Ok(TokenType::M2MToken));
                }
            }
        }
        Err(DecodeError::TooLarge { .. }) => assert!(token.len() > 64 * 1024),
        Err(DecodeError::NotThreeParts) => assert!(split3(token).is_none()),
        Err(DecodeError::Undecodable) => {}
    }

    // base64url round trip on whatever decodes.
    if let Some(bytes) = base64url::decode_loose(token) {
        assert_eq!(
            base64url::decode_loose(&base64url::encode(&bytes)).as_deref(),
            Some(bytes.as_slice())
        );
    }
    assert_eq!(
        base64url::is_valid_loose(token),
        base64url::decode_loose(token).is_some()
    );

    // Redaction never splits a character and never shows more than 7.
    let prefix = redact::secret_prefix(token);
    assert!(prefix.trim_end_matches('…').chars().count() <= 7);
    let echoed = redact::echo_untrusted(token);
    assert!(!echoed.contains('\n') && !echoed.contains('\r'));
});
