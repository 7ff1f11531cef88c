//! A version's routes: (method, path template) → the operation and what its
//! security requirement asks for, compiled once per snapshot into matchit routers (data plane).

use crate::snapshot::validate::{RequestRules, ResponseRules};
use http::Method;
use openapiv3::{OpenAPI, ReferenceOr, SecurityScheme};
use std::collections::HashMap;
use steward_contracts::json_schema::Components;
use steward_contracts::loader::{self, LoadError};

/// What one alternative of a security requirement needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needs {
    /// An API key (an `apiKey` scheme).
    Key,
    /// A bearer token with at least these scopes (`oauth2`, `openIdConnect`, `http bearer`).
    Scopes(Vec<String>),
}

#[derive(Debug)]
pub struct Operation {
    pub operation_id: Option<String>,
    pub template: String,
    /// Alternatives (OR); each lists what all of its schemes need (AND). Empty means
    /// the operation is explicitly public (`security: []`).
    pub security: Vec<Vec<Needs>>,
    /// Compiled parameter and body validators.
    pub rules: RequestRules,
    /// How telemetry names it: the operationId, else `METHOD template`.
    pub label: std::sync::Arc<str>,
    /// Response schemas, for drift sampling in report mode.
    pub responses: ResponseRules,
    /// The contract says the operation reads cookies (a cookie parameter, or
    /// an API key carried in one): only then does the caller's `Cookie` go
    /// upstream, so that a browser's cookies for the gateway's domain do not
    /// travel to every upstream behind it.
    pub cookies: bool,
}

impl Operation {
    pub fn is_public(&self) -> bool {
        self.security.is_empty()
    }

    /// A stable label for telemetry and logs: the operationId, else `METHOD template`.
    pub fn label(&self, method: &Method) -> String {
        self.operation_id
            .clone()
            .unwrap_or_else(|| format!("{method} {}", self.template))
    }
}

#[derive(Debug, Default)]
pub struct VersionRoutes {
    /// A router per method. A contract uses a handful of methods, which a scan
    /// finds sooner than a hash of the method is computed.
    by_method: Vec<(Method, matchit::Router<usize>)>,
    operations: Vec<Operation>,
}

impl VersionRoutes {
    /// The operation for a request, and the path parameters it matched.
    pub fn find<'a, 'p>(
        &'a self,
        method: &Method,
        path: &'p str,
    ) -> Option<(&'a Operation, matchit::Params<'a, 'p>)> {
        let (_, router) = self.by_method.iter().find(|(m, _)| m == method)?;
        let hit = router.at(path).ok()?;
        Some((self.operations.get(*hit.value)?, hit.params))
    }

    pub fn len(&self) -> usize {
        self.operations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Compiles a contract; also returns its `x-steward-timeout-ms`, if any.
    pub fn compile(text: &str) -> Result<(Self, Option<std::time::Duration>), LoadError> {
        let model = loader::load_model(text.to_string())?;
        let doc = model.doc;
        let timeout = doc
            .extensions
            .get("x-steward-timeout-ms")
            .or_else(|| doc.info.extensions.get("x-steward-timeout-ms"))
            .and_then(serde_json::Value::as_u64)
            .filter(|ms| (1..=600_000).contains(ms))
            .map(std::time::Duration::from_millis);
        let components = Components::of(&doc, model.version);
        Ok((Self::from_doc(&doc, &components), timeout))
    }

    fn from_doc(doc: &OpenAPI, components: &Components) -> Self {
        let schemes: HashMap<&str, &SecurityScheme> = doc
            .components
            .iter()
            .flat_map(|c| c.security_schemes.iter())
            .filter_map(|(name, s)| match s {
                ReferenceOr::Item(s) => Some((name.as_str(), s)),
                ReferenceOr::Reference { .. } => None,
            })
            .collect();
        let mut routes = VersionRoutes::default();
        for (template, item) in doc.paths.paths.iter() {
            let ReferenceOr::Item(item) = item else {
                continue;
            };
            for (method, op) in item.iter() {
                let Ok(method) = method.to_uppercase().parse::<Method>() else {
                    continue;
                };
                let requirements = op.security.as_ref().or(doc.security.as_ref());
                let security = match requirements {
                    None => vec![vec![Needs::Key]], // undeclared: a credential, no scopes
                    Some(reqs) => reqs
                        .iter()
                        .map(|req| {
                            req.iter()
                                .map(|(name, scopes)| match schemes.get(name.as_str()) {
                                    Some(SecurityScheme::APIKey { .. }) => Needs::Key,
                                    _ => Needs::Scopes(scopes.clone()),
                                })
                                .collect()
                        })
                        .collect(),
                };
                // `security: [{}]` (an empty alternative) also means anonymous access.
                let security = if security.iter().any(Vec::is_empty) {
                    Vec::new()
                } else {
                    security
                };
                let cookies = reads_cookies(doc, &item.parameters, &op.parameters)
                    || requirements.is_some_and(|reqs| {
                        reqs.iter().flat_map(|req| req.keys()).any(|name| {
                            matches!(
                                schemes.get(name.as_str()),
                                Some(SecurityScheme::APIKey {
                                    location: openapiv3::APIKeyLocation::Cookie,
                                    ..
                                })
                            )
                        })
                    });
                let index = routes.operations.len();
                let at = match routes.by_method.iter().position(|(m, _)| *m == method) {
                    Some(at) => at,
                    None => {
                        routes
                            .by_method
                            .push((method.clone(), matchit::Router::new()));
                        routes.by_method.len() - 1
                    }
                };
                let router = &mut routes.by_method[at].1;
                match router.insert(template.clone(), index) {
                    Ok(()) => routes.operations.push(Operation {
                        operation_id: op.operation_id.clone(),
                        template: template.clone(),
                        security,
                        cookies,
                        rules: RequestRules::compile(doc, components, &item.parameters, op),
                        responses: ResponseRules::compile(doc, components, op),
                        label: std::sync::Arc::from(
                            op.operation_id
                                .clone()
                                .unwrap_or_else(|| format!("{method} {template}")),
                        ),
                    }),
                    Err(e) => {
                        tracing::warn!(%template, %method, error = %e, "route not served: the template cannot be matched");
                    }
                }
            }
        }
        routes
    }
}

/// Whether any of the path item's or the operation's parameters is a cookie.
fn reads_cookies(
    doc: &OpenAPI,
    shared: &[ReferenceOr<openapiv3::Parameter>],
    own: &[ReferenceOr<openapiv3::Parameter>],
) -> bool {
    shared.iter().chain(own).any(|p| {
        let parameter = match p {
            ReferenceOr::Item(p) => Some(p),
            ReferenceOr::Reference { reference } => reference
                .strip_prefix("#/components/parameters/")
                .and_then(|name| doc.components.as_ref()?.parameters.get(name))
                .and_then(ReferenceOr::as_item),
        };
        matches!(parameter, Some(openapiv3::Parameter::Cookie { .. }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Orders, version: 1.0.0, x-steward-timeout-ms: 2500}
security: [{oauth2: ['orders:read']}, {apiKey: []}]
paths:
  /orders:
    get: {operationId: listOrders, responses: {'200': {description: ok}}}
    post:
      operationId: createOrder
      security: [{oauth2: ['orders:write']}]
      responses: {'201': {description: ok}}
  /orders/search:
    get: {operationId: searchOrders, responses: {'200': {description: ok}}}
  /orders/{orderId}:
    get: {operationId: getOrder, responses: {'200': {description: ok}}}
  /health:
    get: {operationId: health, security: [], responses: {'200': {description: ok}}}
components:
  securitySchemes:
    oauth2: {type: oauth2, flows: {clientCredentials: {tokenUrl: /t, scopes: {'orders:read': r, 'orders:write': w}}}}
    apiKey: {type: apiKey, in: header, name: X-API-Key}
"#;

    #[test]
    fn operations_resolve_with_their_security() {
        let (routes, timeout) = VersionRoutes::compile(SPEC).expect("compiles");
        assert_eq!(timeout, Some(std::time::Duration::from_millis(2500)));
        assert_eq!(routes.len(), 5);
        let (get, params) = routes.find(&Method::GET, "/orders/42").expect("matches");
        assert_eq!(params.get("orderId"), Some("42"));
        assert_eq!(get.operation_id.as_deref(), Some("getOrder"));
        assert_eq!(
            get.security,
            vec![
                vec![Needs::Scopes(vec!["orders:read".into()])],
                vec![Needs::Key]
            ]
        );
        let (search, _) = routes
            .find(&Method::GET, "/orders/search")
            .expect("static wins");
        assert_eq!(search.operation_id.as_deref(), Some("searchOrders"));
        let (post, _) = routes.find(&Method::POST, "/orders").expect("matches");
        assert_eq!(
            post.security,
            vec![vec![Needs::Scopes(vec!["orders:write".into()])]]
        );
        assert!(
            routes
                .find(&Method::GET, "/health")
                .expect("matches")
                .0
                .is_public()
        );
        assert!(routes.find(&Method::DELETE, "/orders/1").is_none());
        assert!(routes.find(&Method::GET, "/customers").is_none());
    }

    #[test]
    fn only_operations_that_read_cookies_get_them() {
        let spec = r#"
openapi: 3.0.3
info: {title: Cart, version: 1.0.0}
paths:
  /cart:
    get:
      parameters: [{$ref: '#/components/parameters/Session'}]
      responses: {'200': {description: ok}}
    delete:
      security: [{cookieKey: []}]
      responses: {'204': {description: ok}}
  /prices:
    get:
      parameters: [{name: sku, in: query, schema: {type: string}}]
      responses: {'200': {description: ok}}
components:
  parameters:
    Session: {name: cart_session, in: cookie, schema: {type: string}}
  securitySchemes:
    cookieKey: {type: apiKey, in: cookie, name: key}
"#;
        let (routes, _) = VersionRoutes::compile(spec).expect("compiles");
        let cookies = |method: Method, path: &str| routes.find(&method, path).unwrap().0.cookies;
        assert!(
            cookies(Method::GET, "/cart"),
            "a cookie parameter, by reference"
        );
        assert!(
            cookies(Method::DELETE, "/cart"),
            "an API key carried in a cookie"
        );
        assert!(!cookies(Method::GET, "/prices"));
    }
}
