//! The signing key out of reach (issue 28): the functions that issue tokens read it from
//! Secrets Manager at cold start (here a local one, through the real SDK client) and publish
//! its public half in the table; every function verifies with the published keys, by `kid`.
//! And no function's environment in `template.yaml` holds a secret.

use std::time::Instant;

use crm_tests::secrets::{local_arn, start};
use crm_tests::{test_token_config, with_token, TestEnv};
use lambda_http::http::StatusCode;
use shared::app::start_tokens;
use shared::auth::{SigningKey, Tokens, REREAD_SECONDS};
use shared::domain::{OrgId, OrgRole, Role, UserId};
use shared::http::Function;
use shared::secrets::SigningSecret;

const NAME: &str = "crm-token-signing";
const SECRET: &str = "a signing secret as Secrets Manager generates one, 64 characters";

/// The function's tokens after its cold start, reading `NAME` from `url` when it issues.
async fn cold_start(env: &TestEnv, url: &str, issues: bool) -> Tokens {
    let secret = issues.then(|| SigningSecret::at(url, &local_arn(NAME)));
    let read = secret.as_ref().map(SigningSecret::reading);
    start_tokens(&test_token_config(), &env.app.store, read)
        .await
        .expect("a cold start")
}

#[tokio::test]
async fn an_issuing_cold_start_reads_its_secret_beside_the_keys_and_publishes_its_key_once() {
    let env = TestEnv::new().await;
    let secrets = start(&[(NAME, SECRET)]).await;
    env.calls.take();
    let issuer = cold_start(&env, &secrets.url, true).await;
    assert_eq!(secrets.take_reads(), [NAME], "one GetSecretValue");
    assert_eq!(
        env.calls.take(),
        ["Query", "PutItem"],
        "the keys read, and its own published"
    );
    assert_eq!(
        env.calls.take_actions(),
        ["PutItem(SIGNING_KEY)", "Query(SIGNING_KEY)"]
            .map(String::from)
            .into(),
        "in the keys' partition alone"
    );
    let own = issuer
        .signing_key()
        .expect("an issuing function holds its key");
    assert_eq!(own, SigningKey::from_secret(SECRET).unwrap().public());
    let published = env.app.store.signing_keys().await.unwrap();
    assert!(published.contains(own), "{published:?}");
    env.calls.take();

    // A second cold start with the same secret finds its key listed: one Query.
    let again = cold_start(&env, &secrets.url, true).await;
    assert_eq!(secrets.take_reads(), [NAME]);
    assert_eq!(env.calls.take(), ["Query"]);
    assert_eq!(again.signing_key(), Some(own));

    // A function that only verifies reads no secret, and the keys once.
    let verifier = cold_start(&env, &secrets.url, false).await;
    assert!(secrets.take_reads().is_empty());
    assert_eq!(env.calls.take(), ["Query"]);
    assert!(verifier.signing_key().is_none());
    let user = UserId::generate();
    let token = issuer.issue(user, None, &[]).unwrap().access_token;
    assert_eq!(verifier.verify(&token).unwrap().user, user);
    assert!(!verifier.wants_keys(Instant::now(), false), "just read");
    assert!(env.calls.take().is_empty(), "verified without a call");
    env.assert_invariants().await;
}

/// Rotation: a key published after a function read the keys verifies there at once (one
/// Query, on the first token naming it); a key nobody published costs no read so soon after
/// one, and is refused.
#[tokio::test]
async fn a_token_of_a_key_published_since_the_last_read_makes_one_read_and_verifies() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let secrets = start(&[(NAME, SECRET)]).await;
    let rotated = cold_start(&env, &secrets.url, true).await;
    let organization = OrgId::parse(&m.org).unwrap();
    let roles = [OrgRole {
        organization,
        role: Role::Owner,
    }];
    let token = rotated
        .issue(UserId::parse(&m.user).unwrap(), None, &roles)
        .unwrap()
        .access_token;
    let list = || {
        let path = format!("/api/customers/?organization={}", m.org);
        with_token(crm_tests::get(&path), &token)
    };
    // env.verifier read the keys, before this key was published, a while ago (a read within
    // the last few seconds would make it wait: tests/auth.rs).
    let a_while_ago = Instant::now() - std::time::Duration::from_secs(REREAD_SECONDS);
    let known = [crm_tests::test_signing_key().public().clone()];
    env.verifier.tokens.learn(&known, a_while_ago);
    env.calls.take();
    let (status, answer) = env.send(Function::ReadCustomers, list()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        env.calls.take_actions().contains("Query(SIGNING_KEY)"),
        "the keys read again"
    );
    let (status, _) = env.send(Function::ReadCustomers, list()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !env.calls.take_actions().contains("Query(SIGNING_KEY)"),
        "known now"
    );
    env.calls.take();

    // Never published: refused, and so soon after a read, without another.
    let unpublished = SigningKey::throwaway();
    let forged = Tokens::new(&test_token_config(), Some(unpublished))
        .issue(UserId::parse(&m.user).unwrap(), None, &roles)
        .unwrap()
        .access_token;
    let path = format!("/api/customers/?organization={}", m.org);
    let (status, _) = env
        .send(
            Function::ReadCustomers,
            with_token(crm_tests::get(&path), &forged),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(env.calls.take().is_empty(), "no read within the interval");
    env.assert_invariants().await;
}

#[tokio::test]
async fn an_issuing_cold_start_without_its_secret_or_the_table_refuses_to_start() {
    let env = TestEnv::new().await;
    let secrets = start(&[("short", "only 20 characters..")]).await;
    let missing = start_tokens(
        &test_token_config(),
        &env.app.store,
        Some(SigningSecret::at(&secrets.url, &local_arn(NAME)).reading()),
    )
    .await
    .unwrap_err();
    assert!(missing.0.contains(NAME), "names the secret: {missing}");
    assert!(missing.0.contains("ResourceNotFound"), "{missing}");
    let short = start_tokens(
        &test_token_config(),
        &env.app.store,
        Some(SigningSecret::at(&secrets.url, "short").reading()),
    )
    .await
    .unwrap_err();
    assert!(short.0.contains("at least 32"), "{short}");
    assert!(!short.0.contains("only 20"), "never the value: {short}");

    // The table down: an issuing function cannot publish its key, so it does not start; one
    // that only verifies starts, and reads the keys at its first request.
    let down = crm_tests::app_with_store_down().await;
    let secrets = start(&[(NAME, SECRET)]).await;
    let issuing = start_tokens(
        &test_token_config(),
        &down.store,
        Some(SigningSecret::at(&secrets.url, NAME).reading()),
    )
    .await;
    assert!(issuing.is_err());
    let verifying = start_tokens(&test_token_config(), &down.store, None)
        .await
        .expect("a verifying function starts without the table");
    assert!(verifying.wants_keys(Instant::now(), false));
}

/// The template's side: no function's environment holds a secret or a reference that
/// CloudFormation would resolve into one, and only the functions that issue tokens name the
/// signing secret (by ARN) and may read it.
#[test]
fn no_function_environment_holds_a_secret_and_only_issuers_name_the_signing_secret() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let template: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let text = |value: &serde_norway::Value| serde_norway::to_string(value).unwrap();
    let mut environments = vec![(
        "Globals".to_owned(),
        template["Globals"]["Function"]["Environment"]["Variables"].clone(),
    )];
    let mut functions = 0;
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        functions += 1;
        let name = name.as_str().unwrap().to_owned();
        let variables = resource["Properties"]["Environment"]["Variables"].clone();
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap();
        let issues = Function::ALL
            .into_iter()
            .find(|f| f.binary() == binary)
            .is_some_and(Function::issues_tokens);
        let named = text(&variables["TOKEN_SIGNING_SECRET_ARN"]);
        assert_eq!(
            named.contains("Ref") && named.contains("TokenSigningSecret"),
            issues,
            "{name}: names the signing secret exactly when it issues tokens: {named}"
        );
        let policies = text(&resource["Properties"]["Policies"]);
        assert_eq!(
            policies.contains("secretsmanager:GetSecretValue"),
            issues,
            "{name}: may read the secret exactly when it issues tokens"
        );
        environments.push((name, variables));
    }
    assert_eq!(
        functions,
        Function::ALL.len() + 1,
        "the API's and table-stream"
    );
    for (name, variables) in environments {
        let Some(variables) = variables.as_mapping() else {
            continue;
        };
        for (variable, value) in variables {
            let variable = variable.as_str().unwrap();
            let value = text(value);
            assert!(
                !value.contains("{{resolve:"),
                "{name}.{variable} resolves a secret into the environment: {value}"
            );
            let secret_name = ["SECRET", "PASSWORD", "PRIVATE", "KEY"]
                .iter()
                .any(|word| variable.contains(word))
                && !variable.ends_with("_ARN");
            assert!(!secret_name, "{name}.{variable} names a secret");
        }
    }
    let outputs = text(&template["Outputs"]);
    assert!(!outputs.contains("TokenSigningSecret") && !outputs.contains("{{resolve:"));
}
