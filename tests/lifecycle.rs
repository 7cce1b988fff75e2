//! Customer lifecycle: PATCH and DELETE moving every claim, exact lookups, and /users/me.
//! Every test ends with the table's invariant check.

use std::sync::Arc;

use crm_tests::{key, s, Member, TestEnv};
use lambda_http::http::{header, StatusCode};
use serde_json::{json, Value};
use shared::domain::ProfileType;

async fn customer(env: &TestEnv, m: &Member, body: Value) -> Value {
    let mut body = body;
    body["organization"] = json!(m.org);
    let (status, created) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    env.calls.take();
    created
}

fn id(customer: &Value) -> String {
    customer["id"].as_str().unwrap().to_owned()
}

fn etag(headers: &lambda_http::http::HeaderMap) -> String {
    headers
        .get(header::ETAG)
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_patch_changes_what_it_names_in_one_read_and_one_transaction() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let c = customer(
        &env,
        &m,
        json!({"email": "pat@example.com", "first_name": "Pat"}),
    )
    .await;
    let patch = json!({"status": "inactive", "first_name": null, "name": "Pat L."});
    let (status, updated, headers) = env
        .change_customer(&m.token, &id(&c), Some(&patch), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    assert_eq!(updated["status"], "inactive");
    assert_eq!(updated["first_name"], Value::Null);
    assert_eq!(updated["name"], "Pat L.");
    assert_eq!(updated["email"], c["email"]);
    assert_eq!(
        (updated["version"].as_u64(), etag(&headers)),
        (Some(2), "\"2\"".to_owned())
    );
    let (_, read) = env
        .get_customers(&m.token, &format!("/api/customers/{}/", id(&c)))
        .await;
    assert_eq!(read, updated);
    env.assert_invariants().await;
}

#[tokio::test]
async fn email_and_code_changes_move_their_claims_and_a_taken_value_is_a_409() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let a = customer(&env, &m, json!({"email": "a@example.com", "code": "A-1"})).await;
    let b = customer(&env, &m, json!({"email": "b@example.com", "code": "B-1"})).await;
    let before = env.item_count().await;
    for (patch, field) in [
        (json!({"email": "B@EXAMPLE.com"}), "email"),
        (json!({"code": "b-1"}), "code"),
    ] {
        let (status, answer, _) = env
            .change_customer(&m.token, &id(&a), Some(&patch), &[])
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert!(answer["error"]["fields"][field].is_string(), "{answer}");
    }
    env.assert_untouched(before).await;
    let patch = json!({"email": "a2@example.com", "code": "A-2"});
    let (status, moved, _) = env
        .change_customer(&m.token, &id(&a), Some(&patch), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    // The old values are free again; the new ones are taken.
    let reuse = json!({"organization": m.org, "email": "a@example.com", "code": "A-1"});
    assert_eq!(
        env.create_customer(&m.token, &reuse).await.0,
        StatusCode::CREATED
    );
    let clash = json!({"organization": m.org, "email": "A2@example.com"});
    assert_eq!(
        env.create_customer(&m.token, &clash).await.0,
        StatusCode::CONFLICT
    );
    // A change of case only keeps the claim (it is the same email).
    let (status, _, _) = env
        .change_customer(
            &m.token,
            &id(&b),
            Some(&json!({"email": "B@example.com"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    env.assert_invariants().await;
}

#[tokio::test]
async fn linking_a_user_later_claims_them_and_unlinking_frees_them() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let alice = env.member().await;
    let c = customer(&env, &m, json!({"email": "alice@example.com"})).await;
    let link = json!({"user_id": alice.user});
    let (status, linked, _) = env
        .change_customer(&m.token, &id(&c), Some(&link), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{linked}");
    assert_eq!(linked["user_id"], alice.user.as_str());
    assert!(linked["user_profile"].is_string());
    // Alice is a customer of m's organization now: creating her again answers this one.
    let again = json!({"organization": m.org, "user_id": alice.user, "email": "x@example.com"});
    let (status, existing) = env.create_customer(&m.token, &again).await;
    assert_eq!(
        (status, existing["id"].clone()),
        (StatusCode::OK, c["id"].clone())
    );
    // A second customer cannot take the same user.
    let other = customer(&env, &m, json!({"email": "other@example.com"})).await;
    let (status, answer, _) = env
        .change_customer(&m.token, &id(&other), Some(&link), &[])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"]["fields"]["user_id"].is_string(), "{answer}");
    // Unlinking frees her.
    let unlink = json!({"user_id": null});
    let (status, _, _) = env
        .change_customer(&m.token, &id(&c), Some(&unlink), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = env
        .change_customer(&m.token, &id(&other), Some(&link), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    // An unknown user is a 400 naming user_id.
    let ghost = json!({"user_id": shared::domain::UserId::generate().to_string()});
    let (status, answer, _) = env
        .change_customer(&m.token, &id(&c), Some(&ghost), &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn if_match_guards_against_lost_updates() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let c = customer(&env, &m, json!({"email": "pat@example.com"})).await;
    let (_, _, headers) = env
        .change_customer(
            &m.token,
            &id(&c),
            Some(&json!({"name": "One"})),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(etag(&headers), "\"2\"");
    let (status, answer, _) = env
        .change_customer(
            &m.token,
            &id(&c),
            Some(&json!({"name": "Stale"})),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{answer}");
    assert_eq!(answer["error"]["code"], "precondition_failed");
    let (status, _, _) = env
        .change_customer(&m.token, &id(&c), None, &[("If-Match", "\"1\"")])
        .await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_FAILED,
        "DELETE honours it too"
    );
    let (status, _, _) = env
        .change_customer(&m.token, &id(&c), None, &[("If-Match", "\"2\"")])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    env.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_with_one_etag_let_exactly_one_win() {
    let env = Arc::new(TestEnv::new().await);
    let m = env.member().await;
    let c = customer(&env, &m, json!({"email": "pat@example.com"})).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (env, token, id) = (Arc::clone(&env), m.token.clone(), id(&c));
            tokio::spawn(async move {
                let patch = json!({"name": format!("Writer {i}")});
                env.change_customer(&token, &id, Some(&patch), &[("If-Match", "\"1\"")])
                    .await
                    .0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let wins = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!((wins, refused), (1, 9), "{statuses:?}");
    env.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_customers_moved_onto_one_email_at_once_one_wins() {
    let env = Arc::new(TestEnv::new().await);
    let m = env.member().await;
    let a = customer(&env, &m, json!({"email": "a@example.com"})).await;
    let b = customer(&env, &m, json!({"email": "b@example.com"})).await;
    let tasks: Vec<_> = [id(&a), id(&b)]
        .into_iter()
        .map(|id| {
            let (env, token) = (Arc::clone(&env), m.token.clone());
            tokio::spawn(async move {
                let patch = json!({"email": "both@example.com"});
                env.change_customer(&token, &id, Some(&patch), &[]).await.0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    env.assert_invariants().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delete_racing_patch_leaves_no_orphan() {
    let env = Arc::new(TestEnv::new().await);
    let m = env.member().await;
    let alice = env.member().await;
    for round in 0..5 {
        let c = customer(
            &env,
            &m,
            json!({"email": format!("r{round}@example.com"), "user_id": if round % 2 == 0 { json!(alice.user) } else { Value::Null }}),
        )
        .await;
        let patch = {
            let (env, token, id) = (Arc::clone(&env), m.token.clone(), id(&c));
            tokio::spawn(async move {
                let body = json!({"email": format!("moved{round}@example.com"), "user_id": null});
                env.change_customer(&token, &id, Some(&body), &[]).await.0
            })
        };
        let delete = {
            let (env, token, id) = (Arc::clone(&env), m.token.clone(), id(&c));
            tokio::spawn(async move { env.change_customer(&token, &id, None, &[]).await.0 })
        };
        let (patched, deleted) = (patch.await.unwrap(), delete.await.unwrap());
        assert_eq!(deleted, StatusCode::NO_CONTENT);
        assert!(
            patched == StatusCode::OK || patched == StatusCode::NOT_FOUND,
            "{patched}"
        );
    }
    env.assert_invariants().await;
}

#[tokio::test]
async fn delete_frees_every_claim_leaves_the_profile_and_a_second_delete_is_404() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let alice = env.member().await;
    let body = json!({"user_id": alice.user, "email": "alice@example.com", "code": "AL-1"});
    let c = customer(&env, &m, body.clone()).await;
    let profile = env
        .get(&key::profile(&alice.user, ProfileType::Customer))
        .await
        .unwrap();
    let (status, _, _) = env.change_customer(&m.token, &id(&c), None, &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(env.calls.take(), ["BatchGetItem", "TransactWriteItems"]);
    assert_eq!(
        env.get(&key::profile(&alice.user, ProfileType::Customer))
            .await,
        Some(profile),
        "the profile is the user's, untouched"
    );
    let (status, _, _) = env.change_customer(&m.token, &id(&c), None, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Email, code and user are free again.
    let mut again = body;
    again["organization"] = json!(m.org);
    assert_eq!(
        env.create_customer(&m.token, &again).await.0,
        StatusCode::CREATED
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn strangers_get_404_and_bad_patches_400_naming_the_field() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let stranger = env.member().await;
    let c = customer(&env, &m, json!({"email": "pat@example.com"})).await;
    let before = env.item_count().await;
    for body in [Some(json!({"name": "Mine now"})), None] {
        let (status, _, _) = env
            .change_customer(&stranger.token, &id(&c), body.as_ref(), &[])
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    for (patch, field) in [
        (json!({"organization": stranger.org}), "organization"),
        (json!({"email": null}), "email"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"status": "gone"}), "status"),
        (json!({"nickname": "Pat"}), "nickname"),
        (json!({"first_name": "\u{200b}"}), "first_name"),
    ] {
        let (status, answer, _) = env
            .change_customer(&m.token, &id(&c), Some(&patch), &[])
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{patch}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_string(),
            "{field}: {answer}"
        );
    }
    // The same words, so the change files the customer under the same keys.
    let same_org = json!({"organization": m.org, "name": "PAT"});
    assert_eq!(
        env.change_customer(&m.token, &id(&c), Some(&same_org), &[])
            .await
            .0,
        StatusCode::OK
    );
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}

#[tokio::test]
async fn exact_lookups_read_one_claim() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let c = customer(
        &env,
        &m,
        json!({"email": "Pat@Example.com", "code": "vip-7"}),
    )
    .await;
    for query in [
        "email=pat%40example.com",
        "email=PAT@EXAMPLE.COM",
        "code=VIP-7",
        "code=vip-7",
    ] {
        let query = query.replace("%40", "@");
        let (status, page) = env
            .get_customers(
                &m.token,
                &format!("/api/customers/?organization={}&{query}", m.org),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["customers"], json!([c]), "{query}");
        assert_eq!(page["next_cursor"], Value::Null);
        assert_eq!(env.calls.take(), ["GetItem"]);
    }
    let (status, page) = env
        .get_customers(
            &m.token,
            &format!(
                "/api/customers/?organization={}&email=nobody@example.com",
                m.org
            ),
        )
        .await;
    assert_eq!(
        (status, page["customers"].clone()),
        (StatusCode::OK, json!([]))
    );
    let (status, answer) = env
        .get_customers(
            &m.token,
            &format!("/api/customers/?organization={}&email=a@b.co&code=X", m.org),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

#[tokio::test]
async fn a_user_sees_every_customer_record_that_names_them_in_one_round_trip() {
    let env = TestEnv::new().await;
    let (alice, bob, carol) = (env.member().await, env.member().await, env.member().await);
    for shop in [&bob, &carol] {
        let body =
            json!({"organization": shop.org, "user_id": alice.user, "email": "a@example.com"});
        assert_eq!(
            env.create_customer(&shop.token, &body).await.0,
            StatusCode::CREATED
        );
    }
    env.calls.take();
    let (status, view) = env.me(&alice.token).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    // Its own partition, and the invitations to its email, sent together.
    assert_eq!(env.calls.take(), ["Query", "Query"]);
    assert_eq!(view["user"]["id"], alice.user.as_str());
    assert!(view["user"].get("password_hash").is_none());
    assert_eq!(view["profiles"].as_array().unwrap().len(), 3);
    let orgs = view["organizations"].as_array().unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(
        (&orgs[0]["id"], &orgs[0]["role"]),
        (&json!(alice.org), &json!("owner"))
    );
    let customer_in = |org: &str| {
        view["customers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["organization"] == org)
            .cloned()
    };
    for org in [&alice.org, &bob.org, &carol.org] {
        assert!(
            customer_in(org).is_some(),
            "her own sign-up's customer and the two shops'"
        );
    }
    assert_eq!(view["customers"].as_array().unwrap().len(), 3);
    // Bob deletes his: it is gone from her view at once.
    let bobs = customer_in(&bob.org).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = env.change_customer(&bob.token, &bobs, None, &[]).await.0;
    assert_eq!(deleted, StatusCode::NO_CONTENT);
    let (_, view) = env.me(&alice.token).await;
    assert_eq!(view["customers"].as_array().unwrap().len(), 2);
    let own_org = env.get(&key::organization(&alice.org)).await.unwrap();
    assert!(view.to_string().contains(s(&own_org, "name")));
    env.assert_invariants().await;
}

#[tokio::test]
async fn patch_and_delete_replay_with_an_idempotency_key() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let c = customer(&env, &m, json!({"email": "pat@example.com"})).await;
    let patch = json!({"status": "inactive"});
    let key = [("Idempotency-Key", "patch-1")];
    let (status, first, _) = env
        .change_customer(&m.token, &id(&c), Some(&patch), &key)
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, again, headers) = env
        .change_customer(&m.token, &id(&c), Some(&patch), &key)
        .await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    assert_eq!(headers.get("Idempotent-Replayed").unwrap(), "true");
    assert_eq!(again["version"], 2, "applied once");
    let key = [("Idempotency-Key", "delete-1")];
    assert_eq!(
        env.change_customer(&m.token, &id(&c), None, &key).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, _, headers) = env.change_customer(&m.token, &id(&c), None, &key).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "the first answer, not a 404"
    );
    assert_eq!(headers.get("Idempotent-Replayed").unwrap(), "true");
    env.assert_invariants().await;
}

#[tokio::test]
async fn the_lifecycle_events_drive_the_handlers() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let c = customer(&env, &m, json!({"email": "pat@example.com"})).await;
    let event = |name: &str| {
        let text = crm_tests::event_json(name)
            .to_string()
            .replace("0192f1a0-0000-7000-8000-00000000c001", &id(&c))
            .replace("REPLACE_WITH_ACCESS_TOKEN", &m.token);
        lambda_http::request::from_str(&text).expect("an API Gateway event")
    };
    let dispatch = |name: &'static str| {
        let request = event(name);
        let app = &env.app;
        async move {
            shared::http::Function::Fallback
                .handle(app, request)
                .await
                .unwrap()
        }
    };
    let updated = dispatch("update-customer.json").await;
    assert_eq!(updated.headers().get(header::ETAG).unwrap(), "\"2\"");
    assert_eq!(crm_tests::read(updated).1["status"], "inactive");
    assert_eq!(
        dispatch("update-customer.json").await.status(),
        StatusCode::PRECONDITION_FAILED
    );
    let (status, view) = crm_tests::read(dispatch("me.json").await);
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        dispatch("delete-customer.json").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        dispatch("delete-customer.json").await.status(),
        StatusCode::NOT_FOUND
    );
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_malformed_or_weak_if_match_never_means_any_version() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let c = customer(
        &env,
        &m,
        json!({"organization": m.org, "email": "im@example.com"}),
    )
    .await;
    let patch = json!({"name": "Changed"});
    for malformed in ["", "\"1é\"", "1", "\"1\" \"2\""] {
        env.calls.take();
        let before = env.item_count().await;
        let (status, answer, _) = env
            .change_customer(&m.token, &id(&c), Some(&patch), &[("If-Match", malformed)])
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{malformed:?}: {answer}");
        assert!(
            answer["error"]["fields"]["If-Match"].is_string(),
            "{answer}"
        );
        assert!(env.calls.take().is_empty(), "refused before any read");
        env.assert_untouched(before).await;
    }
    for never in ["W/\"1\"", "\"01\"", "\"+1\""] {
        let (status, _, _) = env
            .change_customer(&m.token, &id(&c), Some(&patch), &[("If-Match", never)])
            .await;
        assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{never}");
    }
    let (_, unchanged) = env
        .get_customers(&m.token, &format!("/api/customers/{}", id(&c)))
        .await;
    assert_eq!(unchanged["version"], 1);
    env.assert_invariants().await;
}
