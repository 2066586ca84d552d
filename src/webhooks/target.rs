//! Where a webhook may point: http(s) URLs whose host does not resolve to this machine's or a
//! private network (SSRF), unless `webhooks.allow_private_targets` says otherwise.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Checks a target URL; the error says what is wrong, for a 400.
pub async fn check(raw: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(raw).map_err(|e| format!("url is not a valid url: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("url must be http or https".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("url must not carry credentials".into());
    }
    let host = url
        .host_str()
        .ok_or_else(|| "url has no host".to_owned())?
        .to_owned();
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("url host {host} does not resolve: {e}"))?
            .map(|socket| socket.ip())
            .collect(),
    };
    if let Some(private) = addresses.iter().find(|ip| !is_public(ip)) {
        return Err(format!(
            "url host {host} is a private, loopback or link-local address ({private}); \
             webhooks go to public endpoints"
        ));
    }
    Ok(url)
}

fn is_public(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(&v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: &Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // Carrier-grade NAT (100.64.0.0/10) and benchmarking (198.18.0.0/15).
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (18..20).contains(&b)))
}

fn is_public_v6(ip: &Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        // Unique local (fc00::/7) and link-local (fe80::/10).
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.1/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hook",
            "http://[fd00::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://localhost/hook",
            "http://0.0.0.0/hook",
        ] {
            let refused = check(url, false).await.unwrap_err();
            assert!(
                refused.contains("private, loopback or link-local"),
                "{url}: {refused}"
            );
            assert!(
                check(url, true).await.is_ok(),
                "{url} allowed by the operator"
            );
        }
        assert!(check("https://93.184.215.14/hook", false).await.is_ok());
        assert_eq!(
            check("ftp://example.com/", false).await.unwrap_err(),
            "url must be http or https"
        );
        assert!(check("not a url", false)
            .await
            .unwrap_err()
            .starts_with("url is not a valid url"));
        assert_eq!(
            check("https://user:pw@93.184.215.14/", false)
                .await
                .unwrap_err(),
            "url must not carry credentials"
        );
    }
}
