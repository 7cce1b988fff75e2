//! Mail through the outbox: an invitation's mail is written in the invitation's own
//! transaction, and the table-stream function (fed the table's real stream, as Lambda feeds
//! it) sends it with the real SES client to the local mailbox (`crm_tests::mailbox`).

use crm_tests::mailbox::{messages, Received};
use crm_tests::{post_json, with_token, Fault, Member, TestEnv};
use lambda_http::http::StatusCode;
use serde_json::{json, Value};
use shared::http::Function;
use shared::store::keys::Key;

async fn invite(env: &TestEnv, m: &Member, email: &str) -> (StatusCode, Value) {
    let path = format!("/api/organizations/{}/invitations", m.org);
    let body = json!({"email": email, "role": "admin"});
    env.send(
        Function::Teams,
        with_token(post_json(&path, &body), &m.token),
    )
    .await
}

/// The token of the accept link in `mail`.
fn link_token(mail: &Received) -> String {
    let link = mail
        .text
        .lines()
        .find(|line| line.starts_with("http://localhost:3000/invitations/accept#token="))
        .unwrap_or_else(|| panic!("an accept link in {:?}", mail.text));
    link.split_once("#token=").unwrap().1.to_owned()
}

/// The outbox item behind the single mail record of `event`.
async fn outbox_item(
    env: &TestEnv,
    event: &aws_lambda_events::event::dynamodb::Event,
) -> crm_tests::Item {
    let [record] = event.records.as_slice() else {
        panic!("one record: {event:?}");
    };
    let Some(shared::stream::Job::SendMail(id)) = shared::stream::Job::of(record) else {
        panic!("a mail job: {record:?}");
    };
    env.get(&Key::mail(id)).await.expect("the outbox item")
}

fn text<'a>(item: &'a crm_tests::Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

#[tokio::test]
async fn an_invitation_mails_a_link_that_accepts_it_and_a_batch_delivered_again_sends_nothing() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    let invitee = crm_tests::sample_signup();
    let email = invitee["email"].as_str().unwrap();
    let (status, invited) = invite(&env, &m, email).await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");

    let event = env.stream_event(&mut reader).await;
    let pending = outbox_item(&env, &event).await;
    assert_eq!(text(&pending, "status"), Some("pending"));
    let (mailer, mailbox) = env.mailbox().await;
    env.calls.take();
    let answer = shared::stream::handle(&env.app, &mailer, event.clone()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    assert_eq!(
        env.calls.take(),
        ["GetItem", "UpdateItem"],
        "read, then record"
    );
    let sent = messages(&mailbox);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, email);
    let org = m.signup["organization"]["name"].as_str().unwrap();
    assert!(sent[0].subject.contains(org), "{:?}", sent[0].subject);
    assert!(sent[0].text.contains("as an admin"), "{}", sent[0].text);
    let token = link_token(&sent[0]);
    assert_eq!(
        invited["token"],
        token.as_str(),
        "the inviter's answer keeps it too"
    );
    let done = outbox_item(&env, &event).await;
    assert_eq!(text(&done, "status"), Some("sent"));
    assert!(text(&done, "ses_message_id").is_some_and(|id| id.starts_with("local-")));
    assert_eq!(
        text(&done, "text"),
        None,
        "the link's secret is not kept once sent"
    );

    // Lambda delivers at least once: the same batch again finds the mail sent.
    let again = shared::stream::handle(&env.app, &mailer, event).await;
    assert!(again.batch_item_failures.is_empty(), "{again:?}");
    assert_eq!(env.calls.take(), ["GetItem"], "read only");
    assert_eq!(messages(&mailbox).len(), 1, "sent once");

    // Whoever signs up with the address first sees no invitation and may accept none, even
    // holding the token, until they show they read the address's mail.
    let user = env.signed_up_user_with(&invitee).await;
    let token_of_user = user["access_token"].as_str().unwrap();
    let (_, me) = env.me(token_of_user).await;
    assert_eq!(me["invitations"], json!([]), "{me}");
    let accept = || post_json("/api/invitations/accept", &json!({"token": token}));
    let before = env.scan().await.len();
    env.calls.take();
    let (status, refused) = env
        .send(Function::Teams, with_token(accept(), token_of_user))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["code"], "email_not_verified", "{refused}");
    assert!(refused["error"]["fields"]["email"].is_string(), "{refused}");
    assert_eq!(
        env.calls.take(),
        ["BatchGetItem"],
        "refused before any write"
    );
    assert_eq!(env.scan().await.len(), before, "nothing written");

    // The link works once the address is verified: listed, then accepted.
    env.verify_email(&user).await;
    let (_, me) = env.me(token_of_user).await;
    assert_eq!(me["invitations"][0]["organization"]["id"], m.org.as_str());
    let (status, joined) = env
        .send(Function::Teams, with_token(accept(), token_of_user))
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["organization"]["id"], m.org.as_str());
    assert_eq!(joined["role"], "admin");
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_refused_or_cancelled_invitation_puts_no_mail_in_the_outbox() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    let (status, answer) = invite(&env, &m, "first@example.com").await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(env.stream_event(&mut reader).await.records.len(), 1);

    let items = env.item_count().await;
    let (status, answer) = invite(&env, &m, "first@example.com").await;
    assert_eq!(status, StatusCode::CONFLICT, "pending already: {answer}");
    env.front
        .fail_next("TransactWriteItems", Fault::Cancelled("ThrottlingError"), 1);
    let (status, answer) = invite(&env, &m, "second@example.com").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    env.assert_untouched(items).await;
    let event = env.stream_event(&mut reader).await;
    assert!(event.records.is_empty(), "no mail: {event:?}");
    env.assert_invariants().await;
}

#[tokio::test]
async fn a_message_ses_refuses_for_good_is_recorded_and_the_batch_goes_on() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    let (status, answer) = invite(&env, &m, "nobody@example.invalid").await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let event = env.stream_event(&mut reader).await;
    let (mailer, mailbox) = env.mailbox().await;
    let answer = shared::stream::handle(&env.app, &mailer, event.clone()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    assert!(messages(&mailbox).is_empty());
    let refused = outbox_item(&env, &event).await;
    assert_eq!(text(&refused, "status"), Some("refused"));
    assert!(
        text(&refused, "refusal").is_some_and(|r| r.starts_with("MessageRejected")),
        "{refused:?}"
    );
    assert_eq!(text(&refused, "text"), None);
    env.assert_invariants().await;
}

#[tokio::test]
async fn ses_out_of_reach_fails_the_batch_at_the_mail_and_the_retry_sends_it() {
    let env = TestEnv::new().await;
    let m = env.member().await;
    let mut reader = env.stream_reader().await;
    env.stream_event(&mut reader).await;
    let (status, answer) = invite(&env, &m, "later@example.com").await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let event = env.stream_event(&mut reader).await;

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let from = shared::domain::Email::parse("crm@example.com").unwrap();
    let down = shared::mailer::Mailer::new(
        shared::mailer::client_at(&format!("http://127.0.0.1:{port}")),
        from,
    );
    let answer = shared::stream::handle(&env.app, &down, event.clone()).await;
    let failed: Vec<_> = answer
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(
        failed,
        [event.records[0].change.sequence_number.clone()],
        "retried from the mail's record"
    );
    assert_eq!(
        text(&outbox_item(&env, &event).await, "status"),
        Some("pending")
    );

    let (mailer, mailbox) = env.mailbox().await;
    let answer = shared::stream::handle(&env.app, &mailer, event).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    assert_eq!(messages(&mailbox).len(), 1);
    env.assert_invariants().await;
}
