//! Detection allocates nothing: it runs on the JavaScript thread for every
//! request, so its hot path (a real token's `isM2MJwt`, `getMachineTokenType`,
//! …) is checked here with a counting allocator. Its own binary, because the
//! allocator is process-wide; the count is per thread, so nothing else running
//! in the process can disturb it.

use clerk_m2m_core::internals::base64url::encode;
use clerk_m2m_core::{
    get_machine_token_type, is_jwt_format, is_m2m_jwt, is_machine_jwt, is_machine_token, is_machine_token_by_prefix, is_oauth_jwt, TokenType,
};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::allocations_during;

fn jwt(header: &str, payload: &str) -> String {
    let signature: Vec<u8> = (0..=255u8).collect();
    format!("{}.{}.{}", encode(header.as_bytes()), encode(payload.as_bytes()), encode(&signature))
}

#[test]
fn detecting_real_tokens_allocates_nothing() {
    let m2m = jwt(
        r#"{"alg":"RS256","typ":"JWT","kid":"ins_2GIoQhbUpy0hX7B2cVkuTMinXoD","cat":"cl_B7d4PD333AAA"}"#,
        r#"{"iss":"https://clerk.example.test/instances/ins_2GIoQhbUpy0hX7B2cVkuTMinXoD","sub":"mch_2xhFjEI5X2qWRvtV13BzSj8H6Dk","aud":["mch_2yGkLpQ8RtUvWxYz"],"scopes":"mch_2yGkLpQ8RtUvWxYz","jti":"mt_2xKa9Bt6sUvWxYz0123456789ab","iat":1760000000,"nbf":1759999990,"exp":1760003600}"#,
    );
    let oauth = jwt(r#"{"alg":"RS256","typ":"at+jwt","kid":"k"}"#, r#"{"sub":"user_1","client_id":"c","exp":1760003600}"#);
    let session = jwt(r#"{"alg":"RS256","typ":"JWT"}"#, r#"{"sub":"user_1","sid":"sess_1"}"#);
    let inputs: Vec<&str> = vec![&m2m, &oauth, &session, "mt_8XOIucKvqHVr5tYP123456789abcdefghij", "ak_123", "not a token", "a.b.c", ""];
    assert!(m2m.len() > 600, "a realistic size: {}", m2m.len());

    let mut answers = Vec::with_capacity(inputs.len() * 7);
    let run = |answers: &mut Vec<String>| {
        for t in &inputs {
            answers.push(format!(
                "{} {} {} {} {} {} {:?}",
                is_jwt_format(t),
                is_m2m_jwt(t),
                is_oauth_jwt(t),
                is_machine_jwt(t),
                is_machine_token_by_prefix(t),
                is_machine_token(t),
                get_machine_token_type(t)
            ));
        }
    };
    // First call: one-time set-up (SIMD feature detection) and the answers themselves.
    run(&mut answers);
    assert_eq!(answers[0], "true true false true false true Ok(M2MToken)");
    assert_eq!(answers[1], "true false true true false true Ok(OAuthToken)");
    assert_eq!(answers[2], "true false false false false false Err(UnknownMachineTokenType)");

    let mut results = [false; 6];
    let mut kinds = [None; 8];
    let (counted, ()) = allocations_during(|| {
        for _ in 0..100 {
            for (i, t) in inputs.iter().enumerate() {
                results[0] |= is_jwt_format(t);
                results[1] |= is_m2m_jwt(t);
                results[2] |= is_oauth_jwt(t);
                results[3] |= is_machine_jwt(t);
                results[4] |= is_machine_token_by_prefix(t);
                results[5] |= is_machine_token(t);
                kinds[i] = get_machine_token_type(t).ok();
            }
        }
    });
    assert_eq!(counted, 0, "detection allocated {counted} times in 100 rounds");
    assert_eq!(results, [true; 6]);
    assert_eq!(kinds[0], Some(TokenType::M2MToken));
    // The counter does count: a decode that builds a tree allocates.
    assert!(allocations_during(|| drop(clerk_m2m_core::decode(&m2m))).0 > 0);
}
