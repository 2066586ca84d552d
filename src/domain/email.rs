/// An email address, trimmed and lowercased (so `You@Example.com` and `you@example.com` are one
/// account). The check is deliberately practical: one `@`, a plausible local part and a dotted
/// domain of letters, digits and hyphens; whether it receives mail is for a confirmation email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("email is required".into());
        }
        if email.chars().count() > 254 {
            return Err("email must be at most 254 characters".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("email must contain @".into());
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !(local_ok && domain_ok) {
            return Err("email is not a valid address".into());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_are_normalized() {
        assert_eq!(
            Email::parse("  You@Example.COM ").unwrap().as_str(),
            "you@example.com"
        );
        assert!(Email::parse("first.last+tag@sub.example.co").is_ok());
    }

    #[test]
    fn invalid_addresses_are_refused() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "you@",
            "you@example",
            "you@@example.com",
            "you@exa mple.com",
            ".you@example.com",
            "you..me@example.com",
            "you@-example.com",
            "you@example..com",
            "yöu@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
