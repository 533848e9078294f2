//! A small, hostile-input-safe XML tree for SOAP answers (quick-xml underneath).
//!
//! What makes it safe: a `<!DOCTYPE` is refused outright (so no entity can be declared, which
//! rules out billion-laughs and external entities); only the five predefined entities and
//! character references are expanded; the nesting depth and the number of elements are capped;
//! a document that ends with elements still open (a truncated answer) is an error, never a
//! partial tree. Names keep their namespace URI, and lookups go by local name so that
//! whatever prefixes a server picks do not matter.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::backend::abandon;

/// Elements a document may hold when its reader sets no other bound.
pub const MAX_ELEMENTS: usize = 2_000_000;

/// How much of a document the reader accepts, and when it gives up.
pub struct Bounds<'a> {
    pub max_depth: usize,
    /// A guard against tiny-element floods: 2 million `<a/>` fit in 8 MB of text.
    pub max_elements: usize,
    /// Set when the call that waits for this document is abandoned: reading stops.
    pub stop: &'a AtomicBool,
}

/// An element or namespace name, shared by every element that bears it: a document of two
/// million `<row/>` holds one copy of `row`, not two million (each was a heap block of its
/// own, which made an 8 MB answer cost 350 MB).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Name(Arc<str>);

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::from(s))
    }
}

/// One shared copy of each distinct name in a document.
#[derive(Default)]
struct Names(HashSet<Arc<str>>);

impl Names {
    fn get(&mut self, s: &str) -> Name {
        if let Some(n) = self.0.get(s) {
            return Name(n.clone());
        }
        let n: Arc<str> = Arc::from(s);
        self.0.insert(n.clone());
        Name(n)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    /// The namespace URI, if the name is bound to one.
    pub ns: Option<Name>,
    /// The local name (no prefix).
    pub name: Name,
    /// (namespace URI, local name, value)
    pub attrs: Vec<(Option<String>, String, String)>,
    pub children: Vec<Element>,
    /// The element's own character data (text and CDATA, concatenated).
    pub text: String,
}

pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

impl Element {
    /// The value of an attribute by local name (any namespace).
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(_, n, _)| n == local)
            .map(|(_, _, v)| v.as_str())
    }

    /// `xsi:nil="true"`: the element stands for null.
    pub fn is_nil(&self) -> bool {
        self.attrs
            .iter()
            .any(|(ns, n, v)| ns.as_deref() == Some(XSI) && n == "nil" && (v == "true" || v == "1"))
    }

    /// The first child with this local name.
    pub fn child(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == local)
    }

    /// Every child with this local name, in document order.
    pub fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == local)
    }

    /// The element's text with surrounding white space removed.
    pub fn trimmed(&self) -> &str {
        self.text.trim()
    }
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum XmlError {
    /// Not well-formed (or truncated), with the byte offset where the parser stopped.
    Malformed {
        offset: u64,
        reason: String,
    },
    /// A DTD: refused, because entity declarations are how XML bombs work.
    Dtd,
    /// `&name;` for an entity that is not one of XML's five.
    UnknownEntity(String),
    TooDeep(usize),
    TooManyElements(usize),
    /// The call that waits for the document was abandoned (timed out or cancelled).
    Abandoned,
    Empty,
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XmlError::Malformed { offset, reason } => {
                write!(f, "not well-formed XML at byte {offset}: {reason}")
            }
            XmlError::Dtd => f.write_str(
                "the XML carries a document type declaration (<!DOCTYPE>), which is refused: DTDs and entity declarations are not accepted",
            ),
            XmlError::UnknownEntity(e) => write!(
                f,
                "the XML uses the undeclared entity `&{e};` (only &lt; &gt; &amp; &apos; &quot; and character references are accepted)"
            ),
            XmlError::TooDeep(d) => write!(f, "the XML nests elements deeper than {d} levels"),
            XmlError::TooManyElements(n) => {
                write!(f, "the XML holds more than {n} elements")
            }
            XmlError::Abandoned => {
                f.write_str("the call was abandoned (timed out or cancelled) while reading it")
            }
            XmlError::Empty => f.write_str("the body holds no XML element"),
        }
    }
}

/// Parse a whole document into its root element, with the default element cap.
pub fn parse(text: &str, max_depth: usize) -> Result<Element, XmlError> {
    let never = AtomicBool::new(false);
    parse_bounded(
        text,
        &Bounds {
            max_depth,
            max_elements: MAX_ELEMENTS,
            stop: &never,
        },
    )
}

/// Parse a whole document into its root element, within `bounds`.
pub fn parse_bounded(text: &str, bounds: &Bounds) -> Result<Element, XmlError> {
    let max_depth = bounds.max_depth;
    let mut names = Names::default();
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let offset = reader.buffer_position();
        let malformed = |reason: String| XmlError::Malformed { offset, reason };
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| malformed(e.to_string()))?;
        let ns = match ns {
            ResolveResult::Bound(n) => Some(names.get(n.0)),
            _ => None,
        };
        match event {
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(malformed("content after the root element".into()));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                count += 1;
                if count > bounds.max_elements {
                    return Err(XmlError::TooManyElements(bounds.max_elements));
                }
                if count.is_multiple_of(4096) && abandon::is_set(bounds.stop) {
                    return Err(XmlError::Abandoned);
                }
                if stack.len() >= max_depth {
                    return Err(XmlError::TooDeep(max_depth));
                }
                let mut el = Element {
                    ns,
                    name: names.get(e.local_name().as_ref()),
                    ..Element::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| malformed(e.to_string()))?;
                    let key = a.key;
                    if key.as_ref() == "xmlns" || key.as_ref().starts_with("xmlns:") {
                        continue;
                    }
                    let (ans, local) = reader.resolver().resolve_attribute(key);
                    let ans = match ans {
                        ResolveResult::Bound(n) => Some(n.0.to_string()),
                        _ => None,
                    };
                    let value = unescape(&a.value)?;
                    el.attrs.push((ans, local.as_ref().to_string(), value));
                }
                if matches!(event, Event::Empty(_)) {
                    close(el, &mut stack, &mut root);
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| malformed("an end tag without a start tag".into()))?;
                close(el, &mut stack, &mut root);
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content(), &malformed)?,
            Event::CData(t) => push_text(&mut stack, &t.xml10_content(), &malformed)?,
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => predefined(&r)
                        .ok_or_else(|| XmlError::UnknownEntity(r.to_string()))?
                        .to_string(),
                    Err(e) => return Err(malformed(e.to_string())),
                };
                push_text(&mut stack, &ch, &malformed)?;
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(malformed(format!(
                        "the document ends inside <{}> (truncated?)",
                        open.name
                    )));
                }
                return root.ok_or(XmlError::Empty);
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
}

fn close(mut el: Element, stack: &mut [Element], root: &mut Option<Element>) {
    // Growth by doubling leaves up to half of a long child list unused for the life of the
    // tree; give it back now that the list is complete.
    if el.children.capacity() > el.children.len() + 8 {
        el.children.shrink_to_fit();
    }
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(
    stack: &mut [Element],
    text: &str,
    malformed: &dyn Fn(String) -> XmlError,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(el) => {
            el.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(malformed("text outside the root element".into())),
    }
}

fn predefined(name: &str) -> Option<&'static str> {
    Some(match name {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        _ => return None,
    })
}

/// An attribute value with its references expanded (the five entities and character
/// references only).
fn unescape(raw: &str) -> Result<String, XmlError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or_else(|| XmlError::Malformed {
            offset: 0,
            reason: "an unterminated `&` in an attribute value".into(),
        })?;
        let name = &after[..end];
        if let Some(num) = name.strip_prefix('#') {
            let code = match num.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse().ok(),
            };
            let c = code
                .and_then(char::from_u32)
                .filter(|c| *c != '\0')
                .ok_or_else(|| XmlError::Malformed {
                    offset: 0,
                    reason: format!("`&{name};` is not a valid character reference"),
                })?;
            out.push(c);
        } else {
            out.push_str(predefined(name).ok_or_else(|| XmlError::UnknownEntity(name.into()))?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Escape text for element content or a double-quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all, even escaped, are dropped rather than
            // sent as a document the server must refuse.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_prefixes_and_text() {
        let doc = r#"<?xml version="1.0"?><s:Envelope xmlns:s="urn:s" xmlns:a="urn:a"><s:Body><a:Thing a:id="1&amp;2" plain="x">A &amp; B &#233;<![CDATA[<raw>]]></a:Thing><Other xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></s:Body></s:Envelope>"#;
        let root = parse(doc, 32).unwrap();
        assert_eq!(root.name, "Envelope");
        assert_eq!(root.ns.as_deref(), Some("urn:s"));
        let body = root.child("Body").unwrap();
        let thing = body.child("Thing").unwrap();
        assert_eq!(thing.ns.as_deref(), Some("urn:a"));
        assert_eq!(thing.text, "A & B é<raw>");
        assert_eq!(thing.attr("id"), Some("1&2"));
        assert_eq!(thing.attr("plain"), Some("x"));
        assert!(body.child("Other").unwrap().is_nil());
    }

    #[test]
    fn hostile_and_broken_documents_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><r>&lol2;</r>"#;
        assert_eq!(parse(bomb, 32), Err(XmlError::Dtd));
        let xxe = r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        assert_eq!(parse(xxe, 32), Err(XmlError::Dtd));
        assert_eq!(
            parse("<r>&x;</r>", 32),
            Err(XmlError::UnknownEntity("x".into()))
        );
        assert!(matches!(
            parse("<r><a><b>cut", 32),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(
            parse("<r><a></b></r>", 32),
            Err(XmlError::Malformed { .. })
        ));
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(parse(&deep, 64), Err(XmlError::TooDeep(64)));
        assert_eq!(parse("  ", 64), Err(XmlError::Empty));
        assert!(parse("<html><body>Login</body></html>", 64).is_ok());
    }

    #[test]
    fn escape_makes_markup_inert() {
        assert_eq!(
            escape("</x><evil a=\"1\">&amp;'"),
            "&lt;/x&gt;&lt;evil a=&quot;1&quot;&gt;&amp;amp;&apos;"
        );
        assert_eq!(escape("a\u{1}b"), "ab");
    }
}

/// Property tests: the reader never panics on any text; an element tree written out with
/// escaped text comes back as itself; a refusal names a byte inside the document.
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn write(e: &Element, out: &mut String) {
        out.push_str(&format!("<{}>", e.name));
        out.push_str(&escape(&e.text));
        for c in &e.children {
            write(c, out);
        }
        out.push_str(&format!("</{}>", e.name));
    }

    fn tree() -> impl Strategy<Value = Element> {
        let leaf = ("[a-z][a-z0-9]{0,6}", "\\PC{0,12}").prop_map(|(name, text)| Element {
            name: Name::from(name.as_str()),
            text,
            ..Element::default()
        });
        leaf.prop_recursive(4, 40, 5, |inner| {
            ("[a-z][a-z0-9]{0,6}", proptest::collection::vec(inner, 0..5)).prop_map(
                |(name, children)| Element {
                    name: Name::from(name.as_str()),
                    children,
                    ..Element::default()
                },
            )
        })
    }

    proptest! {
        #[test]
        fn no_text_makes_the_reader_panic(text in "\\PC{0,300}") {
            if let Err(XmlError::Malformed { offset, .. }) = parse(&text, 16) {
                prop_assert!(offset as usize <= text.len());
            }
        }

        #[test]
        fn no_markup_soup_makes_the_reader_panic(parts in proptest::collection::vec(
            prop_oneof![
                Just("<a>"), Just("</a>"), Just("<b x='1'>"), Just("</b>"), Just("<c/>"),
                Just("&amp;"), Just("&#x41;"), Just("&bogus;"), Just("<![CDATA[x]]>"),
                Just("<!DOCTYPE a>"), Just("<?xml version='1.0'?>"), Just("text"), Just("<"),
                Just("<n:a xmlns:n='urn:x'>"), Just("</n:a>"), Just("<!-- c -->"),
            ],
            0..30,
        )) {
            let text: String = parts.concat();
            let _ = parse(&text, 8);
        }

        #[test]
        fn written_trees_read_back_as_themselves(t in tree()) {
            let mut text = String::new();
            write(&t, &mut text);
            let back = parse(&text, 64).unwrap();
            // Text between child elements is concatenated; the written tree puts all of an
            // element's text before its children, so the trees are equal.
            prop_assert_eq!(back, t);
        }
    }
}
