//! `shared::http::ROUTES` is the one list of routes. `template.yaml`, the `cargo lambda
//! watch` router in Cargo.toml and `openapi.yaml` each declare them again for their own
//! tool; these tests fail when any of them adds, drops or renames a route, or hands it to
//! another function. (tests/template_routes.py checks what the SAM translator makes of the
//! template; tests/permissions.rs checks each function's IAM statements.)

use std::collections::BTreeSet;
use std::path::Path;

use serde_norway::Value;
use shared::http::{Function, ROUTES};

type Routes = BTreeSet<(String, String, String)>;

/// Panics naming what only one side has.
fn assert_same(declared: &Routes, expected: &Routes, what: &str) {
    let extra: Vec<_> = declared.difference(expected).collect();
    let missing: Vec<_> = expected.difference(declared).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{what}: declared but not in the table: {extra:?}; in the table but not declared: {missing:?}"
    );
}

fn read(file: &str) -> String {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (method, path, binary) of every route of the table.
fn table() -> Routes {
    ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_owned(),
                r.function.binary().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_template_gives_each_function_its_routes_and_the_rest_to_the_fallback() {
    let template: Value = serde_norway::from_str(&read("template.yaml")).unwrap();
    let mut declared = Routes::new();
    let mut defaults = Vec::new();
    for resource in template["Resources"].as_mapping().unwrap().values() {
        let Some(binary) = resource["Metadata"]["BuildProperties"]["Binary"].as_str() else {
            continue;
        };
        let events = resource["Properties"]["Events"]
            .as_mapping()
            .expect("Events");
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let properties = &event["Properties"];
            match (properties["Method"].as_str(), properties["Path"].as_str()) {
                (Some(method), Some(path)) => {
                    declared.insert((method.to_owned(), path.to_owned(), binary.to_owned()));
                }
                _ => defaults.push(binary.to_owned()),
            }
        }
    }
    assert_eq!(
        declared,
        table(),
        "template.yaml's routes against shared::http::ROUTES"
    );
    assert_eq!(
        defaults,
        [Function::Fallback.binary()],
        "one $default route, the fallback's"
    );
}

/// The methods the local router lists for a slash-free path: its own, and the rest to the
/// fallback, as API Gateway's `$default` route takes them.
const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "QUERY",
];

#[test]
fn the_local_router_sends_each_request_where_api_gateway_does() {
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let router = &manifest["workspace"]["metadata"]["lambda"]["watch"]["router"];
    let mut declared = Routes::new();
    for (path, entries) in router.as_table().expect("a router table") {
        if let Some(function) = entries.as_str() {
            declared.insert(("any method".into(), path.clone(), function.to_owned()));
            continue;
        }
        for entry in entries.as_array().expect("a function or a list of methods") {
            let method = entry["method"].as_str().unwrap().to_owned();
            let function = entry["function"].as_str().unwrap().to_owned();
            declared.insert((method, path.clone(), function));
        }
    }
    let fallback = Function::Fallback.binary().to_owned();
    let mut expected = Routes::from([("any method".into(), "/{*rest}".into(), fallback.clone())]);
    for route in &ROUTES {
        let slashed = format!("{}/", route.path);
        expected.insert(("any method".into(), slashed, fallback.clone()));
        for method in METHODS {
            let own = ROUTES
                .iter()
                .find(|r| r.path == route.path && r.method == method);
            let function = own.map_or(fallback.clone(), |r| r.function.binary().to_owned());
            expected.insert((method.to_owned(), route.path.to_owned(), function));
        }
    }
    assert_same(&declared, &expected, "Cargo.toml's router");
}

#[test]
fn openapi_documents_every_route_under_its_operation_id() {
    let spec: Value = serde_norway::from_str(&read("openapi.yaml")).unwrap();
    let paths = spec["paths"].as_mapping().unwrap();
    for route in &ROUTES {
        let method = route.method.as_str().to_lowercase();
        let operation = &spec["paths"][format!("{}/", route.path).as_str()][method.as_str()];
        assert_eq!(
            operation["operationId"].as_str(),
            Some(route.operation.id()),
            "{} {}/ in openapi.yaml",
            route.method,
            route.path
        );
    }
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, operations)| {
            let path = path.as_str().unwrap().trim_end_matches('/').to_owned();
            operations
                .as_mapping()
                .unwrap()
                .keys()
                .map(move |method| (method.as_str().unwrap().to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = table()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    assert_eq!(
        documented, routed,
        "openapi.yaml documents no route the API lacks"
    );
}

/// Each binary's header lists its routes as the table gives them, in the table's order: the
/// list is generated from `ROUTES` (this test prints what it must be), never written apart.
#[test]
fn each_binary_names_the_routes_the_table_gives_it() {
    for function in Function::ALL {
        if function == Function::Fallback {
            continue;
        }
        let file = format!("functions/{}/src/main.rs", function.binary());
        let mut expected = format!(
            "//! Its routes, the rows of `shared::http::ROUTES` naming `Function::{function:?}`:\n"
        );
        for route in ROUTES.iter().filter(|r| r.function == function) {
            expected.push_str(&format!("//! - {} {}\n", route.method, route.path));
        }
        let text = read(&file);
        let header: String = text
            .lines()
            .skip_while(|line| !line.starts_with("//! Its routes"))
            .take_while(|line| line.starts_with("//!"))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(header, expected, "{file}'s header must read:\n{expected}");
    }
}
