//! Kubernetes' and Istio's naming rules, each as a check that says what is wrong.
//!
//! The rules follow `k8s.io/apimachinery/pkg/util/validation`: object names are DNS-1123
//! subdomains, namespaces DNS-1123 labels, Service names DNS-1035 labels, Service and
//! ServiceEntry port names DNS-1123 labels (63 characters), and only container port names
//! are IANA service names (15 characters).

/// Longest DNS label.
const LABEL_MAX: usize = 63;
/// Longest DNS subdomain.
const SUBDOMAIN_MAX: usize = 253;
/// Longest IANA service name (container port names).
const IANA_SVC_MAX: usize = 15;

/// The result of a naming check: `Err` says why, in words that follow "must".
pub type Check = Result<(), String>;

fn lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn too_long(s: &str, max: usize) -> Check {
    match s.len() {
        0 => Err("must not be empty".into()),
        n if n > max => Err(format!("must be at most {max} characters (it has {n})")),
        _ => Ok(()),
    }
}

/// An RFC 1123 label: lowercase letters, digits and '-', starting and ending alphanumeric, ≤ 63.
pub fn dns1123_label(s: &str) -> Check {
    too_long(s, LABEL_MAX)?;
    let ok = s.chars().all(|c| lower_alnum(c) || c == '-')
        && s.starts_with(lower_alnum)
        && s.ends_with(lower_alnum);
    ok.then_some(()).ok_or_else(|| {
        "must be lowercase letters, digits and '-', starting and ending with a letter or digit"
            .into()
    })
}

/// An RFC 1035 label (Service names): an RFC 1123 label that starts with a letter.
pub fn dns1035_label(s: &str) -> Check {
    dns1123_label(s)?;
    if s.starts_with(|c: char| c.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err("must start with a lowercase letter".into())
    }
}

/// An RFC 1123 subdomain (most object names): dot-separated labels, ≤ 253 in all.
pub fn dns1123_subdomain(s: &str) -> Check {
    too_long(s, SUBDOMAIN_MAX)?;
    let ok = s.split('.').all(|part| {
        !part.is_empty()
            && part.chars().all(|c| lower_alnum(c) || c == '-')
            && part.starts_with(lower_alnum)
            && part.ends_with(lower_alnum)
    });
    ok.then_some(()).ok_or_else(|| {
        "must be lowercase letters, digits, '-' and '.', each dot-separated part starting and \
         ending with a letter or digit"
            .into()
    })
}

/// An IANA service name (container port names): ≤ 15, a letter, no leading, trailing or double '-'.
pub fn iana_svc_name(s: &str) -> Check {
    too_long(s, IANA_SVC_MAX)?;
    let ok = s.chars().all(|c| lower_alnum(c) || c == '-')
        && s.chars().any(|c| c.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    ok.then_some(()).ok_or_else(|| {
        "must be lowercase letters, digits and single '-' inside, with at least one letter".into()
    })
}

/// A protocol name usable in `tcp-metaprotocol-<protocol>-…`: `[a-z][a-z0-9]*`.
///
/// Aeraki reads the protocol from the third '-'-separated part of the port name, so a '-'
/// would cut it short; the name also becomes an object name and part of DNS labels.
pub fn protocol_name(s: &str) -> Check {
    too_long(s, LABEL_MAX)?;
    let ok = s.starts_with(|c: char| c.is_ascii_lowercase()) && s.chars().all(lower_alnum);
    ok.then_some(()).ok_or_else(|| {
        "must be a lowercase letter followed by lowercase letters and digits ([a-z][a-z0-9]*): \
         Aeraki reads the protocol from the port name `tcp-metaprotocol-<protocol>-<suffix>` \
         up to the next '-'"
            .into()
    })
}

/// An Istio host: a DNS name (letters of either case) with an optional leading `*.`, ≤ 253.
pub fn istio_host(s: &str) -> Check {
    let name = s.strip_prefix("*.").unwrap_or(s);
    too_long(name, SUBDOMAIN_MAX)?;
    let label = |p: &str| {
        let alnum = |c: char| c.is_ascii_alphanumeric();
        !p.is_empty()
            && p.len() <= LABEL_MAX
            && p.chars().all(|c| alnum(c) || c == '-')
            && p.starts_with(alnum)
            && p.ends_with(alnum)
    };
    if name.split('.').all(label) {
        Ok(())
    } else {
        Err(
            "must be a DNS name (dot-separated labels of letters, digits and '-'), \
             optionally starting with `*.`"
                .into(),
        )
    }
}

/// A label value: empty, or ≤ 63 of alphanumerics, '-', '_' and '.', starting and ending alphanumeric.
pub fn label_value(s: &str) -> Check {
    if s.is_empty() {
        return Ok(());
    }
    too_long(s, LABEL_MAX)?;
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let ok = s.chars().all(|c| alnum(c) || "-_.".contains(c))
        && s.starts_with(alnum)
        && s.ends_with(alnum);
    ok.then_some(()).ok_or_else(|| {
        "must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
            .into()
    })
}

/// A label key: an optional DNS-subdomain prefix and '/', then a name like a non-empty label value.
pub fn label_key(s: &str) -> Check {
    let name = match s.split_once('/') {
        Some((prefix, name)) => {
            dns1123_subdomain(prefix).map_err(|e| format!("prefix {e}"))?;
            name
        }
        None => s,
    };
    if name.is_empty() {
        return Err("must have a name (after the '/' prefix, if any)".into());
    }
    label_value(name)
}

/// `tcp-metaprotocol-<protocol>-<suffix>`, or without the suffix when it is empty.
pub fn port_name(protocol: &str, suffix: &str) -> String {
    if suffix.is_empty() {
        format!("tcp-metaprotocol-{protocol}")
    } else {
        format!("tcp-metaprotocol-{protocol}-{suffix}")
    }
}

/// The cluster-local DNS name of a Kubernetes Service.
pub fn service_host(service: &str, namespace: &str) -> String {
    format!(
        "{service}.{namespace}.svc.{}",
        super::options::CLUSTER_DOMAIN
    )
}

/// Names in backquotes, separated by commas: `` `a`, `b` ``.
pub fn quoted(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_rfc_1123() {
        assert!(dns1123_label("meta-dubbo").is_ok());
        assert!(dns1123_label("9lives").is_ok());
        assert!(dns1123_label("Default").is_err());
        assert!(dns1123_label("-a").is_err());
        assert!(dns1123_label("a-").is_err());
        assert!(dns1123_label("a.b").is_err());
        assert!(dns1123_label("").is_err());
        assert!(dns1123_label(&"a".repeat(63)).is_ok());
        let long = dns1123_label(&"a".repeat(64)).unwrap_err();
        assert!(long.contains("at most 63"), "{long}");
    }

    #[test]
    fn service_names_start_with_a_letter() {
        assert!(dns1035_label("dubbo").is_ok());
        assert!(dns1035_label("9lives").is_err());
    }

    #[test]
    fn subdomains_allow_dots() {
        assert!(dns1123_subdomain("a.b-c.d").is_ok());
        assert!(dns1123_subdomain("a..b").is_err());
        assert!(dns1123_subdomain("a.-b").is_err());
        assert!(dns1123_subdomain(&"a".repeat(254)).is_err());
    }

    #[test]
    fn service_port_names_may_be_longer_than_container_port_names() {
        let name = port_name("awesomerpc", "server");
        assert_eq!(name, "tcp-metaprotocol-awesomerpc-server");
        assert!(
            dns1123_label(&name).is_ok(),
            "Service/ServiceEntry port names: 63"
        );
        assert!(iana_svc_name(&name).is_err(), "container port names: 15");
        assert!(iana_svc_name("proxy").is_ok());
        assert!(iana_svc_name("a--b").is_err());
        assert!(iana_svc_name("8080").is_err());
        assert_eq!(port_name("dubbo", ""), "tcp-metaprotocol-dubbo");
    }

    #[test]
    fn protocol_names_have_no_dash() {
        assert!(protocol_name("dubbo").is_ok());
        assert!(protocol_name("trpc2").is_ok());
        assert!(protocol_name("my-rpc").is_err());
        assert!(protocol_name("2rpc").is_err());
        assert!(protocol_name("Rpc").is_err());
    }

    #[test]
    fn hosts_labels_and_keys() {
        assert!(istio_host("org.apache.dubbo.samples.basic.api.demoservice").is_ok());
        assert!(istio_host("*.example.com").is_ok());
        assert!(istio_host("Demo.Example").is_ok());
        assert!(istio_host("a..b").is_err());
        assert!(istio_host("a_b").is_err());
        assert!(label_value("v1.2_beta").is_ok());
        assert!(label_value("").is_ok());
        assert!(label_value("-x").is_err());
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("app").is_ok());
        assert!(label_key("Bad_Prefix/x").is_err());
        assert!(label_key("x/").is_err());
    }

    #[test]
    fn service_hosts_are_cluster_local() {
        assert_eq!(service_host("dubbo", "ns"), "dubbo.ns.svc.cluster.local");
    }
}
