//! 2.5 base64url and signature bytes

use crate::fixtures::*;

#[test]
fn j_60_padding_makes_a_token_unroutable() {
    run(async {
        let t = tok(&h0(), &p0());
        let segs: Vec<&str> = t.split('.').collect();
        for i in 0..3 {
            let mut s: Vec<String> = segs.iter().map(|x| x.to_string()).collect();
            s[i].push('=');
            check(&s.join("."), Exp::Throw, "padding").await;
        }
    });
}

#[test]
fn j_61_the_standard_alphabet_is_unroutable() {
    run(async {
        // Find a token whose encoding uses '-' or '_' and swap them for '+' '/'.
        let mut i = 0;
        let t = loop {
            let t = tok(&h0(), &with(p0(), json!({"jti": format!("mt_{i}")})));
            if t.contains('-') || t.contains('_') {
                break t;
            }
            i += 1;
        };
        check(&t.replace('-', "+").replace('_', "/"), Exp::Throw, "+/").await;
    });
}

#[test]
fn j_62_whitespace_anywhere_is_unroutable() {
    run(async {
        let t = tok(&h0(), &p0());
        let (a, b) = t.split_at(10);
        for bad in [
            format!(" {t}"),
            format!("{t}\n"),
            format!("{a} {b}"),
            format!("\t{t}"),
            format!("{t}\r\n"),
        ] {
            check(&bad, Exp::Throw, "whitespace").await;
        }
    });
}

#[test]
fn j_63_non_canonical_trailing_bits_are_undecodable() {
    run(async {
        let t = tok(&h0(), &p0());
        let (input, sig) = t.rsplit_once('.').unwrap();
        assert_eq!(sig.len(), 342, "256 bytes = 342 chars, 4 unused bits");
        let last = sig.as_bytes()[341];
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = ALPHABET.iter().position(|&c| c == last).unwrap();
        let flipped = ALPHABET[idx ^ 1] as char;
        let bad = format!("{input}.{}{flipped}", &sig[..341]);
        check(
            &bad,
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "trailing bits",
        )
        .await;
    });
}

#[test]
fn j_64_a_segment_of_length_1_mod_4_is_undecodable() {
    run(async {
        let t = tok(&h0(), &p0());
        // 342 − 1 = 341 ≡ 1 (mod 4).
        check(
            &t[..t.len() - 1],
            Exp::Reject(M2M, INVALID, UNDECODABLE),
            "341-char signature",
        )
        .await;
    });
}

#[test]
fn j_65_empty_segments_are_unroutable() {
    run(async {
        let t = tok(&h0(), &p0());
        let sig = t.rsplit('.').next().unwrap();
        let p = b64(p0().to_string().as_bytes());
        for bad in [
            format!("..{sig}"),
            format!(".{p}.{sig}"),
            format!("{}..{sig}", b64(h0_text().as_bytes())),
        ] {
            check(&bad, Exp::Throw, "empty segment").await;
        }
    });
}

#[test]
fn j_70_a_signature_without_its_leading_zero_byte_is_invalid() {
    run(async {
        // PKCS#1 v1.5 is deterministic: vary the payload until the signature starts with 0x00.
        let (payload, sig) = (0..20_000)
            .map(|i| with(p0(), json!({"jti": format!("mt_{i}")})))
            .find_map(|p| {
                let input = format!(
                    "{}.{}",
                    b64(h0_text().as_bytes()),
                    b64(p.to_string().as_bytes())
                );
                let sig = A.sign(JwtAlgorithm::RS256, input.as_bytes());
                (sig[0] == 0).then_some((p, sig))
            })
            .expect("a signature with a leading zero byte");
        check(&with_sig(&h0(), &payload, &sig), ACCEPT, "256 bytes").await;
        check(
            &with_sig(&h0(), &payload, &sig[1..]),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "255 bytes",
        )
        .await;
    });
}

#[test]
fn j_71_an_extra_leading_zero_byte_is_invalid() {
    run(async {
        let input = format!(
            "{}.{}",
            b64(h0_text().as_bytes()),
            b64(p0().to_string().as_bytes())
        );
        let mut sig = vec![0u8];
        sig.extend(A.sign(JwtAlgorithm::RS256, input.as_bytes()));
        check(
            &with_sig(&h0(), &p0(), &sig),
            Exp::Reject(M2M, TVF, SIG_INVALID),
            "257 bytes",
        )
        .await;
    });
}

#[test]
fn j_72_zero_ff_and_spliced_signatures_are_invalid() {
    run(async {
        let other = tok(&h0(), &with(p0(), json!({"sub": "mch_other"})));
        let spliced = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            other.rsplit('.').next().unwrap(),
        )
        .unwrap();
        for (what, sig) in [
            ("zeros", vec![0u8; 256]),
            ("0xFF", vec![0xFF; 256]),
            ("spliced", spliced),
            ("empty-ish", vec![1]),
        ] {
            check(
                &with_sig(&h0(), &p0(), &sig),
                Exp::Reject(M2M, TVF, SIG_INVALID),
                what,
            )
            .await;
        }
    });
}
