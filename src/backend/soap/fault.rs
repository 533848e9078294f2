//! Reading an answer as SOAP: the envelope's `Body`, or an error. SOAP 1.1 faults
//! (`faultcode`, `faultstring`, `detail`) and 1.2 faults (`Code/Value`, `Subcode`,
//! `Reason/Text`, `Detail`) become `SoapError::Fault` whatever the HTTP status; HTML pages,
//! empty and malformed bodies and bare error statuses become short messages.

use std::sync::atomic::AtomicBool;

use super::client::{Answer, excerpt, status_message};
use super::types::{SoapError, SoapSettings};
use super::xml::{self, Element};

const ENVELOPES: [&str; 2] = [
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://www.w3.org/2003/05/soap-envelope",
];

/// The `Body` element of a SOAP answer, or why there is none.
pub fn open_envelope(
    a: &Answer,
    s: &SoapSettings,
    stop: &AtomicBool,
) -> Result<Element, SoapError> {
    let ok = (200..300).contains(&a.status);
    let fail = |m: String| SoapError::Call(m);
    if a.body.trim().is_empty() {
        return Err(fail(if ok {
            format!(
                "source `{}` answered HTTP {} with an empty body, not a SOAP envelope",
                s.name, a.status
            )
        } else {
            status_message(&s.name, a.status, "")
        }));
    }
    // An error status says more than "HTML" does (a 404 page is HTML too).
    if a.content_type.starts_with("text/html") {
        return Err(fail(if ok {
            html(s, a)
        } else {
            status_message(&s.name, a.status, &excerpt(&a.body))
        }));
    }
    let root = match xml::parse_bounded(&a.body, &s.bounds(stop)) {
        Ok(r) => r,
        Err(e @ xml::XmlError::TooManyElements(_)) => {
            return Err(fail(format!(
                "source `{}` sent an answer that cannot be used ({e}: one element per 16 bytes of max_response_size is accepted, so that a flood of tiny elements cannot take the server's memory); nothing of it is used. Narrow the request, or raise max_response_size",
                s.name
            )));
        }
        Err(e) if ok => {
            return Err(fail(format!(
                "source `{}` sent an answer that cannot be used ({e}); nothing of it is used",
                s.name
            )));
        }
        Err(_) => return Err(fail(status_message(&s.name, a.status, &excerpt(&a.body)))),
    };
    if root.name.eq_ignore_ascii_case("html") {
        return Err(fail(if ok {
            html(s, a)
        } else {
            status_message(&s.name, a.status, &excerpt(&a.body))
        }));
    }
    let is_envelope =
        root.name == "Envelope" && ENVELOPES.contains(&root.ns.as_deref().unwrap_or(""));
    if !is_envelope {
        return Err(fail(if ok {
            format!(
                "source `{}` answered with XML that is not a SOAP envelope (root element <{}>)",
                s.name, root.name
            )
        } else {
            status_message(&s.name, a.status, &excerpt(&a.body))
        }));
    }
    let body = root
        .children
        .into_iter()
        .find(|c| c.name == "Body")
        .ok_or_else(|| {
            fail(format!(
                "the SOAP answer from source `{}` has no Body",
                s.name
            ))
        })?;
    if let Some(f) = body.child("Fault") {
        return Err(fault(f));
    }
    if !ok {
        return Err(fail(status_message(&s.name, a.status, "")));
    }
    Ok(body)
}

fn html(s: &SoapSettings, a: &Answer) -> String {
    format!(
        "source `{}` answered with an HTML page, not SOAP (HTTP {}): \"{}\"; a login page or proxy error usually means the endpoint or the credentials are wrong",
        s.name,
        a.status,
        excerpt(&a.body)
    )
}

/// A fault of either version.
pub fn fault(f: &Element) -> SoapError {
    if let Some(code) = f.child("Code") {
        // SOAP 1.2: Code/Value, then nested Subcode/Value, most specific last.
        let mut codes = vec![local(code.child("Value").map_or("", |v| v.trimmed()))];
        let mut sub = code.child("Subcode");
        while let Some(s) = sub {
            codes.push(local(s.child("Value").map_or("", |v| v.trimmed())));
            sub = s.child("Subcode");
        }
        let reason = f
            .child("Reason")
            .and_then(|r| {
                r.children_named("Text")
                    .find(|t| t.attr("lang").is_some_and(|l| l.starts_with("en")))
                    .or_else(|| r.child("Text"))
            })
            .map_or("", |t| t.trimmed());
        return SoapError::Fault {
            code: codes.join("/"),
            reason: clip(reason),
            detail: f.child("Detail").and_then(detail),
        };
    }
    SoapError::Fault {
        code: local(f.child("faultcode").map_or("", |c| c.trimmed())),
        reason: clip(f.child("faultstring").map_or("", |c| c.trimmed())),
        detail: f.child("detail").and_then(detail),
    }
}

/// `soap:Client.NotFound` -> `Client.NotFound`.
fn local(qname: &str) -> String {
    qname.rsplit(':').next().unwrap_or(qname).to_string()
}

/// A detail element's text content, flattened and clipped.
fn detail(d: &Element) -> Option<String> {
    fn walk(e: &Element, out: &mut String) {
        if !e.trimmed().is_empty() {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(e.trimmed());
        }
        for c in &e.children {
            walk(c, out);
        }
    }
    let mut text = String::new();
    walk(d, &mut text);
    (!text.is_empty()).then(|| clip(&text))
}

fn clip(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() > 500 {
        one_line.chars().take(497).collect::<String>() + "..."
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Element {
        xml::parse(s, 64).unwrap()
    }

    #[test]
    fn soap11_and_12_faults() {
        let f11 = parse(
            r#"<f><faultcode xmlns:s="x">s:Client.NotFound</faultcode><faultstring>Customer C9 does not exist</faultstring><detail><e><msg>No row</msg></e></detail></f>"#,
        );
        assert_eq!(
            fault(&f11).to_string(),
            "the service answered with a SOAP fault: Customer C9 does not exist (code Client.NotFound); detail: No row"
        );
        let f12 = parse(
            r#"<f><Code><Value>env:Sender</Value><Subcode><Value>m:InvalidItem</Value><Subcode><Value>m:Blocked</Value></Subcode></Subcode></Code><Reason><Text xml:lang="de">Gesperrt</Text><Text xml:lang="en">Item 1000 is blocked</Text></Reason></f>"#,
        );
        assert_eq!(
            fault(&f12),
            SoapError::Fault {
                code: "Sender/InvalidItem/Blocked".into(),
                reason: "Item 1000 is blocked".into(),
                detail: None
            }
        );
    }
}
