/// A meeting title: trimmed, without control characters, at most `max_chars` characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// `None` or blank gives `default`. The length limit applies to the input as sent, before
    /// trimming, so that it means what the OpenAPI document's `maxLength` says.
    pub fn parse(raw: Option<&str>, default: &str, max_chars: usize) -> Result<Self, String> {
        if raw.is_some_and(|raw| raw.chars().count() > max_chars) {
            return Err(format!("title must be at most {max_chars} characters"));
        }
        let title = raw
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or(default);
        if title.chars().any(char::is_control) {
            return Err("title must not contain control characters".into());
        }
        Ok(Self(title.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_default_trim_and_are_bounded() {
        let parse = |raw| Title::parse(raw, "Untitled Meeting", 20);
        assert_eq!(parse(None).unwrap().into_inner(), "Untitled Meeting");
        assert_eq!(parse(Some("   ")).unwrap().into_inner(), "Untitled Meeting");
        assert_eq!(parse(Some("  Standup ")).unwrap().into_inner(), "Standup");
        assert!(parse(Some("twenty-one characters")).is_err());
        assert!(parse(Some("exactly twenty chars")).is_ok());
        assert!(parse(Some("a\u{0}b")).is_err());
    }
}
