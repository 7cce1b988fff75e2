//! GET /api/customers with `q`, filters and `sort`; owners, tags and addresses on the record.
//! Every list reads its own writes, pages give every match once, and the calls are counted.

use std::collections::HashSet;
use std::sync::Arc;

use crm_tests::{Member, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::{json, Value};
use shared::domain::Role;

fn ids(page: &Value) -> Vec<String> {
    page["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("a list of customers: {page}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn names(page: &Value) -> Vec<String> {
    page["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn create(env: &TestEnv, m: &Member, mut body: Value) -> Value {
    body["organization"] = json!(m.org);
    let (status, customer) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}: {customer}");
    customer
}

/// One page of `query` (without the organization).
async fn page(env: &TestEnv, m: &Member, query: &str) -> Value {
    let path = format!("/api/customers?organization={}&{query}", m.org);
    let (status, page) = env.get_customers(&m.token, &path).await;
    assert_eq!(status, StatusCode::OK, "{query}: {page}");
    page
}

/// Every page of `query`, following cursors; each page is checked to stay within its limit.
async fn all_pages(env: &TestEnv, m: &Member, query: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..500 {
        let mut q = query.to_owned();
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let page = page(env, m, &q).await;
        seen.extend(ids(&page));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            return seen;
        }
    }
    panic!("{query}: no last page");
}

async fn refused(env: &TestEnv, m: &Member, query: &str, field: &str) {
    let path = format!("/api/customers?organization={}&{query}", m.org);
    let (status, answer) = env.get_customers(&m.token, &path).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
    assert!(
        answer["error"]["fields"][field].is_string(),
        "{query} names {field}: {answer}"
    );
}

#[tokio::test]
async fn accented_and_full_width_names_are_found_by_their_plain_spelling() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let muller = create(
        &env,
        &m,
        json!({"email": "jm@example.com", "name": "Jürgen Müller"}),
    )
    .await;
    let acme = create(
        &env,
        &m,
        json!({"email": "x@example.com", "company_name": "ＡＣＭＥ Straße"}),
    )
    .await;
    let pat = create(
        &env,
        &m,
        json!({"email": "pat.lee@acme.io", "phone": "+49 (30) 1234-567"}),
    )
    .await;
    env.calls.take();
    for (q, expected) in [
        ("muller", vec![&muller]),
        ("MÜLL", vec![&muller]),
        ("jurgen+muller", vec![&muller]),
        ("strasse", vec![&acme]),
        ("ACME", vec![&acme, &pat]),
        ("lee", vec![&pat]),
        ("4930", vec![&pat]),
        ("1234", vec![&pat]),
    ] {
        let page = page(&env, &m, &format!("q={q}")).await;
        assert_eq!(
            env.calls.take(),
            ["Query", "BatchGetItem"],
            "{q}: the words, then the records"
        );
        let mut found = ids(&page);
        found.sort();
        let mut wanted: Vec<String> = expected
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        wanted.sort();
        assert_eq!(found, wanted, "{q}: {page}");
    }
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_two_word_search_matches_only_customers_that_have_both() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let both = create(
        &env,
        &m,
        json!({"email": "a@example.com", "name": "Pat Lee"}),
    )
    .await;
    create(
        &env,
        &m,
        json!({"email": "b@example.com", "name": "Pat Smith"}),
    )
    .await;
    create(
        &env,
        &m,
        json!({"email": "c@example.com", "name": "Kim Lee"}),
    )
    .await;
    let page = page(&env, &m, "q=lee,pat").await;
    assert_eq!(ids(&page), [both["id"].as_str().unwrap()]);
    let page = self::page(&env, &m, "q=pa+le").await;
    assert_eq!(
        ids(&page),
        [both["id"].as_str().unwrap()],
        "prefixes of both"
    );
    assert!(self::page(&env, &m, "q=lee+zed").await["customers"] == json!([]));
}

#[tokio::test]
async fn every_write_is_seen_by_the_very_next_search() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let c = create(
        &env,
        &m,
        json!({"email": "n@example.com", "name": "Norbert"}),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(ids(&page(&env, &m, "q=norb").await), [id]);
    let patch = json!({"name": "Quentin"});
    let (status, _, _) = env.change_customer(&m.token, id, Some(&patch), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&page(&env, &m, "q=quent").await), [id]);
    assert!(
        ids(&page(&env, &m, "q=norb").await).is_empty(),
        "the old name is gone"
    );
    assert_eq!(
        names(&page(&env, &m, "sort=-updated&limit=1").await),
        ["Quentin"]
    );
    let (status, _, _) = env.change_customer(&m.token, id, None, &[]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(ids(&page(&env, &m, "q=quent").await).is_empty());
    assert!(!all_pages(&env, &m, "sort=name")
        .await
        .contains(&id.to_owned()));
    env.assert_invariants().await;
}

#[tokio::test]
async fn filters_combine_with_each_other_and_with_the_search() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let vip = create(&env, &m, json!({"email": "v@example.com", "name": "Vera", "status": "vip", "tags": ["Lead", "Berlin"], "owner_id": m.user})).await;
    let business = create(&env, &m, json!({"email": "b@example.com", "name": "Vera Corp", "customer_type": "business", "status": "vip", "tags": ["lead"]})).await;
    create(
        &env,
        &m,
        json!({"email": "p@example.com", "name": "Paul", "status": "prospect", "tags": ["LEAD"]}),
    )
    .await;
    env.calls.take();
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
    let by_id = format!("owner={}", m.user);
    let cases = [
        ("status=vip", vec![id(&business), id(&vip)]),
        ("status=vip&customer_type=business", vec![id(&business)]),
        ("owner=me", vec![id(&vip)]),
        (by_id.as_str(), vec![id(&vip)]),
        ("tag=berlin", vec![id(&vip)]),
        ("tag=Lead&status=vip&owner=none", vec![id(&business)]),
        ("q=vera&tag=LEAD&owner=me", vec![id(&vip)]),
        ("status=inactive", vec![]),
    ];
    for (query, expected) in cases {
        let page = page(&env, &m, query).await;
        assert_eq!(ids(&page), expected, "{query}: {page}");
        let calls = env.calls.take();
        assert!(
            calls.len() <= 2,
            "{query}: at most two round trips: {calls:?}"
        );
    }
    // Unassigned: the founder's own customer record too.
    let unassigned = all_pages(&env, &m, "owner=none").await;
    assert_eq!(unassigned.len(), 3);
    assert!(!unassigned.contains(&id(&vip)));
    env.assert_invariants().await;
}

#[tokio::test]
async fn sorting_by_name_and_by_update_in_both_directions() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    for (i, name) in ["Émile", "bert", "Zoë", "anna", "Ab C"].iter().enumerate() {
        let body = json!({"email": format!("n{i}@example.com"), "name": name, "status": "vip"});
        create(&env, &m, body).await;
    }
    let founder = m.signup["customer"]["name"].as_str().unwrap().to_owned();
    env.calls.take();
    let mut expected = vec!["Ab C", "anna", "bert", "Émile", &founder, "Zoë"];
    expected.sort_by_key(|n| shared::domain::words(n).join("-"));
    let page = page(&env, &m, "sort=name").await;
    assert_eq!(env.calls.take(), ["Query"], "rows carry the customers");
    assert_eq!(names(&page), expected);
    expected.reverse();
    assert_eq!(names(&self::page(&env, &m, "sort=-name").await), expected);
    let vips = names(&self::page(&env, &m, "sort=name&status=vip&limit=2").await);
    assert_eq!(vips, ["Ab C", "anna"]);
    let newest = names(&self::page(&env, &m, "sort=-updated&limit=1").await);
    assert_eq!(newest, ["Ab C"]);
    let oldest = names(&self::page(&env, &m, "sort=updated&limit=1").await);
    assert_eq!(oldest, [founder.as_str()]);
}

/// 250 matches paged through 7 at a time while another member creates and deletes other
/// matching customers: every customer that existed throughout is seen exactly once.
#[tokio::test]
async fn paging_through_250_matches_while_others_write_loses_and_repeats_nothing() {
    let env = Arc::new(TestEnv::new().await);
    let m = env.member().await;
    let mut stable = HashSet::new();
    for chunk in 0..10 {
        let tasks: Vec<_> = (0..25)
            .map(|i| {
                let (env, token) = (Arc::clone(&env), m.token.clone());
                let body = json!({"organization": m.org, "email": format!("s{chunk}x{i}@example.com"), "name": format!("Smith {chunk} {i}"), "tags": ["bulk"]});
                tokio::spawn(async move { env.create_customer(&token, &body).await })
            })
            .collect();
        for task in tasks {
            let (status, customer) = task.await.unwrap();
            assert_eq!(status, StatusCode::CREATED, "{customer}");
            stable.insert(customer["id"].as_str().unwrap().to_owned());
        }
    }
    let other = env.signed_up_user().await;
    let other_token = env
        .join(other["user"]["id"].as_str().unwrap(), &m.org, Role::Admin)
        .await;
    for query in ["q=smith", "tag=bulk", "sort=name", "q=smi&tag=bulk"] {
        let writer = {
            let (env, org, token) = (Arc::clone(&env), m.org.clone(), other_token.clone());
            tokio::spawn(async move {
                for i in 0..30 {
                    let body = json!({"organization": org, "email": format!("churn{i}@example.com"), "name": format!("Smith churn {i}"), "tags": ["bulk"]});
                    let (status, c) = env.create_customer(&token, &body).await;
                    assert_eq!(status, StatusCode::CREATED, "{c}");
                    let id = c["id"].as_str().unwrap();
                    let (status, _, _) = env.change_customer(&token, id, None, &[]).await;
                    assert_eq!(status, StatusCode::NO_CONTENT);
                }
            })
        };
        let seen = all_pages(&env, &m, &format!("{query}&limit=7")).await;
        writer.await.unwrap();
        let seen_stable: Vec<&String> = seen.iter().filter(|id| stable.contains(*id)).collect();
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{query}: nothing repeated");
        assert_eq!(seen_stable.len(), 250, "{query}: nothing lost");
    }
    env.assert_invariants().await;
}

#[tokio::test]
async fn bad_parameters_and_foreign_cursors_are_refused_naming_the_parameter() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    for i in 0..3 {
        create(
            &env,
            &m,
            json!({"email": format!("c{i}@example.com"), "name": format!("Cleo {i}")}),
        )
        .await;
    }
    refused(&env, &m, &format!("q={}", "x".repeat(101)), "q").await;
    refused(&env, &m, "q=a+b+c+d+e+f+g", "q").await;
    refused(&env, &m, "q=cleo&sort=name", "sort").await;
    refused(&env, &m, "sort=email", "sort").await;
    refused(&env, &m, "status=gone", "status").await;
    refused(&env, &m, "owner=someone", "owner").await;
    refused(&env, &m, &format!("tag={}", "t".repeat(41)), "tag").await;
    let first = page(&env, &m, "q=cleo&limit=1").await;
    let cursor = first["next_cursor"].as_str().expect("more pages");
    refused(
        &env,
        &m,
        &format!("q=cleo+1&limit=1&cursor={cursor}"),
        "cursor",
    )
    .await;
    refused(&env, &m, &format!("limit=1&cursor={cursor}"), "cursor").await;
    let next = page(&env, &m, &format!("q=cleo&limit=1&cursor={cursor}")).await;
    assert_eq!(ids(&next).len(), 1);
    assert_ne!(ids(&next), ids(&first));
    assert!(
        page(&env, &m, "q=.+.+-").await["customers"]
            .as_array()
            .unwrap()
            .len()
            >= 4,
        "no word: the whole list"
    );
}

#[tokio::test]
async fn owners_are_members_and_employees_assign_only_themselves() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let employee = env.signed_up_user().await;
    let employee_id = employee["user"]["id"].as_str().unwrap().to_owned();
    let token = env.join(&employee_id, &m.org, Role::Employee).await;
    let stranger = env.member().await;
    let before = env.item_count().await;
    let body = json!({"organization": m.org, "email": "o@example.com", "owner_id": stranger.user});
    let (status, answer) = env.create_customer(&m.token, &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["error"]["fields"]["owner_id"].is_string(),
        "{answer}"
    );
    let body = json!({"organization": m.org, "email": "o@example.com", "owner_id": m.user});
    let (status, answer) = env.create_customer(&token, &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(
        answer["error"]["permission"], "assign_customers",
        "{answer}"
    );
    env.assert_untouched(before).await;

    let body = json!({"organization": m.org, "email": "o@example.com"});
    let (status, c) = env.create_customer(&token, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let id = c["id"].as_str().unwrap();
    let mine = json!({"owner_id": employee_id});
    let (status, changed, _) = env.change_customer(&token, id, Some(&mine), &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an unassigned customer taken: {changed}"
    );
    assert_eq!(changed["owner_id"], json!(employee_id));
    let theirs = json!({"owner_id": m.user});
    let (status, answer, _) = env.change_customer(&token, id, Some(&theirs), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"]["permission"], "assign_customers");
    let none = json!({"owner_id": null});
    let (status, _, _) = env.change_customer(&token, id, Some(&none), &[]).await;
    assert_eq!(status, StatusCode::OK, "their own given up");
    let (status, changed, _) = env.change_customer(&m.token, id, Some(&theirs), &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the owner assigns anyone: {changed}"
    );
    let (status, answer, _) = env.change_customer(&token, id, Some(&none), &[]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "not theirs to give up: {answer}"
    );
    let foreign = json!({"owner_id": stranger.user});
    let (status, answer, _) = env.change_customer(&m.token, id, Some(&foreign), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["error"]["fields"]["owner_id"].is_string());
    assert_eq!(ids(&page(&env, &m, "owner=me").await), [id]);
    env.assert_invariants().await;
}

#[tokio::test]
async fn tags_and_addresses_are_validated_and_kept() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let before = env.item_count().await;
    for (body, field) in [
        (json!({"tags": "vip"}), "tags"),
        (json!({"tags": ["x".repeat(41)]}), "tags"),
        (
            json!({"tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "tags",
        ),
        (json!({"address": {"country": "Germany"}}), "address"),
        (json!({"address": {"country": "de"}}), "address"),
        (json!({"address": {"planet": "Mars"}}), "address"),
        (json!({"status": "gone"}), "status"),
    ] {
        let mut body = body;
        body["organization"] = json!(m.org);
        body["email"] = json!("t@example.com");
        let (status, answer) = env.create_customer(&m.token, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_string(),
            "{field}: {answer}"
        );
    }
    env.assert_untouched(before).await;
    let c = create(&env, &m, json!({"email": "t@example.com", "tags": ["VIP", "vip", "Köln"], "address": {"city": "Köln", "country": "DE"}})).await;
    assert_eq!(c["tags"], json!(["VIP", "Köln"]));
    assert_eq!(c["address"]["country"], "DE");
    assert_eq!(c["address"]["street"], Value::Null);
    let id = c["id"].as_str().unwrap();
    let patch = json!({"tags": ["koln"], "address": null});
    let (status, changed, _) = env.change_customer(&m.token, id, Some(&patch), &[]).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["tags"], json!(["koln"]));
    assert_eq!(changed["address"]["city"], Value::Null);
    assert!(ids(&page(&env, &m, "tag=vip").await).is_empty());
    assert_eq!(ids(&page(&env, &m, "tag=KOLN").await), [id]);
    env.assert_invariants().await;
}

/// Customers written before search have no rows, filters or words: lists miss them and
/// `check-table` says so, until the backfill files them; a second run files nothing more.
#[tokio::test]
async fn the_backfill_files_customers_written_before_search_once() {
    use crm_tests::operator::backfill_customer_index;
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut old = Vec::new();
    for i in 0..3 {
        let c = create(
            &env,
            &m,
            json!({"email": format!("old{i}@example.com"), "name": format!("Olga {i}")}),
        )
        .await;
        let customer: shared::domain::Customer = serde_json::from_value(c.clone()).unwrap();
        for key in crm_tests::customer_index_keys(&customer) {
            env.remove(&key).await;
        }
        old.push(c["id"].as_str().unwrap().to_owned());
    }
    assert!(ids(&page(&env, &m, "q=olga").await).is_empty());
    let report = crm_tests::invariants::check(&env.scan().await);
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.contains("row of an ordered list")),
        "{:?}",
        report.violations
    );
    let done = backfill_customer_index(&env.app.store, &env.scan().await)
        .await
        .unwrap();
    assert_eq!(
        (done.filed, done.already, done.gone),
        (3, 1, 0),
        "the founder's was filed"
    );
    let mut found = all_pages(&env, &m, "q=olga").await;
    found.sort();
    assert_eq!(found, old);
    let before = env.item_count().await;
    let again = backfill_customer_index(&env.app.store, &env.scan().await)
        .await
        .unwrap();
    assert_eq!((again.filed, again.already), (0, 4));
    env.assert_untouched(before).await;
    env.assert_invariants().await;
}
