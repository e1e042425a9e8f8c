//! `mproto manifests`: mesh manifests from a schema, or `--check` of hand-written ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use mproto_compiler::SourceMap;
use mproto_compiler::manifest::{
    self, Endpoint, FileError, LoadBalancer, ManifestOptions, Resolution, Subset,
};

/// Options of `mproto manifests`.
#[derive(Args)]
pub struct ManifestsArgs {
    /// The schema (`.mproto`), or with --check the manifest files (YAML) to check.
    #[arg(required = true, value_name = "SCHEMA | FILE")]
    inputs: Vec<PathBuf>,
    /// Check hand-written manifests against Aeraki's CRDs and the proxy's config model.
    #[arg(long)]
    check: bool,
    /// With --check: check each file on its own (alternatives, such as Aeraki's demo
    /// MetaRouters that share a name) instead of all files as one configuration.
    #[arg(long, requires = "check")]
    each: bool,
    /// Write one file per object into this directory instead of YAML to stdout.
    #[arg(short, long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Namespace of every namespaced object.
    #[arg(short, long, default_value = manifest::DEFAULT_NAMESPACE)]
    namespace: String,
    /// Name of the Service/ServiceEntry and MetaRouter [default: the protocol's name].
    #[arg(long)]
    service: Option<String>,
    /// The service port.
    #[arg(long, default_value_t = manifest::DEFAULT_PORT)]
    port: u16,
    /// The pods' port [default: --port].
    #[arg(long)]
    target_port: Option<u16>,
    /// Last part of the port name `tcp-metaprotocol-<protocol>-<suffix>` ("" leaves it out).
    #[arg(long, default_value = manifest::DEFAULT_PORT_SUFFIX)]
    port_suffix: String,
    /// Emit an Istio ServiceEntry instead of a Kubernetes Service.
    #[arg(long)]
    service_entry: bool,
    /// A ServiceEntry host (repeatable) [default: <service>.<namespace>.svc.cluster.local].
    #[arg(long = "host", value_name = "HOST")]
    hosts: Vec<String>,
    /// ServiceEntry resolution [default: static for IP endpoints or a selector, else dns].
    #[arg(long, value_enum)]
    resolution: Option<ResolutionArg>,
    /// A pod label the Service (or ServiceEntry) selects, KEY=VALUE (repeatable) [default: app=<service>].
    #[arg(long = "selector", value_name = "KEY=VALUE", value_parser = parse_label)]
    selector: Vec<(String, String)>,
    /// A static ServiceEntry endpoint, ADDRESS[:PORT][,KEY=VALUE…] (repeatable).
    #[arg(long = "endpoint", value_name = "ADDRESS[:PORT][,LABEL=VALUE…]", value_parser = parse_endpoint)]
    endpoints: Vec<Endpoint>,
    /// A DestinationRule subset, NAME:KEY=VALUE[,KEY=VALUE…] (repeatable): the endpoints
    /// (or pods) carrying all the labels.
    #[arg(long = "subset", value_name = "NAME:KEY=VALUE[,KEY=VALUE…]", value_parser = parse_subset)]
    subsets: Vec<Subset>,
    /// The DestinationRule's load balancer: round-robin, random, least-request or
    /// hash:PROPERTY (a routable property).
    #[arg(long, value_name = "round-robin|random|least-request|hash:PROPERTY", value_parser = parse_load_balancer)]
    load_balancer: Option<LoadBalancer>,
    /// Emit example routes matching each routable property (otherwise they are comments).
    #[arg(long)]
    example_routes: bool,
    /// Also emit a Deployment, ConfigMap and Service that run `mproto proxy` as a gateway.
    #[arg(long)]
    gateway: bool,
    /// The gateway's container image.
    #[arg(long, default_value = manifest::DEFAULT_IMAGE)]
    image: String,
    /// The gateway's replica count.
    #[arg(long, default_value_t = 1)]
    replicas: u16,
    /// Also emit a `Proxy` object, so that `mproto proxy --config` runs the output as it is
    /// (needs --service-entry with --endpoint, or --resolution dns; not with --gateway).
    #[arg(long)]
    standalone: bool,
    /// With --standalone: the proxy's listener, IP:PORT [default: 127.0.0.1:<port>].
    #[arg(long, value_name = "IP:PORT")]
    listen: Option<String>,
    /// With --standalone: the proxy's admin server (/ready, /metrics), IP:PORT
    /// [default: 127.0.0.1:15000].
    #[arg(long, value_name = "IP:PORT")]
    admin: Option<String>,
}

/// Istio's ServiceEntry resolutions.
#[derive(Clone, Copy, ValueEnum)]
enum ResolutionArg {
    None,
    Static,
    Dns,
    DnsRoundRobin,
}

/// Runs the command; false when anything failed.
pub fn run(args: ManifestsArgs) -> bool {
    if args.check && args.each {
        return args
            .inputs
            .iter()
            .fold(true, |ok, f| check(std::slice::from_ref(f)) & ok);
    }
    if args.check {
        return check(&args.inputs);
    }
    let [schema] = args.inputs.as_slice() else {
        eprintln!("error: give one schema (or --check with manifest files)");
        return false;
    };
    let options = options(&args);
    emit(schema, &options, args.out.as_deref())
}

fn options(args: &ManifestsArgs) -> ManifestOptions {
    ManifestOptions {
        namespace: Some(args.namespace.clone()),
        service: args.service.clone(),
        port: Some(args.port),
        target_port: args.target_port,
        port_suffix: Some(args.port_suffix.clone()),
        service_entry: args.service_entry,
        hosts: args.hosts.clone(),
        resolution: args.resolution.map(|r| match r {
            ResolutionArg::None => Resolution::None,
            ResolutionArg::Static => Resolution::Static,
            ResolutionArg::Dns => Resolution::Dns,
            ResolutionArg::DnsRoundRobin => Resolution::DnsRoundRobin,
        }),
        selector: args.selector.iter().cloned().collect(),
        endpoints: args.endpoints.clone(),
        subsets: args.subsets.clone(),
        load_balancer: args.load_balancer.clone(),
        example_routes: args.example_routes,
        gateway: args.gateway,
        image: Some(args.image.clone()),
        replicas: Some(args.replicas),
        standalone: args.standalone,
        listen: args.listen.clone(),
        admin: args.admin.clone(),
    }
}

fn emit(schema: &Path, options: &ManifestOptions, out: Option<&Path>) -> bool {
    let mut sources = SourceMap::new();
    let objects = match manifest::emit_file(schema, options, &mut sources) {
        Ok(objects) => objects,
        Err(FileError::Schema(d)) => {
            crate::report(&sources, d, schema);
            return false;
        }
        Err(FileError::Manifest(errors)) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!("error: no manifests written for {}", schema.display());
            return false;
        }
    };
    let Some(dir) = out else {
        let name = schema.file_name().map_or_else(
            || schema.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        println!("# Generated by `mproto manifests` from {name}.");
        print!("{}", manifest::render_yaml(&objects));
        return true;
    };
    match manifest::write_dir(&objects, dir) {
        Ok(paths) => {
            paths.iter().for_each(|p| println!("wrote {}", p.display()));
            true
        }
        Err(e) => {
            eprintln!("error: cannot write into {}: {e}", dir.display());
            false
        }
    }
}

fn check(files: &[PathBuf]) -> bool {
    let report = manifest::check_files(files);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    let what = match files {
        [one] => one.display().to_string(),
        many => format!("{} files", many.len()),
    };
    if report.is_ok() {
        println!(
            "ok: {what}: {}, {} validated against Aeraki's CRDs, loaded by the proxy's config model",
            plural(report.documents, "document"),
            report.crd_validated
        );
    } else {
        eprintln!("error: {what}: {}", plural(report.errors.len(), "problem"));
    }
    report.is_ok()
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `KEY=VALUE`.
fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

/// `NAME:KEY=VALUE[,KEY=VALUE…]`.
fn parse_subset(s: &str) -> Result<Subset, String> {
    let (name, labels) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not NAME:KEY=VALUE[,KEY=VALUE…]"))?;
    let labels = labels
        .split(',')
        .map(parse_label)
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    Ok(Subset {
        name: name.to_owned(),
        labels,
    })
}

/// `round-robin`, `random`, `least-request` or `hash:PROPERTY`.
fn parse_load_balancer(s: &str) -> Result<LoadBalancer, String> {
    match s {
        "round-robin" => Ok(LoadBalancer::RoundRobin),
        "random" => Ok(LoadBalancer::Random),
        "least-request" => Ok(LoadBalancer::LeastRequest),
        _ => s
            .strip_prefix("hash:")
            .map(|p| LoadBalancer::Hash(p.to_owned()))
            .ok_or_else(|| {
                format!("`{s}` is not round-robin, random, least-request or hash:PROPERTY")
            }),
    }
}

/// `ADDRESS[:PORT][,KEY=VALUE…]`, with IPv6 addresses bare or as `[ADDRESS]:PORT`.
fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    let mut parts = s.split(',');
    let target = parts.next().unwrap_or_default();
    let (address, port) = split_port(target)?;
    let labels = parts
        .map(parse_label)
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    Ok(Endpoint {
        address,
        port,
        labels,
    })
}

fn split_port(s: &str) -> Result<(String, Option<u16>), String> {
    let port = |p: &str| {
        p.parse::<u16>()
            .map(Some)
            .map_err(|_| format!("`{p}` is not a port number"))
    };
    if let Some(rest) = s.strip_prefix('[') {
        let (ip, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{s}`: missing `]`"))?;
        return match tail.strip_prefix(':') {
            Some(p) => Ok((ip.to_owned(), port(p)?)),
            None if tail.is_empty() => Ok((ip.to_owned(), None)),
            None => Err(format!("`{s}`: expected `:PORT` after `]`")),
        };
    }
    match s.split_once(':') {
        // Two or more colons: a bare IPv6 address.
        Some((_, rest)) if rest.contains(':') => Ok((s.to_owned(), None)),
        Some((host, p)) => Ok((host.to_owned(), port(p)?)),
        None => Ok((s.to_owned(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_with_ports_labels_and_ipv6() {
        let e = parse_endpoint("10.0.0.1:20880,version=v1,zone=a").expect("valid");
        assert_eq!(e.address, "10.0.0.1");
        assert_eq!(e.port, Some(20880));
        assert_eq!(e.labels.len(), 2);
        assert_eq!(parse_endpoint("::1").expect("valid").address, "::1");
        let v6 = parse_endpoint("[::1]:9000").expect("valid");
        assert_eq!((v6.address.as_str(), v6.port), ("::1", Some(9000)));
        assert_eq!(parse_endpoint("backend").expect("valid").port, None);
        assert!(parse_endpoint("h:http").is_err());
        assert!(parse_endpoint("h,novalue").is_err());
        assert!(parse_endpoint("[::1").is_err());
    }
}
