//! `mproto manifests` end to end: the binary emits, writes and checks manifests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mproto(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mproto"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the mproto binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn reference() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/aeraki");
    dir.is_dir().then_some(dir).or_else(|| {
        eprintln!(
            "skipped: ../shared/reference/aeraki is missing (it sits beside the repository in CI)"
        );
        None
    })
}

#[test]
fn emitted_files_pass_check() {
    let dir = std::env::temp_dir().join(format!("mproto-manifests-{}", std::process::id()));
    let out = mproto(&[
        "manifests",
        "schemas/thrift.mproto",
        "--gateway",
        "--example-routes",
        "-o",
        dir.to_str().expect("utf-8 temp dir"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let files: Vec<String> = std::fs::read_dir(&dir)
        .expect("written")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    assert_eq!(files.len(), 6, "{files:?}");
    let mut args = vec!["manifests", "--check"];
    args.extend(files.iter().map(String::as_str));
    let check = mproto(&args);
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("2 validated against Aeraki's CRDs"));
    std::fs::remove_dir_all(&dir).expect("cleaned up");
}

#[test]
fn bad_options_are_all_reported_and_nothing_is_printed() {
    let out = mproto(&[
        "manifests",
        "schemas/dubbo.mproto",
        "-n",
        "Bad_NS",
        "--port-suffix=-x",
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("error: --namespace: `Bad_NS` must be lowercase"),
        "{err}"
    );
    assert!(err.contains("error: --port-suffix: `-x` must be"), "{err}");
}

#[test]
fn check_passes_on_aeraki_demo_manifests_each_on_its_own() {
    let Some(dir) = reference() else { return };
    let mut args = vec!["manifests".to_owned(), "--check".into(), "--each".into()];
    for entry in std::fs::read_dir(&dir).expect("readable") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("dubbo-") && name.ends_with(".yaml") {
            args.push(path.display().to_string());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mproto(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("ok: "))
            .count(),
        args.len() - 3
    );
}

#[test]
fn check_fails_on_a_broken_manifest_naming_file_object_and_field() {
    let Some(dir) = reference() else { return };
    let original = std::fs::read_to_string(dir.join("dubbo-metarouter-v1.yaml")).expect("readable");
    let broken = std::env::temp_dir().join(format!("mproto-broken-{}.yaml", std::process::id()));
    std::fs::write(
        &broken,
        original.replace("exact: sayHello", "exactly: sayHello"),
    )
    .expect("written");
    let out = mproto(&["manifests", "--check", broken.to_str().expect("utf-8")]);
    std::fs::remove_file(&broken).expect("cleaned up");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("MetaRouter meta-dubbo/test-metaprotocol-dubbo-route: field `spec.routes[0].match.attributes.method`: does not match the MetaRouter CRD"),
        "{err}"
    );
}

#[test]
fn standalone_option_errors_are_all_reported_and_nothing_is_printed() {
    let out = mproto(&[
        "manifests",
        "schemas/awesomerpc.mproto",
        "--standalone",
        "--gateway",
        "--listen",
        "localhost:9000",
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stderr),
        "error: --standalone: cannot be combined with --gateway: --gateway runs the proxy in a \
         cluster (its Proxy object is in the ConfigMap), --standalone runs it here with \
         `mproto proxy --config`; drop one of them\n\
         error: --standalone: the proxy forwards to a ServiceEntry's endpoints: add \
         --service-entry with --endpoint ADDRESS[:PORT] (or --resolution dns to resolve the hosts)\n\
         error: --listen: `localhost:9000` is not an IP:PORT socket address (such as \
         127.0.0.1:9000 or [::1]:9000; the proxy binds addresses, not names)\n\
         error: no manifests written for schemas/awesomerpc.mproto\n"
    );
}

#[test]
fn standalone_files_pass_check() {
    let dir = std::env::temp_dir().join(format!("mproto-standalone-{}", std::process::id()));
    let out = mproto(&[
        "manifests",
        "schemas/dubbo.mproto",
        "--service-entry",
        "--endpoint",
        "10.0.0.11:20880",
        "--standalone",
        "--listen",
        "[::1]:20880",
        "-o",
        dir.to_str().expect("utf-8 temp dir"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("written")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(files[3].ends_with("04-proxy-dubbo.yaml"), "{files:?}");
    let proxy = std::fs::read_to_string(&files[3]).expect("readable");
    assert!(proxy.contains("address: '[::1]:20880'"), "{proxy}");
    let mut args = vec!["manifests", "--check"];
    args.extend(files.iter().map(String::as_str));
    let check = mproto(&args);
    assert!(check.status.success(), "{}", text(&check.stderr));
    std::fs::remove_dir_all(&dir).expect("cleaned up");
}

/// `--standalone` with two labelled endpoints and a subset for each.
const VERSIONED: &[&str] = &[
    "manifests",
    "schemas/awesomerpc.mproto",
    "--service-entry",
    "--endpoint",
    "127.0.0.1:1,version=v1",
    "--endpoint",
    "127.0.0.1:2,version=v2",
    "--subset",
    "v1:version=v1",
    "--subset",
    "v2:version=v2",
    "--standalone",
];

#[test]
fn subsets_give_a_destination_rule_that_passes_check() {
    let mut args = VERSIONED.to_vec();
    args.extend(["--load-balancer", "least-request"]);
    let out = mproto(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    let rule = yaml
        .split("---\n")
        .find(|doc| doc.contains("kind: DestinationRule"))
        .unwrap_or_else(|| panic!("no DestinationRule: {yaml}"));
    assert_eq!(
        rule,
        "apiVersion: networking.istio.io/v1alpha3\n\
         kind: DestinationRule\n\
         metadata:\n  name: awesomerpc\n  namespace: default\n\
         spec:\n  host: awesomerpc.default.svc.cluster.local\n  \
         trafficPolicy:\n    loadBalancer:\n      simple: LEAST_REQUEST\n  \
         subsets:\n  - name: v1\n    labels:\n      version: v1\n  \
         - name: v2\n    labels:\n      version: v2\n"
    );
    let file = std::env::temp_dir().join(format!("mproto-subsets-{}.yaml", std::process::id()));
    std::fs::write(&file, &yaml).expect("written");
    let check = mproto(&[
        "manifests",
        "--check",
        file.to_str().expect("utf-8 temp dir"),
    ]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    std::fs::remove_file(&file).expect("cleaned up");
}

#[test]
fn subset_and_load_balancer_errors_are_all_reported_and_nothing_is_printed() {
    let out = mproto(&[
        "manifests",
        "schemas/dubbo.mproto",
        "--service-entry",
        "--endpoint",
        "10.0.0.1,version=v1",
        "--subset",
        "v2:version=v2",
        "--subset",
        "v2:version=v1",
        "--load-balancer",
        "hash:serialisation",
    ]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert_eq!(
        text(&out.stderr),
        "error: --subset: `v2` is given twice: subset names must be unique\n\
         error: --subset: `v2` (version=v2) selects no --endpoint, so the proxy would have no \
         endpoint for it: add ,version=v2 to an --endpoint, or drop the subset\n\
         error: --load-balancer: `serialisation` is not a routable property of `dubbo` (it \
         declares `serialization`); did you mean `serialization`?\n\
         error: no manifests written for schemas/dubbo.mproto\n"
    );
    let out = mproto(&[
        "manifests",
        "schemas/dubbo.mproto",
        "--load-balancer",
        "fastest",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr)
            .contains("`fastest` is not round-robin, random, least-request or hash:PROPERTY"),
        "{}",
        text(&out.stderr)
    );
}

/// What the proxy makes of the output: a route to subset v2 reaches exactly the v2 endpoint.
#[test]
fn the_proxy_resolves_a_subset_to_its_endpoints() {
    use mproto_runtime::mesh::{Destination, Mesh, MetaRoute, MetaRouteDestination};
    use mproto_runtime::proxy::Plan;

    let out = mproto(VERSIONED);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut mesh = Mesh::load_str("emitted.yaml", &text(&out.stdout)).expect("loads");
    assert_eq!(mesh.destination_rules.len(), 1);
    // Routes a user would add before `default`, one per subset.
    let router = &mut mesh.meta_routers[0].object.spec;
    let host = router.hosts[0].clone();
    for subset in ["v2", "v1"] {
        let route = MetaRoute {
            name: format!("to-{subset}"),
            route: vec![MetaRouteDestination {
                destination: Destination {
                    host: host.clone(),
                    subset: Some(subset.to_owned()),
                    ..Destination::default()
                },
                weight: None,
            }],
            ..MetaRoute::default()
        };
        router.routes.insert(0, route);
    }
    let plan = Plan::build(&mesh, &mproto_codecs::registry()).expect("a proxy plan");
    let endpoints = |route: &str| {
        plan.route_endpoints("awesomerpc", route)
            .unwrap_or_else(|| panic!("no route {route}"))
    };
    assert_eq!(endpoints("to-v2"), [Ok(vec!["127.0.0.1:2".to_owned()])]);
    assert_eq!(endpoints("to-v1"), [Ok(vec!["127.0.0.1:1".to_owned()])]);
    assert_eq!(
        endpoints("default"),
        [Ok(vec!["127.0.0.1:1".to_owned(), "127.0.0.1:2".to_owned()])]
    );
}
