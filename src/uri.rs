//! URI templates of resources (`erp://customers/{customer_no}`, RFC 6570 level 1) and the
//! `{placeholder}` syntax of prompt texts.

/// A URI with `{variable}` parts.
#[derive(Debug, Clone)]
pub struct UriTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Var(String),
}

impl UriTemplate {
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.contains("://") {
            return Err(format!(
                "`{text}` is not a URI; write e.g. erp://customers/{{customer_no}}"
            ));
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in `{text}`"))?
                + open;
            let name = &rest[open + 1..close];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("`{{{name}}}` in `{text}` is not a variable name"));
            }
            if matches!(parts.last(), Some(Part::Var(_))) {
                return Err(format!(
                    "two variables side by side in `{text}` cannot be told apart"
                ));
            }
            parts.push(Part::Var(name.to_string()));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(UriTemplate { parts })
    }

    pub fn variables(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var(v) => Some(v.as_str()),
                Part::Literal(_) => None,
            })
            .collect()
    }

    /// Match a concrete URI; variables match one or more characters other than `/`, `?`, `#`
    /// and are percent-decoded.
    pub fn matches(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let mut rest = uri;
        let mut out = Vec::new();
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
                Part::Var(name) => {
                    let end = match self.parts.get(i + 1) {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        _ => rest.len(),
                    };
                    let raw = &rest[..end];
                    if raw.is_empty() || raw.contains(['/', '?', '#']) {
                        return None;
                    }
                    out.push((name.clone(), percent_decode(raw)?));
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(out)
    }
}

/// Replace `{name}` placeholders with values; unknown names stay as written.
pub fn fill(text: &str, mut value_of: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                let name = &rest[open + 1..open + close];
                match value_of(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[open..=open + close]),
                }
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders of a text, in order.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    fill(text, |n| {
        if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.push(n.to_string());
        }
        None
    });
    names
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encode a value for use inside a URI path segment.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_and_decode() {
        let t = UriTemplate::parse("erp://customers/{customer_no}").unwrap();
        assert_eq!(t.variables(), vec!["customer_no"]);
        assert_eq!(
            t.matches("erp://customers/C%2010").unwrap(),
            vec![("customer_no".to_string(), "C 10".to_string())]
        );
        assert!(t.matches("erp://customers/").is_none());
        assert!(t.matches("erp://customers/a/b").is_none());
        assert!(UriTemplate::parse("customers/{x}").is_err());
    }

    #[test]
    fn placeholders_fill_and_list() {
        assert_eq!(placeholders("Hi {a}, see {b}"), vec!["a", "b"]);
        assert_eq!(
            fill("x {a} {c}", |n| (n == "a").then(|| "1".into())),
            "x 1 {c}"
        );
    }
}

/// Property tests: templates, matching and filling never panic on any text, and a URI filled
/// from a template matches it with the same values.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn nothing_panics(template in "\\PC{0,40}", uri in "\\PC{0,60}") {
            if let Ok(t) = UriTemplate::parse(&template) {
                let _ = t.matches(&uri);
            }
            let _ = placeholders(&template);
            let _ = fill(&template, |_| Some(uri.clone()));
        }

        #[test]
        fn filled_uris_match_their_template(a in "\\PC{1,20}", b in "[A-Za-z0-9]{1,12}") {
            let t = UriTemplate::parse("erp://customers/{no}/orders/{order}").unwrap();
            let uri = format!("erp://customers/{}/orders/{b}", percent_encode(&a));
            let got = t.matches(&uri).expect("a filled URI matches");
            prop_assert_eq!(got, vec![("no".to_string(), a), ("order".to_string(), b)]);
        }
    }
}
