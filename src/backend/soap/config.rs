//! From the mapping's `kind: soap` source and a SOAP tool's `operation:`/`response:`/`columns:`
//! to `SoapSettings` and `Operation`, every problem positioned. No connection is opened here.

use crate::backend::kind::{Backend, SourceKind, SourceSpec};
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_saphyr::{Location, Spanned};

use super::SoapSource;
use super::keys::{SoapAuthDef, SoapKeys, SoapToolKeys};
use super::types::{Auth, Content, FieldPath, Node, Operation, RowPath, SoapSettings};
use crate::backend::connect::ConnectKeys;
use crate::backend::soap::operation_keys::BodyNode;
use crate::backend::sql::Column;
use crate::backend::sql::config::duration;
use crate::mapping::interpolate::interpolate;
use crate::mapping::load::FileProblems;
use crate::mapping::model::{ColumnDef, FieldType, SourceDef, ToolDef};
use crate::mapping::params::Param;

/// Largest answer read when a source sets no `max_response_size`.
pub const DEFAULT_MAX_RESPONSE: u64 = 10_000_000;
pub const DEFAULT_MAX_DEPTH: u32 = 64;

/// `kind: soap`.
pub struct Soap;

impl SourceKind for Soap {
    const NAME: &'static str = "soap";
    type Keys = (SoapKeys, ConnectKeys);
    type ToolKeys = (super::keys::SoapToolKeys, crate::backend::kind::WriteKeys);
    fn compile(s: &SourceSpec<'_>, keys: Self::Keys, p: &mut FileProblems<'_>) -> Arc<dyn Backend> {
        Arc::new(compile(s.name, s.def, keys, s.dir, p))
    }
}

pub fn compile(
    name: &str,
    def: &SourceDef,
    (keys, connect): (SoapKeys, ConnectKeys),
    dir: &Path,
    p: &mut FileProblems<'_>,
) -> SoapSource {
    let here = format!("sources.{name}");
    let mut text = |v: &Spanned<String>, key: &str| -> String {
        interpolate(&v.value, dir).unwrap_or_else(|e| {
            p.at(&v.referenced, format!("{here}.{key}"), e);
            String::new()
        })
    };
    let endpoint = match &keys.endpoint {
        Some(e) => {
            let url = text(e, "endpoint");
            check_url(&url, &e.referenced, &format!("{here}.endpoint"), p);
            url
        }
        None => {
            p.at(
                &def.kind.referenced,
                &here,
                "a soap source needs `endpoint:` (the service URL, e.g. https://nav01:7047/DynamicsNAV/WS/CRONUS/Page/Customer)",
            );
            String::new()
        }
    };
    let proxy = keys.proxy.as_ref().map(|x| {
        let url = interpolate(&x.value, dir).unwrap_or_default();
        check_url(&url, &x.referenced, &format!("{here}.proxy"), p);
        url
    });
    let auth = match &keys.auth {
        Some(a) => auth(&a.value, &a.referenced, dir, &format!("{here}.auth"), p),
        None => Auth::None,
    };
    // A forward proxy may carry one connection's requests on several of its own; NTLM needs
    // one connection end to end, which only a CONNECT tunnel (https) gives.
    if let (Auth::Ntlm { .. }, Some(x)) = (&auth, &keys.proxy)
        && !endpoint.starts_with("https://")
    {
        p.at(
            &x.referenced,
            format!("{here}.proxy"),
            "NTLM through a proxy needs an https:// endpoint (a tunnel per connection); use https or remove `proxy`",
        );
    }
    let headers = keys
        .soap_headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let path = format!("{here}.soap_headers[{i}]");
            let hd = &h.value;
            check_xml_name(&hd.element.value, &hd.element.referenced, &path, p);
            let content = match (&hd.value, hd.children.is_empty()) {
                (Some(v), true) => Content::Value(interpolate(v, dir).unwrap_or_else(|e| {
                    p.at(&h.referenced, format!("{path}.value"), e);
                    String::new()
                })),
                (None, _) => Content::Children(nodes(&hd.children, &[], dir, &path, true, p)),
                (Some(_), false) => {
                    p.at(
                        &h.referenced,
                        &path,
                        "give either `value` or `children`, not both",
                    );
                    Content::Children(vec![])
                }
            };
            Node {
                name: hd.element.value.clone(),
                ns: hd.namespace.clone(),
                content,
                nil: false,
            }
        })
        .collect();
    let max_depth = match &keys.max_xml_depth {
        Some(d) if d.value < 4 || d.value > 1024 => {
            p.at(
                &d.referenced,
                format!("{here}.max_xml_depth"),
                "`max_xml_depth` must be between 4 and 1024",
            );
            DEFAULT_MAX_DEPTH
        }
        Some(d) => d.value,
        None => DEFAULT_MAX_DEPTH,
    };
    SoapSource::new(SoapSettings {
        name: name.to_string(),
        endpoint,
        version: keys.soap_version.unwrap_or_default(),
        namespace: keys.namespace.clone(),
        connect_timeout: duration(connect.connect_timeout, 10),
        request_timeout: duration(keys.request_timeout, 30),
        trust: crate::backend::connect::trust(&connect, dir, &here, p),
        proxy,
        auth,
        headers,
        max_response_bytes: keys.max_response_size.map_or(DEFAULT_MAX_RESPONSE, |s| s.0),
        max_depth: max_depth as usize,
    })
}

fn check_url(url: &str, at: &Location, path: &str, p: &mut FileProblems<'_>) {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ if url.is_empty() => {}
        _ => p.at(
            at,
            path,
            format!("`{url}` is not an http:// or https:// URL"),
        ),
    }
}

fn auth(a: &SoapAuthDef, at: &Location, dir: &Path, here: &str, p: &mut FileProblems<'_>) -> Auth {
    let given = [
        a.basic.is_some(),
        a.ws_security.is_some(),
        a.bearer.is_some(),
        a.ntlm.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        p.at(
            at,
            here,
            "give exactly one of `basic`, `ws_security`, `bearer` or `ntlm`",
        );
        return Auth::None;
    }
    let mut secret = |v: &Spanned<String>, key: &str| -> String {
        interpolate(&v.value, dir).unwrap_or_else(|e| {
            p.at(&v.referenced, format!("{here}.{key}"), e);
            String::new()
        })
    };
    if let Some(b) = &a.basic {
        return Auth::Basic {
            user: secret(&b.user, "basic.user"),
            password: secret(&b.password, "basic.password"),
        };
    }
    if let Some(w) = &a.ws_security {
        return Auth::WsSecurity {
            user: secret(&w.user, "ws_security.user"),
            password: secret(&w.password, "ws_security.password"),
            digest: w.password_type == crate::backend::soap::keys::PasswordType::Digest,
        };
    }
    if let Some(n) = &a.ntlm {
        let account = secret(&n.user, "ntlm.user");
        let (domain, user) = super::ntlm::split_account(&account);
        return Auth::Ntlm {
            domain,
            user,
            password: secret(&n.password, "ntlm.password"),
        };
    }
    let b = a.bearer.as_ref().expect("one was given");
    Auth::Bearer(secret(&b.token, "bearer.token"))
}

/// An XML element name (NCName): what the mapping writes goes into the envelope unescaped, so
/// it must be a name and nothing else.
fn check_xml_name(name: &str, at: &Location, path: &str, p: &mut FileProblems<'_>) {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        p.at(
            at,
            path,
            format!(
                "`{name}` is not an XML element name (letters, digits, `_`, `-`, `.`; no prefix)"
            ),
        );
    }
}

/// Body (or header) elements. `params` empty means fixed values only (headers).
fn nodes(
    defs: &IndexMap<String, Spanned<BodyNode>>,
    params: &[Param],
    dir: &Path,
    here: &str,
    header: bool,
    p: &mut FileProblems<'_>,
) -> Vec<Node> {
    defs.iter()
        .map(|(name, d)| {
            let path = format!("{here}.{name}");
            let n = &d.value;
            let name = n.element.as_ref().unwrap_or(name);
            check_xml_name(name, &d.referenced, &path, p);
            let content = if let Some(param) = &n.param {
                if header {
                    p.at(&d.referenced, &path, "SOAP headers take fixed values (`value:`), not parameters");
                } else if !params.iter().any(|x| &x.name == param) {
                    let known: Vec<&str> = params.iter().map(|x| x.name.as_str()).collect();
                    p.at(
                        &d.referenced,
                        &path,
                        format!(
                            "`{param}` is not a parameter of this tool (parameters: {}); write {{ value: {param} }} for a fixed text",
                            if known.is_empty() { "none".into() } else { known.join(", ") }
                        ),
                    );
                }
                Content::Param(param.clone())
            } else if let Some(v) = &n.value {
                Content::Value(interpolate(v, dir).unwrap_or_else(|e| {
                    p.at(&d.referenced, &path, e);
                    String::new()
                }))
            } else {
                Content::Children(nodes(&n.children, params, dir, &format!("{path}.children"), header, p))
            };
            Node {
                name: name.clone(),
                ns: n.namespace.clone(),
                content,
                nil: n.nil,
            }
        })
        .collect()
}

/// A SOAP tool's operation, response path and columns.
pub fn operation(
    d: &ToolDef,
    k: &SoapToolKeys,
    source: &SoapSettings,
    params: &[Param],
    dir: &Path,
    here: &str,
    p: &mut FileProblems<'_>,
) -> Option<Operation> {
    let Some(op) = &k.operation else {
        p.at(
            &d.source.referenced,
            here,
            format!(
                "a tool on soap source `{}` needs `operation:` (the body element and its children); `legacy-mcp import-wsdl` writes it",
                d.source.value
            ),
        );
        return None;
    };
    let Some(resp) = &k.response else {
        p.at(
            &op.referenced,
            here,
            "a soap tool needs `response: { path: ... }`: the elements inside Body that are the rows",
        );
        return None;
    };
    let o = &op.value;
    check_xml_name(
        &o.element.value,
        &o.element.referenced,
        &format!("{here}.operation.element"),
        p,
    );
    let body = nodes(
        &o.body,
        params,
        dir,
        &format!("{here}.operation.body"),
        false,
        p,
    );
    for x in params {
        if !uses(&body, &x.name) {
            p.at(
                &op.referenced,
                format!("{here}.parameters.{}", x.name),
                format!("parameter `{}` is not used by the operation's body; bind it to an element or remove it", x.name),
            );
        }
    }
    let steps = path_steps(&resp.value.path.value);
    if steps.is_empty() {
        p.at(
            &resp.value.path.referenced,
            format!("{here}.response.path"),
            "the path names the row elements inside Body, e.g. GetCustomerResponse/GetCustomerResult",
        );
    }
    let embedded = resp
        .value
        .embedded
        .as_ref()
        .map(|e| (e.format, path_steps(&e.path.value)));
    let mut columns = Vec::new();
    let mut fields = Vec::new();
    if resp.value.returns_nothing {
        if !k.columns.is_empty() {
            p.at(
                &resp.referenced,
                format!("{here}.columns"),
                "a tool whose response `returns_nothing` has no `columns:` (its result is `{\"ok\": true}`)",
            );
        }
        // The answer's only content is that the element came back without a fault.
        columns.push(Column {
            name: "ok".into(),
            kind: FieldType::Boolean,
            description: Some(
                "True: the service carried out the operation (it answers nothing else).".into(),
            ),
            withheld: false,
        });
        fields.push(FieldPath {
            steps: Vec::new(),
            attr: None,
            repeated: false,
            record: None,
            present: true,
        });
    } else if k.columns.is_empty() {
        p.at(
            &resp.referenced,
            format!("{here}.columns"),
            "list the result `columns:` with their types and paths (`legacy-mcp import-wsdl` writes them), or say `returns_nothing: true` in `response:` for an operation that answers with an empty element",
        );
        return None;
    }
    for (name, c) in &k.columns {
        let (column, field) = column(name, c, &format!("{here}.columns.{name}"), true, p);
        columns.push(column);
        fields.push(field);
    }
    Some(Operation {
        element: o.element.value.clone(),
        ns: o.namespace.clone().or_else(|| source.namespace.clone()),
        action: o.action.clone().unwrap_or_default(),
        qualified: o.qualified.unwrap_or(true),
        body,
        rows: RowPath { steps, embedded },
        columns: Arc::from(columns),
        fields,
    })
}

/// One result column: its type and where it is in a result element. With `fields:`
/// (`records` true only at the top level: one level of nesting), the path reaches repeated
/// child records and each becomes an object of those fields, read relative to its element.
fn column(
    name: &str,
    c: &Spanned<ColumnDef>,
    here: &str,
    records: bool,
    p: &mut FileProblems<'_>,
) -> (Column, FieldPath) {
    let raw = c.value.path.as_ref().map_or(name, |x| x.value.as_str());
    let mut steps = path_steps(raw);
    let attr = match steps.last().and_then(|s| s.strip_prefix('@')) {
        Some(a) => {
            let a = a.to_string();
            steps.pop();
            Some(a)
        }
        None => None,
    };
    if steps.iter().any(|s| s.starts_with('@')) {
        p.at(
            &c.referenced,
            format!("{here}.path"),
            "an `@attribute` can only be the last step of a path",
        );
    }
    let record = c.value.fields.as_ref().map(|nested| {
        if !records {
            p.at(
                &c.referenced,
                format!("{here}.fields"),
                "records nest one level: a field of a record cannot have `fields` of its own",
            );
        }
        if c.value.kind.is_some() || c.value.mask.is_some() || c.value.repeated || attr.is_some() {
            p.at(
                &c.referenced,
                here,
                "a column with `fields` is an array of records: it takes no `type`, `mask`, `repeated` or `@attribute` (give them to its fields; masks on record fields are not supported yet)",
            );
        }
        nested
            .iter()
            .map(|(n, f)| {
                if f.value.mask.is_some() {
                    p.at(
                        &f.referenced,
                        format!("{here}.fields.{n}.mask"),
                        "masks on the fields of a record are not supported yet: mask the whole column in the result, or leave the field out",
                    );
                }
                column(n, f, &format!("{here}.fields.{n}"), false, p)
            })
            .collect()
    });
    (
        Column {
            name: name.to_string(),
            kind: c.value.kind.as_ref().map_or(FieldType::String, |k| k.value),
            description: c.value.description.clone(),
            withheld: false,
        },
        FieldPath {
            steps,
            attr,
            repeated: c.value.repeated,
            record,
            present: false,
        },
    )
}

/// `a/b/./@c` -> [a, b, @c]; `.` steps (the element itself) drop out.
fn path_steps(path: &str) -> Vec<String> {
    path.split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != ".")
        .map(|s| s.rsplit(':').next().unwrap_or(s).to_string())
        .collect()
}

fn uses(nodes: &[Node], param: &str) -> bool {
    nodes.iter().any(|n| match &n.content {
        Content::Param(p) => p == param,
        Content::Children(c) => uses(c, param),
        Content::Value(_) => false,
    })
}

/// Operation names that say the tool writes (`CreateOrder`, `Update`, `Delete_Line`, NAV's
/// `Create`/`Update`/`Delete`, SAP's `..._CREATE`).
pub fn name_says_write(element: &str) -> bool {
    const VERBS: [&str; 16] = [
        "create", "update", "delete", "insert", "post", "modify", "remove", "set", "cancel",
        "release", "submit", "approve", "change", "save", "upsert", "add",
    ];
    let lower = element.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(['_', '-', '.']).collect();
    // CamelCase: the leading word; snake or SAP style: any word.
    let lead: String = element
        .chars()
        .enumerate()
        .take_while(|(i, c)| *i == 0 || !c.is_uppercase())
        .map(|(_, c)| c.to_ascii_lowercase())
        .collect();
    VERBS.contains(&lead.as_str()) || words.iter().any(|w| VERBS.contains(w))
}

#[cfg(test)]
pub fn test_settings() -> SoapSettings {
    SoapSettings {
        name: "erp".into(),
        endpoint: "http://127.0.0.1:1/".into(),
        version: Default::default(),
        namespace: None,
        connect_timeout: std::time::Duration::from_secs(1),
        request_timeout: std::time::Duration::from_secs(1),
        trust: crate::backend::mssql::Trust::System,
        proxy: None,
        auth: Auth::None,
        headers: vec![],
        max_response_bytes: 1 << 20,
        max_depth: 64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_names() {
        for w in [
            "CreateSalesOrder",
            "Update",
            "Delete_Line",
            "BAPI_SALESORDER_CREATEFROMDAT2",
            "create_customer",
            "PostInvoice",
        ] {
            assert!(name_says_write(w) || w.starts_with("BAPI"), "{w}");
        }
        for r in [
            "GetCustomer",
            "Read",
            "ReadMultiple",
            "FindItems",
            "Settings",
            "Address",
        ] {
            assert!(!name_says_write(r), "{r}");
        }
    }
}
