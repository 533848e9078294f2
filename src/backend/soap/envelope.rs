//! The request envelope. Element names come from the mapping (checked as XML names when it is
//! compiled); every value a caller sends goes through `xml::escape`, so no argument can add
//! markup. Namespaces are written as default-namespace declarations (`xmlns="..."`), which
//! qualified children inherit and unqualified ones reset with `xmlns=""`.

use std::collections::HashMap;

use base64::Engine;
use sha1::{Digest, Sha1};

use super::types::{Auth, Content, Node, Operation, SoapSettings};
use super::xml::{XSI, escape};
use crate::backend::soap::keys::SoapVersion;
use crate::value::Value;

const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
const TOKEN_PROFILE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0";
const BASE64_BINARY: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";

pub fn envelope_ns(v: SoapVersion) -> &'static str {
    match v {
        SoapVersion::V11 => SOAP11,
        SoapVersion::V12 => SOAP12,
    }
}

/// The whole request document.
pub fn render(s: &SoapSettings, op: &Operation, params: &HashMap<String, Value>) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    out.push_str(&format!(
        r#"<soap:Envelope xmlns:soap="{}" xmlns:xsi="{XSI}">"#,
        envelope_ns(s.version)
    ));
    let security = ws_security(s);
    if security.is_some() || !s.headers.is_empty() {
        out.push_str("<soap:Header>");
        if let Some(sec) = security {
            out.push_str(&sec);
        }
        for h in &s.headers {
            node(&mut out, h, None, true, params);
        }
        out.push_str("</soap:Header>");
    }
    out.push_str("<soap:Body>");
    let ns = op.ns.as_deref().unwrap_or("");
    out.push_str(&format!("<{} xmlns=\"{}\">", op.element, escape(ns)));
    let inherited = if op.qualified { Some(ns) } else { None };
    for n in &op.body {
        node(&mut out, n, inherited, op.qualified, params);
    }
    out.push_str(&format!("</{}>", op.element));
    out.push_str("</soap:Body></soap:Envelope>");
    out
}

/// One element and its content. `parent_ns` is the default namespace in scope (`None`: the
/// element is unqualified, so an `xmlns=""` reset may be needed).
fn node(
    out: &mut String,
    n: &Node,
    parent_ns: Option<&str>,
    qualified: bool,
    params: &HashMap<String, Value>,
) {
    // An optional parameter the caller left out leaves its element out (or sends nil).
    let text = match &n.content {
        Content::Param(p) => match params.get(p).filter(|v| !v.is_null()) {
            // An array parameter repeats its element, once per item, in order.
            Some(Value::List(items)) => {
                for item in items {
                    open(out, n, parent_ns, "");
                    out.push_str(&escape(&item.to_text()));
                    out.push_str(&format!("</{}>", n.name));
                }
                return;
            }
            Some(v) => Some(v.to_text()),
            None if n.nil => {
                open(out, n, parent_ns, " xsi:nil=\"true\"/");
                return;
            }
            None => return,
        },
        Content::Value(v) => Some(v.clone()),
        // A record made only of optional parameters the caller left out is left out whole
        // (NAV reads an empty `<filter/>` as a filter on nothing).
        Content::Children(c) if !c.is_empty() && !c.iter().any(|c| has_content(c, params)) => {
            return;
        }
        Content::Children(_) => None,
    };
    let own_ns = n.ns.as_deref().or(if qualified { parent_ns } else { None });
    open(out, n, parent_ns, "");
    match (&n.content, text) {
        (Content::Children(children), _) => {
            for c in children {
                node(out, c, own_ns, qualified, params);
            }
        }
        (_, Some(t)) => out.push_str(&escape(&t)),
        _ => {}
    }
    out.push_str(&format!("</{}>", n.name));
}

/// Whether `node` writes anything for these values.
fn has_content(n: &Node, params: &HashMap<String, Value>) -> bool {
    match &n.content {
        Content::Param(p) => n.nil || params.get(p).is_some_and(|v| !v.is_null()),
        Content::Value(_) => true,
        Content::Children(c) => c.is_empty() || c.iter().any(|c| has_content(c, params)),
    }
}

fn open(out: &mut String, n: &Node, parent_ns: Option<&str>, tail: &str) {
    out.push('<');
    out.push_str(&n.name);
    match (n.ns.as_deref(), parent_ns) {
        (Some(ns), p) if p != Some(ns) => out.push_str(&format!(" xmlns=\"{}\"", escape(ns))),
        (None, None) => out.push_str(" xmlns=\"\""),
        _ => {}
    }
    out.push_str(tail);
    out.push('>');
}

/// The WS-Security header for `ws_security` auth; a fresh nonce and timestamp per request.
fn ws_security(s: &SoapSettings) -> Option<String> {
    let Auth::WsSecurity {
        user,
        password,
        digest,
    } = &s.auth
    else {
        return None;
    };
    let must = match s.version {
        SoapVersion::V11 => "1",
        SoapVersion::V12 => "true",
    };
    let mut token = format!(
        "<wsse:Security xmlns:wsse=\"{WSSE}\" xmlns:wsu=\"{WSU}\" soap:mustUnderstand=\"{must}\"><wsse:UsernameToken><wsse:Username>{}</wsse:Username>",
        escape(user)
    );
    if *digest {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).expect("the system's random source");
        let created = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let b64 = base64::engine::general_purpose::STANDARD;
        token.push_str(&format!(
            "<wsse:Password Type=\"{TOKEN_PROFILE}#PasswordDigest\">{}</wsse:Password><wsse:Nonce EncodingType=\"{BASE64_BINARY}\">{}</wsse:Nonce><wsu:Created>{created}</wsu:Created>",
            password_digest(&nonce, &created, password),
            b64.encode(nonce)
        ));
    } else {
        token.push_str(&format!(
            "<wsse:Password Type=\"{TOKEN_PROFILE}#PasswordText\">{}</wsse:Password>",
            escape(password)
        ));
    }
    token.push_str("</wsse:UsernameToken></wsse:Security>");
    Some(token)
}

/// Base64(SHA-1(nonce + created + password)), as the UsernameToken profile defines it.
pub fn password_digest(nonce: &[u8], created: &str, password: &str) -> String {
    let mut h = Sha1::new();
    h.update(nonce);
    h.update(created.as_bytes());
    h.update(password.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::mssql::Trust;
    use crate::backend::soap::{RowPath, xml};
    use std::time::Duration;

    fn settings(auth: Auth) -> SoapSettings {
        SoapSettings {
            name: "s".into(),
            endpoint: "http://127.0.0.1:1/".into(),
            version: SoapVersion::V11,
            namespace: None,
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            trust: Trust::System,
            proxy: None,
            auth,
            headers: vec![],
            max_response_bytes: 1 << 20,
            max_depth: 64,
        }
    }

    fn op(qualified: bool) -> Operation {
        let leaf = |name: &str, p: &str| Node {
            name: name.into(),
            ns: None,
            content: Content::Param(p.into()),
            nil: false,
        };
        Operation {
            element: "Find".into(),
            ns: Some("urn:erp".into()),
            action: String::new(),
            qualified,
            body: vec![
                leaf("name", "name"),
                Node {
                    name: "filter".into(),
                    ns: Some("urn:other".into()),
                    content: Content::Children(vec![leaf("note", "note")]),
                    nil: false,
                },
                Node {
                    nil: true,
                    ..leaf("absent", "absent")
                },
                leaf("skipped", "skipped"),
            ],
            rows: RowPath {
                steps: vec![],
                embedded: None,
            },
            columns: Vec::new().into(),
            fields: vec![],
        }
    }

    #[test]
    fn values_cannot_add_markup_and_namespaces_are_right() {
        let mut params = HashMap::new();
        let evil = "</name><admin>true</admin><![CDATA[x]]>&amp;";
        params.insert("name".to_string(), Value::Str(evil.into()));
        params.insert("note".to_string(), Value::Str("n".into()));
        params.insert(
            "skipped".to_string(),
            Value::List(vec![Value::Int(1), Value::Str("<2>".into())]),
        );
        let doc = render(&settings(Auth::None), &op(true), &params);
        let root = xml::parse(&doc, 64).unwrap();
        let find = root.child("Body").unwrap().child("Find").unwrap();
        assert_eq!(find.ns.as_deref(), Some("urn:erp"));
        let name = find.child("name").unwrap();
        assert_eq!(name.text, evil, "the value arrives as text, intact");
        assert_eq!(name.ns.as_deref(), Some("urn:erp"));
        assert!(find.child("admin").is_none());
        let filter = find.child("filter").unwrap();
        assert_eq!(filter.ns.as_deref(), Some("urn:other"));
        assert_eq!(
            filter.child("note").unwrap().ns.as_deref(),
            Some("urn:other")
        );
        assert!(find.child("absent").unwrap().is_nil());
        let repeated: Vec<&str> = find
            .children
            .iter()
            .filter(|c| c.name == "skipped")
            .map(|c| c.text.as_str())
            .collect();
        assert_eq!(
            repeated,
            ["1", "<2>"],
            "a list repeats its element per item"
        );
        params.remove("skipped");
        let doc = render(&settings(Auth::None), &op(true), &params);
        let root = xml::parse(&doc, 64).unwrap();
        let find = root.child("Body").unwrap().child("Find").unwrap();
        assert!(find.child("skipped").is_none());

        let doc = render(&settings(Auth::None), &op(false), &params);
        let root = xml::parse(&doc, 64).unwrap();
        let find = root.child("Body").unwrap().child("Find").unwrap();
        assert_eq!(find.child("name").unwrap().ns, None);
    }

    #[test]
    fn ws_security_digest_is_verifiable() {
        let s = settings(Auth::WsSecurity {
            user: "mcp".into(),
            password: "pw<&>".into(),
            digest: true,
        });
        let doc = render(&s, &op(true), &HashMap::new());
        let root = xml::parse(&doc, 64).unwrap();
        let token = root
            .child("Header")
            .and_then(|h| h.child("Security"))
            .and_then(|s| s.child("UsernameToken"))
            .unwrap();
        let nonce = base64::engine::general_purpose::STANDARD
            .decode(token.child("Nonce").unwrap().trimmed())
            .unwrap();
        let created = token.child("Created").unwrap().trimmed();
        assert_eq!(
            token.child("Password").unwrap().trimmed(),
            password_digest(&nonce, created, "pw<&>")
        );
        assert!(
            !doc.contains("pw<&>"),
            "a digest never carries the password"
        );
    }
}
