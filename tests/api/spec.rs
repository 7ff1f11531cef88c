use openapiv3::{OpenAPI, ReferenceOr};
use std::collections::BTreeSet;
use steward_control::admin::ROUTES;

fn spec() -> OpenAPI {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/steward-admin.yaml");
    let text = std::fs::read_to_string(path).expect("specs/steward-admin.yaml exists");
    serde_yaml::from_str(&text).expect("the admin spec is valid OpenAPI 3.0")
}

#[test]
fn the_admin_spec_and_the_router_name_the_same_routes() {
    let spec = spec();
    assert!(spec.openapi.starts_with("3.0"));
    let mut documented = BTreeSet::new();
    for (path, item) in spec.paths.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            panic!("{path}: path refs are not used")
        };
        for (method, op) in item.iter() {
            assert!(
                op.operation_id.is_some(),
                "{method} {path} has no operationId"
            );
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from specs/steward-admin.yaml: {undocumented:?}"
    );
    assert!(
        phantom.is_empty(),
        "spec names routes that do not exist: {phantom:?}"
    );
}

#[test]
fn every_operation_documents_its_problem_responses() {
    let spec = spec();
    for (path, item) in spec.paths.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            let has_problem = op
                .responses
                .responses
                .keys()
                .any(|code| matches!(code, openapiv3::StatusCode::Code(c) if *c >= 400));
            assert!(has_problem, "{method} {path} documents no error response");
        }
    }
}
