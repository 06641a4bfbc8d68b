//! The reference's "loose" base64url decoder (`util/rfc4648.ts` with `{loose: true}`).
//!
//! Rules, all parity-relevant: alphabet `A–Z a–z 0–9 - _` only; any number of
//! trailing `=` is stripped; after stripping, a length ≡ 1 (mod 4) or non-zero
//! leftover bits (a non-canonical encoding) fail. The empty string is zero
//! bytes. `base64-simd` does the decoding (4–8× faster than the `base64`
//! crate's engine on a token's ~850 characters; a property test checks that
//! both accept and produce the same); only the padding strip is ours.

use std::mem::MaybeUninit;

/// URL-safe alphabet, no padding accepted (we strip it first), canonical trailing bits required.
#[cfg(any(test, feature = "test-hooks"))]
const STRICT_URL_SAFE: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Decodes `input` with the reference's loose rules; `None` where the reference throws.
pub fn decode_loose(input: &str) -> Option<Vec<u8>> {
    let trimmed = input.trim_end_matches('=');
    base64_simd::URL_SAFE_NO_PAD.decode_to_vec(trimmed).ok()
}

/// What [`decode_loose_into`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'b> {
    /// The bytes, in the caller's buffer.
    Bytes(&'b [u8]),
    /// Where [`decode_loose`] fails.
    Invalid,
    /// The result might not fit the buffer: use [`decode_loose`].
    TooLarge,
}

/// [`decode_loose`] into `buf` when the result fits (no allocation: JWT
/// headers and payloads are decoded, parsed and dropped on every call).
pub fn decode_loose_into<'b>(input: &str, buf: &'b mut [u8]) -> Decoded<'b> {
    let trimmed = input.trim_end_matches('=');
    if trimmed.len() / 4 * 3 + 3 > buf.len() {
        return Decoded::TooLarge;
    }
    match base64_simd::URL_SAFE_NO_PAD.decode(trimmed.as_bytes(), base64_simd::Out::from_slice(buf)) {
        Ok(bytes) => Decoded::Bytes(bytes),
        Err(_) => Decoded::Invalid,
    }
}

/// [`decode_loose_into`] into a buffer that may be uninitialised (the verifier's scratch
/// space, which then needs no clearing on every call).
pub fn decode_loose_into_uninit<'b>(input: &str, buf: &'b mut [MaybeUninit<u8>]) -> Decoded<'b> {
    decode_unpadded_into(input.trim_end_matches('=').as_bytes(), buf)
}

/// Unpadded, canonical base64url (what [`decode_loose`] accepts of a segment the
/// JWT format regex has already cleared of `=`) into `buf`, which may be
/// uninitialised: detection decodes into an uninitialised stack buffer, so a
/// call neither allocates nor clears memory.
pub fn decode_unpadded_into<'b>(input: &[u8], buf: &'b mut [MaybeUninit<u8>]) -> Decoded<'b> {
    if input.len() / 4 * 3 + 3 > buf.len() {
        return Decoded::TooLarge;
    }
    match base64_simd::URL_SAFE_NO_PAD.decode(input, base64_simd::Out::from_uninit_slice(buf)) {
        Ok(bytes) => Decoded::Bytes(bytes),
        Err(_) => Decoded::Invalid,
    }
}

/// True iff `input` is unpadded, canonical base64url ([`decode_unpadded_into`]
/// would succeed), checked with SIMD and without decoding: the signature
/// segment of a token being detected.
pub fn is_valid_unpadded(input: &[u8]) -> bool {
    base64_simd::URL_SAFE_NO_PAD.check(input).is_ok()
}

/// True iff `input` would decode (same rules as [`decode_loose`]) without allocating the output.
#[cfg(any(test, feature = "test-hooks"))]
pub fn is_valid_loose(input: &str) -> bool {
    let trimmed = input.trim_end_matches('=');
    let bytes = trimmed.as_bytes();
    if bytes.len() % 4 == 1 {
        return false;
    }
    if !bytes.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return false;
    }
    // Canonical trailing bits: the last character's unused low bits must be zero.
    let Some(&last) = bytes.last() else { return true };
    let value = sextet(last);
    match bytes.len() % 4 {
        2 => value & 0b1111 == 0,
        3 => value & 0b11 == 0,
        _ => true,
    }
}

/// Encodes without padding (tests build their tokens with it).
#[cfg(any(test, feature = "test-hooks"))]
pub fn encode(bytes: &[u8]) -> String {
    base64::Engine::encode(&STRICT_URL_SAFE, bytes)
}

#[cfg(any(test, feature = "test-hooks"))]
fn sextet(c: u8) -> u8 {
    match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        _ => 63,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use proptest::prelude::*;

    #[test]
    fn decodes_canonical_and_padded_forms() {
        assert_eq!(decode_loose("e30").as_deref(), Some(&b"{}"[..]));
        assert_eq!(decode_loose("e30=").as_deref(), Some(&b"{}"[..]));
        assert_eq!(decode_loose("e30==").as_deref(), Some(&b"{}"[..]));
        assert_eq!(decode_loose("").as_deref(), Some(&b""[..]));
        assert_eq!(decode_loose("QQ").as_deref(), Some(&b"A"[..]));
    }

    #[test]
    fn rejects_what_the_reference_rejects() {
        assert_eq!(decode_loose("QR"), None, "non-zero trailing bits");
        assert_eq!(decode_loose("Q"), None, "length 1 mod 4");
        assert_eq!(decode_loose("abcde"), None, "length 1 mod 4");
        assert_eq!(decode_loose("a+b/"), None, "standard alphabet");
        assert_eq!(decode_loose("e3 0"), None, "whitespace");
        assert_eq!(decode_loose("e3=0"), None, "inner padding");
        assert_eq!(decode_loose("é"), None, "non-ASCII");
    }

    proptest! {
        #[test]
        fn validity_check_agrees_with_decoder(s in "[A-Za-z0-9_=+/ -]{0,12}") {
            prop_assert_eq!(is_valid_loose(&s), decode_loose(&s).is_some());
        }

        #[test]
        fn simd_decoder_agrees_with_the_base64_crate(s in "[A-Za-z0-9_=+/. -]{0,160}", flip in 0usize..200) {
            // Long inputs (the SIMD paths), mostly valid ones with one byte perhaps changed.
            let valid = encode(s.as_bytes());
            let mut bytes = valid.clone().into_bytes();
            if let Some(b) = bytes.get_mut(flip) {
                *b = s.as_bytes().first().copied().unwrap_or(b'=');
            }
            for candidate in [s.clone(), valid, String::from_utf8_lossy(&bytes).into_owned()] {
                let trimmed = candidate.trim_end_matches('=');
                prop_assert_eq!(decode_loose(&candidate), STRICT_URL_SAFE.decode(trimmed).ok(), "{}", candidate);
            }
        }

        #[test]
        fn decoding_into_a_buffer_agrees_with_decode_loose(s in "[A-Za-z0-9_=+/-]{0,60}", size in 0usize..64) {
            let mut buf = vec![0u8; size];
            match decode_loose_into(&s, &mut buf) {
                Decoded::Bytes(bytes) => prop_assert_eq!(Some(bytes.to_vec()), decode_loose(&s)),
                Decoded::Invalid => prop_assert_eq!(None, decode_loose(&s)),
                Decoded::TooLarge => prop_assert!(s.trim_end_matches('=').len() / 4 * 3 + 3 > size),
            }
        }

        #[test]
        fn unpadded_decoding_agrees_with_decode_loose_on_unpadded_input(s in "[A-Za-z0-9_+/. -]{0,120}", size in 0usize..100) {
            // Without `=` (the format regex has ruled it out), both decoders accept the same.
            let mut buf = vec![MaybeUninit::uninit(); size];
            match decode_unpadded_into(s.as_bytes(), &mut buf) {
                Decoded::Bytes(bytes) => prop_assert_eq!(Some(bytes.to_vec()), decode_loose(&s)),
                Decoded::Invalid => prop_assert_eq!(None, decode_loose(&s)),
                Decoded::TooLarge => prop_assert!(s.len() / 4 * 3 + 3 > size),
            }
            prop_assert_eq!(is_valid_unpadded(s.as_bytes()), decode_loose(&s).is_some());
            let valid = encode(s.as_bytes());
            prop_assert!(is_valid_unpadded(valid.as_bytes()));
        }

        #[test]
        fn encode_decode_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(decode_loose(&encode(&bytes)), Some(bytes));
        }
    }
}
