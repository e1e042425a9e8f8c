//! MetaRouter routes: the default route, and example routes that match on the schema's
//! routable properties (emitted for real, or written as a comment to copy from).

use std::collections::BTreeMap;

use mproto_runtime::mesh::{
    Destination, MetaRoute, MetaRouteDestination, MetaRouteMatch, StringMatch,
};

use super::plan::Plan;

/// The value example matches compare with: plainly a placeholder.
pub const EXAMPLE_VALUE: &str = "CHANGE-ME";

/// Everything to the service.
pub(crate) fn default_route(plan: &Plan) -> MetaRoute {
    MetaRoute {
        name: "default".to_owned(),
        route: vec![to_service(plan)],
        ..MetaRoute::default()
    }
}

fn to_service(plan: &Plan) -> MetaRouteDestination {
    MetaRouteDestination {
        destination: Destination {
            host: plan.host().to_owned(),
            ..Destination::default()
        },
        weight: None,
    }
}

/// One route per named routable property, matching it exactly, to the service.
pub(crate) fn example_routes(plan: &Plan) -> Vec<MetaRoute> {
    plan.property_keys
        .iter()
        .map(|key| MetaRoute {
            name: format!("by-{key}"),
            match_: Some(MetaRouteMatch {
                attributes: BTreeMap::from([(
                    key.clone(),
                    StringMatch {
                        exact: Some(EXAMPLE_VALUE.to_owned()),
                        ..StringMatch::default()
                    },
                )]),
            }),
            route: vec![to_service(plan)],
            ..MetaRoute::default()
        })
        .collect()
}

/// The comment above the MetaRouter: what is routable and, unless emitted, example routes.
pub(crate) fn comment(plan: &Plan) -> Vec<String> {
    let mut lines = vec![routable_line(plan)];
    if plan.example_routes || plan.property_keys.is_empty() {
        return lines;
    }
    lines.push("Example routes to put before `default` (or run with --example-routes):".to_owned());
    // Rendered from the typed routes, so the comment is valid YAML to uncomment.
    let yaml = serde_norway::to_string(&example_routes(plan)).unwrap_or_default();
    lines.extend(yaml.lines().map(|l| format!("  {l}")));
    lines
}

fn routable_line(plan: &Plan) -> String {
    let keys = match plan.property_keys.as_slice() {
        [] => String::new(),
        [key] => format!("property `{key}`"),
        keys => format!("properties {}", super::names::quoted(keys)),
    };
    let lists = match plan.property_lists.as_slice() {
        [] => String::new(),
        lists => format!("every key of the {} list", super::names::quoted(lists)),
    };
    match (keys.is_empty(), lists.is_empty()) {
        (true, true) => format!(
            "Protocol `{}` declares no routable properties: only the default route applies.",
            plan.protocol
        ),
        (false, true) => format!("Routable in `{}`: {keys}.", plan.protocol),
        (true, false) => format!("Routable in `{}`: {lists}.", plan.protocol),
        (false, false) => format!("Routable in `{}`: {keys}, and {lists}.", plan.protocol),
    }
}
