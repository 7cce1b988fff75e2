//! `template.yaml` and the Rust table definition describe one table; the functions it deploys
//! are the binaries under `functions/`. These tests fail when either pair drifts apart.

use std::collections::BTreeSet;
use std::path::Path;

use serde_norway::Value;
use shared::store::table::{GLOBAL_INDEXES, KEY_ATTRIBUTES, STREAM_VIEW_TYPE, TTL_ATTRIBUTE};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

fn resources_of_type<'a>(template: &'a Value, kind: &str) -> Vec<&'a Value> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .values()
        .filter(|r| r["Type"].as_str() == Some(kind))
        .collect()
}

fn key_schema(schema: &Value) -> Vec<(String, String)> {
    schema
        .as_sequence()
        .expect("a key schema")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(hash: &str, range: &str) -> Vec<(String, String)> {
    vec![(hash.into(), "HASH".into()), (range.into(), "RANGE".into())]
}

#[test]
fn the_template_declares_the_table_the_code_uses() {
    let template = template();
    let tables = resources_of_type(&template, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1, "one table");
    let table = &tables[0]["Properties"];

    let declared: BTreeSet<(String, String)> = table["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap().to_owned(),
                a["AttributeType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = KEY_ATTRIBUTES
        .iter()
        .map(|a| ((*a).to_owned(), "S".to_owned()))
        .collect();
    assert_eq!(declared, expected);
    assert_eq!(key_schema(&table["KeySchema"]), pair("pk", "sk"));

    let indexes = table["GlobalSecondaryIndexes"].as_sequence().unwrap();
    assert_eq!(indexes.len(), GLOBAL_INDEXES.len());
    for (name, hash, range) in GLOBAL_INDEXES {
        let index = indexes
            .iter()
            .find(|i| i["IndexName"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("index {name} in template.yaml"));
        assert_eq!(key_schema(&index["KeySchema"]), pair(hash, range), "{name}");
        assert_eq!(
            index["Projection"]["ProjectionType"].as_str(),
            Some("ALL"),
            "{name}"
        );
    }
    let ttl = &table["TimeToLiveSpecification"];
    assert_eq!(ttl["AttributeName"].as_str(), Some(TTL_ATTRIBUTE));
    assert_eq!(ttl["Enabled"].as_bool(), Some(true));
    assert_eq!(
        table["StreamSpecification"]["StreamViewType"].as_str(),
        Some(STREAM_VIEW_TYPE)
    );
}

#[test]
fn the_table_is_protected_as_production_data() {
    let template = template();
    let table = resources_of_type(&template, "AWS::DynamoDB::Table")[0];
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"));
    let properties = &table["Properties"];
    assert_eq!(properties["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    assert_eq!(
        properties["DeletionProtectionEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        properties["SSESpecification"]["SSEEnabled"].as_bool(),
        Some(true)
    );
}

#[test]
fn every_binary_under_functions_is_deployed_and_nothing_else() {
    let template = template();
    let deployed: BTreeSet<String> = resources_of_type(&template, "AWS::Serverless::Function")
        .iter()
        .map(|f| {
            assert_eq!(
                f["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda")
            );
            f["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("each function names its binary")
                .to_owned()
        })
        .collect();
    let binaries: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .expect("functions/")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(deployed, binaries);
}
