//! GET /api/customers/{id}/ and GET /api/customers/: members only, newest first, paged.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use crm_tests::{read, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::{json, Value};

fn ids(page: &Value) -> Vec<String> {
    page["customers"]
        .as_array()
        .expect("a list of customers")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_member_reads_a_customer_by_id_with_or_without_the_trailing_slash() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let id = m.signup["customer"]["id"].as_str().unwrap();
    for path in [
        format!("/api/customers/{id}/"),
        format!("/api/customers/{id}"),
    ] {
        let (status, customer) = env.get_customers(&m.token, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {customer}");
        assert_eq!(customer, m.signup["customer"]);
        assert_eq!(
            env.calls.take(),
            ["GetItem"],
            "one read: membership comes from the token"
        );
    }
}

#[tokio::test]
async fn everyone_else_gets_404_whether_or_not_the_customer_exists() {
    let env = TestEnv::new().await;
    let a = env.member().await;
    let b = env.member().await;
    let b_customer = b.signup["customer"]["id"].as_str().unwrap();
    let missing = shared::domain::CustomerId::generate().to_string();
    let (status, theirs) = env
        .get_customers(&a.token, &format!("/api/customers/{b_customer}/"))
        .await;
    let (missing_status, nothing) = env
        .get_customers(&a.token, &format!("/api/customers/{missing}/"))
        .await;
    let (malformed_status, _) = env
        .get_customers(&a.token, "/api/customers/CUSTOMER%23x/")
        .await;
    assert_eq!(
        (status, missing_status, malformed_status),
        (
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND
        )
    );
    assert_eq!(theirs, nothing, "the same answer reveals nothing");
}

#[tokio::test]
async fn listing_pages_through_45_customers_newest_first_without_gaps_or_repeats() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut created = vec![m.signup["customer"]["id"].as_str().unwrap().to_owned()];
    for i in 0..44 {
        let body = json!({"organization": m.org, "email": format!("c{i}@example.com")});
        let (status, customer) = env.create_customer(&m.token, &body).await;
        assert_eq!(status, StatusCode::CREATED);
        created.push(customer["id"].as_str().unwrap().to_owned());
    }
    env.calls.take();

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/customers/?organization={}&limit=20", m.org);
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = env.get_customers(&m.token, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            env.calls.take(),
            ["Query"],
            "one query: membership comes from the token"
        );
        sizes.push(ids(&page).len());
        seen.extend(ids(&page));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [20, 20, 5]);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 45, "no repeats");
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first, "no gaps, newest first");
}

#[tokio::test]
async fn a_cursor_cannot_be_turned_toward_another_organization() {
    let env = TestEnv::new().await;
    let a = env.member().await;
    let b = env.member().await;
    for i in 0..3 {
        let body = json!({"organization": a.org, "email": format!("a{i}@example.com")});
        env.create_customer(&a.token, &body).await;
    }
    let (_, page) = env
        .get_customers(
            &a.token,
            &format!("/api/customers/?organization={}&limit=2", a.org),
        )
        .await;
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(&cursor).unwrap()).unwrap();
    let forged = URL_SAFE_NO_PAD.encode(decoded.replace(&a.org, &b.org));

    // A's cursor on B's list, and a cursor rewritten to name B on A's list: both refused.
    for (org, cursor) in [(&b.org, &cursor), (&a.org, &forged)] {
        let path = format!("/api/customers/?organization={org}&cursor={cursor}");
        let (status, answer) = env.get_customers(&b.token, &path).await;
        let (a_status, _) = env.get_customers(&a.token, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(a_status, StatusCode::BAD_REQUEST);
        assert!(answer["error"]["fields"]["cursor"].is_string(), "{answer}");
    }
}

#[tokio::test]
async fn listing_needs_membership_and_sane_parameters() {
    let env = TestEnv::new().await;
    let a = env.member().await;
    let b = env.member().await;
    let (status, _) = env
        .get_customers(&a.token, &format!("/api/customers/?organization={}", b.org))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (query, field) in [
        (String::new(), "organization"),
        ("?organization=ORG%23x".to_owned(), "organization"),
        (format!("?organization={}&limit=0", a.org), "limit"),
        (format!("?organization={}&limit=101", a.org), "limit"),
        (format!("?organization={}&limit=ten", a.org), "limit"),
        (format!("?organization={}&cursor=%%%", a.org), "cursor"),
    ] {
        let (status, answer) = env
            .get_customers(&a.token, &format!("/api/customers/{query}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_string(),
            "{field}: {answer}"
        );
    }
    let (status, page) = env
        .get_customers(&a.token, &format!("/api/customers/?organization={}", a.org))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&page).len(), 1, "default limit, one customer so far");
    assert!(page["next_cursor"].is_null());
}

#[tokio::test]
async fn reads_need_a_valid_token() {
    let env = TestEnv::new().await;
    let a = env.member().await;
    let id = a.signup["customer"]["id"].as_str().unwrap();
    let (status, _) = env
        .get_customers("garbage", &format!("/api/customers/{id}/"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = env
        .get_customers(
            "garbage",
            &format!("/api/customers/?organization={}", a.org),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(env.calls.take().is_empty());
}

#[tokio::test]
async fn the_read_events_drive_the_handler() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let id = m.signup["customer"]["id"].as_str().unwrap();

    let mut event = crm_tests::event_json("get-customer.json");
    event["headers"]["authorization"] = json!(format!("Bearer {}", m.token));
    event["pathParameters"]["id"] = json!(id);
    event["rawPath"] = json!(format!("/api/customers/{id}/"));
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let (status, customer) = read(
        shared::http::Function::ReadCustomers
            .handle(&env.app, request)
            .await
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{customer}");
    assert_eq!(customer["id"], id);

    let mut event = crm_tests::event_json("list-customers.json");
    event["headers"]["authorization"] = json!(format!("Bearer {}", m.token));
    event["queryStringParameters"]["organization"] = json!(m.org);
    event["rawQueryString"] = json!(format!("organization={}&limit=20", m.org));
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let (status, page) = read(
        shared::http::Function::ReadCustomers
            .handle(&env.app, request)
            .await
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), [id]);
}
