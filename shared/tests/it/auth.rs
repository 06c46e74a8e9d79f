//! Better Auth tokens in full (HS256 secret, EdDSA/ES256/RS256 from a JWKS)
//! and the attacks of RFC 8725: each is a 401 (or the 403/503 docs/API.md names),
//! with its reason, and none reaches the database.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use shared::config::{AuthConfig, Config};
use shared::App;
use std::sync::OnceLock;
use testkit::*;
use xtask::jwks_server::JwksServer;

/// Throwaway signing keys made with the openssl CLI, and their public JWKS.
struct Keys {
    ed: EncodingKey,
    ec: EncodingKey,
    rsa: EncodingKey,
    /// An Ed25519 key that is not in the JWKS (the attacker's).
    rogue_ed: EncodingKey,
    rogue_jwk: Value,
    jwks: Value,
    /// The bytes an attacker could use as an HMAC secret: the public keys.
    public_material: Vec<Vec<u8>>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = std::env::temp_dir().join(unique("jwt-keys"));
        std::fs::create_dir_all(&dir).unwrap();
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        let ed_key = |name: &str| {
            openssl(&dir, &["genpkey", "-algorithm", "ed25519", "-outform", "DER", "-out", name]);
            let public = openssl(&dir, &["pkey", "-inform", "DER", "-in", name, "-pubout", "-outform", "DER"]);
            (read(name), public[public.len() - 32..].to_vec(), public)
        };
        let (ed_der, ed_x, ed_public) = ed_key("ed.der");
        let (rogue_der, rogue_x, _) = ed_key("rogue.der");
        openssl(&dir, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-outform", "DER", "-out", "ec.der"]);
        // genpkey writes EC keys as SEC1; the signer wants PKCS#8.
        openssl(&dir, &["pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-in", "ec.der", "-outform", "DER", "-out", "ec8.der"]);
        let ec_public = openssl(&dir, &["pkey", "-inform", "DER", "-in", "ec.der", "-pubout", "-outform", "DER"]);
        let point = &ec_public[ec_public.len() - 65..];
        openssl(&dir, &["genrsa", "-out", "rsa.pem", "2048"]);
        openssl(&dir, &["rsa", "-in", "rsa.pem", "-outform", "DER", "-traditional", "-out", "rsa.der"]);
        let modulus = String::from_utf8(openssl(&dir, &["rsa", "-in", "rsa.pem", "-noout", "-modulus"])).unwrap();
        let n: Vec<u8> = (0..modulus.trim().len() - 8)
            .step_by(2)
            .map(|i| u8::from_str_radix(&modulus.trim()[8 + i..10 + i], 16).unwrap())
            .collect();
        let rsa_public = openssl(&dir, &["rsa", "-in", "rsa.pem", "-pubout", "-outform", "DER"]);
        let jwks = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": B64.encode(&ed_x), "kid": "ed-1", "alg": "EdDSA", "use": "sig"},
            {"kty": "EC", "crv": "P-256", "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..]), "kid": "ec-1", "alg": "ES256", "use": "sig"},
            {"kty": "RSA", "n": B64.encode(&n), "e": "AQAB", "kid": "rsa-1", "alg": "RS256", "use": "sig"},
        ]});
        let keys = Keys {
            ed: EncodingKey::from_ed_der(&ed_der),
            ec: EncodingKey::from_ec_der(&read("ec8.der")),
            rsa: EncodingKey::from_rsa_der(&read("rsa.der")),
            rogue_ed: EncodingKey::from_ed_der(&rogue_der),
            rogue_jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(&rogue_x), "kid": "ed-1"}),
            public_material: vec![ed_x, ed_public, ec_public.clone(), rsa_public, jwks.to_string().into_bytes()],
            jwks,
        };
        let _ = std::fs::remove_dir_all(&dir);
        keys
    })
}

/// A JWT with exactly this header and these claims, signed with `key` as `alg`.
fn forge(header: Value, claims: Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

fn claims_for(user: &str) -> Value {
    json!({"sub": user, "exp": now() + 600, "iat": now(), "email": format!("{user}@example.com")})
}

fn ed_token(user: &str) -> String {
    forge(
        json!({"alg": "EdDSA", "typ": "JWT", "kid": "ed-1"}),
        claims_for(user),
        &keys().ed,
        Algorithm::EdDSA,
    )
}

fn config(secret: bool, jwks: bool) -> Config {
    let mut config = config_for(&database_url());
    config.auth = AuthConfig {
        secret: secret.then(|| SECRET.to_owned()),
        jwks: jwks.then(|| keys().jwks.to_string()),
        ..AuthConfig::default()
    };
    config
}

/// GET …/tasks as `user` with this Authorization value.
async fn list_as(app: &App, user: &str, authorization: &str) -> Reply {
    Call::new(ListTasks)
        .path_user(user)
        .authorization(Some(authorization.to_owned()))
        .send(app)
        .await
}

/// Asserts a 401 with a Bearer challenge; returns the reason given.
#[track_caller]
fn unauthorized(reply: &Reply) -> String {
    let problem = reply.problem(401);
    assert!(reply
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer error=\"invalid_token\""));
    problem["detail"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_configured_kind_of_token_is_accepted() {
    let app = app_with(config(true, true)).await;
    let user = unique("keys");
    let hs = sign_with(SECRET, claims_for(&user));
    let es = forge(
        json!({"alg": "ES256", "kid": "ec-1"}),
        claims_for(&user),
        &keys().ec,
        Algorithm::ES256,
    );
    let rs = forge(
        json!({"alg": "RS256", "kid": "rsa-1"}),
        claims_for(&user),
        &keys().rsa,
        Algorithm::RS256,
    );
    let no_kid = forge(
        json!({"alg": "EdDSA"}),
        claims_for(&user),
        &keys().ed,
        Algorithm::EdDSA,
    );
    for token in [hs, ed_token(&user), es, rs, no_kid] {
        let reply = list_as(&app, &user, &format!("Bearer {token}")).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    // The subject may also come from a `user_id` claim.
    let legacy = forge(
        json!({"alg": "EdDSA", "kid": "ed-1"}),
        json!({"user_id": user, "exp": now() + 60}),
        &keys().ed,
        Algorithm::EdDSA,
    );
    assert_eq!(
        list_as(&app, &user, &format!("Bearer {legacy}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_remote_jwks_is_fetched_at_init_and_refetched_at_most_once_a_minute() {
    let server = JwksServer::start(Some(keys().jwks.to_string()));
    let mut config = config(false, false);
    config.auth.jwks_url = Some(server.url.clone());
    let app = app_with(config).await;
    assert_eq!(server.hits(), 1, "fetched once during init");

    let user = unique("remote");
    assert_eq!(
        list_as(&app, &user, &format!("Bearer {}", ed_token(&user)))
            .await
            .status,
        200
    );
    assert_eq!(server.hits(), 1, "known keys are served from memory");

    // An unknown kid triggers one refetch; more unknown kids within the minute do not.
    for kid in ["new-1", "new-2", "new-3"] {
        let token = forge(
            json!({"alg": "EdDSA", "kid": kid}),
            claims_for(&user),
            &keys().ed,
            Algorithm::EdDSA,
        );
        let reason = unauthorized(&list_as(&app, &user, &format!("Bearer {token}")).await);
        assert!(reason.contains("kid"), "{reason}");
    }
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn an_unreachable_jwks_is_503_not_401() {
    let server = JwksServer::start(None);
    let mut config = config(true, false);
    config.auth.jwks_url = Some(server.url.clone());
    let (app, application) = counted_app(config).await;
    let user = unique("jwks-down");
    let reply = list_as(&app, &user, &format!("Bearer {}", ed_token(&user))).await;
    reply.problem(503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    // HS256 keeps working meanwhile.
    let hs = sign_with(SECRET, claims_for(&user));
    assert_eq!(
        list_as(&app, &user, &format!("Bearer {hs}")).await.status,
        200
    );
    assert_eq!(
        settled_count(&application).await,
        1,
        "only the HS256 request ran SQL"
    );
}

#[tokio::test]
async fn algorithm_confusion_and_unsigned_tokens_are_refused() {
    let (app, application) = counted_app(config(true, true)).await;
    let (secret_only, _) = counted_app(config(true, false)).await;
    let (jwks_only, _) = counted_app(config(false, true)).await;
    let user = unique("confusion");
    let claims = claims_for(&user);
    let payload = B64.encode(claims.to_string());

    for spelling in ["none", "None", "NONE", "nOnE"] {
        let header = B64.encode(json!({"alg": spelling, "typ": "JWT"}).to_string());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            unauthorized(&list_as(&app, &user, &format!("Bearer {token}")).await);
        }
    }
    // HS256 with a public key (in any encoding an attacker might pick) as the secret.
    for material in &keys().public_material {
        let token = forge(
            json!({"alg": "HS256", "kid": "ed-1"}),
            claims.clone(),
            &EncodingKey::from_secret(material),
            Algorithm::HS256,
        );
        for app in [&app, &jwks_only] {
            unauthorized(&list_as(app, &user, &format!("Bearer {token}")).await);
        }
    }
    // Asymmetric tokens with only the secret configured, and HS256 with only a JWKS.
    let reason =
        unauthorized(&list_as(&secret_only, &user, &format!("Bearer {}", ed_token(&user))).await);
    assert!(reason.contains("no JWKS"), "{reason}");
    let reason = unauthorized(
        &list_as(
            &jwks_only,
            &user,
            &format!("Bearer {}", sign_with(SECRET, claims.clone())),
        )
        .await,
    );
    assert!(reason.contains("HS256"), "{reason}");
    // Algorithms nobody configured, and a key used with another key's algorithm.
    let hs512 = forge(
        json!({"alg": "HS512"}),
        claims.clone(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS512,
    );
    unauthorized(&list_as(&app, &user, &format!("Bearer {hs512}")).await);
    let mismatched = forge(
        json!({"alg": "ES256", "kid": "ed-1"}),
        claims.clone(),
        &keys().ec,
        Algorithm::ES256,
    );
    unauthorized(&list_as(&app, &user, &format!("Bearer {mismatched}")).await);
    assert_eq!(
        settled_count(&application).await,
        0,
        "no attack reached the database"
    );
}

#[tokio::test]
async fn time_issuer_and_audience_claims_are_enforced() {
    let mut strict = config(true, true);
    strict.auth.issuer = Some("https://app.example".into());
    strict.auth.audience = Some("https://app.example".into());
    let (app, application) = counted_app(strict).await;
    let user = unique("claims");
    let token = |claims: Value| {
        forge(
            json!({"alg": "EdDSA", "kid": "ed-1"}),
            claims,
            &keys().ed,
            Algorithm::EdDSA,
        )
    };
    let good = json!({"sub": user, "exp": now() + 600, "iss": "https://app.example", "aud": "https://app.example"});
    assert_eq!(
        list_as(&app, &user, &format!("Bearer {}", token(good.clone())))
            .await
            .status,
        200
    );
    let before = settled_count(&application).await;

    let with = |key: &str, value: Value| {
        let mut claims = good.clone();
        claims[key] = value;
        claims
    };
    let cases = [
        (with("exp", json!(now() - 3600)), "expired"),
        (with("nbf", json!(now() + 3600)), "nbf"),
        (with("iat", json!(now() + 3600)), "iat"),
        (with("iss", json!("https://evil.example")), "issuer"),
        (with("aud", json!("https://evil.example")), "audience"),
        (with("sub", json!("")), "subject"),
        (with("sub", json!(42)), "sub"),
        (with("sub", json!("x".repeat(256))), "too long"),
        (with("sub", Value::Null), "subject"),
    ];
    for (claims, expected) in cases {
        let reason =
            unauthorized(&list_as(&app, &user, &format!("Bearer {}", token(claims.clone()))).await);
        assert!(reason.contains(expected), "{claims}: {reason}");
    }
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert!(
        unauthorized(&list_as(&app, &user, &format!("Bearer {}", token(no_exp))).await)
            .contains("exp")
    );
    assert_eq!(settled_count(&application).await, before);
}

#[tokio::test]
async fn tampered_tokens_and_hostile_headers_are_refused() {
    let (app, application) = counted_app(config(true, true)).await;
    let user = unique("tamper");
    let victim = unique("victim");
    let token = ed_token(&user);
    let parts: Vec<&str> = token.split('.').collect();

    // Payload swapped for another user's, signature kept.
    let forged_payload = B64.encode(claims_for(&victim).to_string());
    let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert!(
        unauthorized(&list_as(&app, &victim, &format!("Bearer {tampered}")).await)
            .contains("signature")
    );
    // Header changed (another kid), signature kept.
    let other_header = B64.encode(json!({"alg": "EdDSA", "typ": "JWT", "kid": "ec-1"}).to_string());
    unauthorized(
        &list_as(
            &app,
            &user,
            &format!("Bearer {other_header}.{}.{}", parts[1], parts[2]),
        )
        .await,
    );
    // Unknown kid.
    let unknown = forge(
        json!({"alg": "EdDSA", "kid": "nope"}),
        claims_for(&user),
        &keys().ed,
        Algorithm::EdDSA,
    );
    assert!(
        unauthorized(&list_as(&app, &user, &format!("Bearer {unknown}")).await).contains("kid")
    );

    // Keys offered by the token itself are never fetched nor trusted.
    let attacker = JwksServer::start(Some(json!({"keys": [keys().rogue_jwk]}).to_string()));
    for header in [
        json!({"alg": "EdDSA", "kid": "ed-1", "jku": attacker.url}),
        json!({"alg": "EdDSA", "kid": "ed-1", "x5u": attacker.url}),
        json!({"alg": "EdDSA", "kid": "ed-1", "jwk": keys().rogue_jwk}),
    ] {
        let rogue = forge(
            header.clone(),
            claims_for(&user),
            &keys().rogue_ed,
            Algorithm::EdDSA,
        );
        unauthorized(&list_as(&app, &user, &format!("Bearer {rogue}")).await);
    }
    assert_eq!(attacker.hits(), 0, "jku/x5u were followed");

    // A critical header extension we do not understand, even when well signed.
    let critical = forge(
        json!({"alg": "EdDSA", "kid": "ed-1", "crit": ["urn:example:bind"], "urn:example:bind": true}),
        claims_for(&user),
        &keys().ed,
        Algorithm::EdDSA,
    );
    assert!(
        unauthorized(&list_as(&app, &user, &format!("Bearer {critical}")).await).contains("crit")
    );

    // Over 8 KiB, even when well signed.
    let mut big = claims_for(&user);
    big["padding"] = json!("p".repeat(8 * 1024));
    let big = forge(
        json!({"alg": "EdDSA", "kid": "ed-1"}),
        big,
        &keys().ed,
        Algorithm::EdDSA,
    );
    assert!(
        unauthorized(&list_as(&app, &user, &format!("Bearer {big}")).await).contains("too large")
    );

    // Header shapes: other schemes, empty, two tokens (API Gateway joins
    // repeated headers with a comma).
    for authorization in [
        format!("Basic {token}"),
        format!("Token {token}"),
        token.clone(),
        "Bearer ".to_owned(),
        format!("Bearer {token},Bearer {token}"),
        format!("Bearer {token} extra"),
    ] {
        unauthorized(&list_as(&app, &user, &authorization).await);
    }
    assert_eq!(
        settled_count(&application).await,
        0,
        "no attack reached the database"
    );
}

#[tokio::test]
async fn path_tricks_do_not_turn_a_subject_into_another_user() {
    let (app, application) = counted_app(config(true, true)).await;
    let user = unique("alice").to_lowercase();
    let token = format!("Bearer {}", ed_token(&user));
    for path_user in [
        format!("{user}%2F"),
        format!("{user}/"),
        user.to_uppercase(),
        format!("{user}%00"),
        format!("%2F{user}"),
        format!("{user}%2Fx"),
    ] {
        list_as(&app, &path_user, &token).await.problem(403);
    }
    assert_eq!(settled_count(&application).await, 0);
    // The same id, percent-encoded, is still that user.
    let encoded: String = user.bytes().map(|b| format!("%{b:02X}")).collect();
    assert_eq!(list_as(&app, &encoded, &token).await.status, 200);
}

/// The cold start's two network jobs, the database connection and the JWKS
/// fetch, are in flight together: each side here answers only once the other
/// has arrived too, so a warm-up that did one after the other leaves one side
/// waiting alone (for a second, then it goes on and the flag shows it).
#[tokio::test]
async fn init_connects_to_the_database_and_fetches_the_jwks_at_once() {
    let rendezvous = std::sync::Arc::new(Rendezvous::default());
    let meeting = rendezvous.clone();
    let server = JwksServer::start_then(Some(keys().jwks.to_string()), move || meeting.meet());
    let url = database_url();
    let upstream = port_of(&url);
    let gate = gated_proxy(upstream, rendezvous.clone());
    let mut config = config(false, false);
    config.database.url = url.replace(&format!(":{upstream}/"), &format!(":{gate}/"));
    config.auth.jwks_url = Some(server.url.clone());
    let app = app_with(config).await;
    assert!(
        !rendezvous.anyone_went_alone(),
        "the database connection and the JWKS fetch ran one after the other"
    );
    assert_eq!(server.hits(), 1);
    let user = unique("overlap");
    let reply = list_as(&app, &user, &format!("Bearer {}", ed_token(&user))).await;
    assert_eq!(reply.status, 200);
}
