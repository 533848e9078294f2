//! `legacy-mcp import-wsdl`: a WSDL 1.1 document to a mapping skeleton. One tool per
//! operation of the chosen service's SOAP port: parameters from the input message's schema
//! (simple types, sequences, optional elements, enumerations), the request body that binds
//! them, and a response path and columns from the output message (records, arrays of records,
//! attributes, repeated values). Document/literal and rpc styles. What cannot be expressed is
//! written as a YAML comment rather than guessed.
//!
//! Why one file of about 1,000 lines (tests apart): one importer. Messages, bindings, XSD types
//! and the mapping text they become are resolved together (a part names a type, a type its
//! elements, an element the column it becomes); split apart, each step would need the others'
//! lookups.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::config::name_says_write;
// A YAML double-quoted scalar, as introspect writes them.
use super::xml::{self, Element};
use crate::backend::sql::introspect::q;

const WSDL_SOAP11: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
const WSDL_SOAP12: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";

/// Read a WSDL from a file or an http(s) URL.
pub async fn fetch(location: &str) -> Result<String, String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let resp = client
            .get(location)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {location}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!(
                "fetching {location} answered HTTP {}",
                resp.status()
            ));
        }
        return resp.text().await.map_err(|e| e.to_string());
    }
    std::fs::read_to_string(location).map_err(|e| format!("cannot read {location}: {e}"))
}

/// A WSDL with what it imports pulled in: `wsdl:import` (definitions split over files, as WCF
/// writes them) merged into the root, `xsd:import`/`xsd:include` schemas added to its types.
/// Locations are resolved against the importing document (a path beside it, or a URL);
/// each document is read once, at most 64 of them.
pub async fn load(location: &str) -> Result<Element, String> {
    let text = fetch(location).await?;
    let mut root = parse_wsdl(&text, location)?;
    let mut seen = HashSet::from([location.to_string()]);
    let mut pending: Vec<(String, bool)> = references(&root, location);
    while let Some((at, is_wsdl)) = pending.pop() {
        if !seen.insert(at.clone()) {
            continue;
        }
        if seen.len() > 64 {
            return Err("the WSDL imports more than 64 documents".into());
        }
        let text = fetch(&at)
            .await
            .map_err(|e| format!("{e} (imported by the WSDL)"))?;
        let doc = xml::parse(&text, 256).map_err(|e| format!("{at} cannot be read: {e}"))?;
        pending.extend(references(&doc, &at));
        if is_wsdl {
            if doc.name != "definitions" {
                return Err(format!(
                    "{at} is imported as a WSDL but its root is <{}>",
                    doc.name
                ));
            }
            root.children.extend(doc.children);
        } else {
            if doc.name != "schema" {
                return Err(format!(
                    "{at} is imported as a schema but its root is <{}>",
                    doc.name
                ));
            }
            add_schema(&mut root, doc);
        }
    }
    Ok(root)
}

fn parse_wsdl(text: &str, origin: &str) -> Result<Element, String> {
    let root = xml::parse(text, 256).map_err(|e| format!("the WSDL cannot be read: {e}"))?;
    if root.name != "definitions" {
        return Err(format!(
            "{origin} is not a WSDL 1.1 document (root element <{}>, expected <definitions>)",
            root.name
        ));
    }
    Ok(root)
}

/// The documents a WSDL or schema imports: (resolved location, whether it is a WSDL).
fn references(doc: &Element, base: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut schema_refs = |schema: &Element| {
        for i in schema
            .children
            .iter()
            .filter(|c| c.name == "import" || c.name == "include")
        {
            if let Some(l) = i.attr("schemaLocation") {
                out.push((resolve(base, l), false));
            }
        }
    };
    if doc.name == "schema" {
        schema_refs(doc);
    }
    for types in doc.children_named("types") {
        types
            .children
            .iter()
            .filter(|s| s.name == "schema")
            .for_each(&mut schema_refs);
    }
    for i in doc.children_named("import") {
        if let Some(l) = i.attr("location") {
            out.push((resolve(base, l), true));
        }
    }
    out
}

/// `location` relative to the document at `base`.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    if base.starts_with("http://") || base.starts_with("https://") {
        return reqwest::Url::parse(base)
            .and_then(|b| b.join(location))
            .map_or_else(|_| location.to_string(), |u| u.to_string());
    }
    let dir = std::path::Path::new(base)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    dir.join(location).to_string_lossy().into_owned()
}

/// An imported schema joins the WSDL's `types` (made when the WSDL has none).
fn add_schema(root: &mut Element, schema: Element) {
    if !root.children.iter().any(|c| c.name == "types") {
        root.children.push(Element {
            ns: None,
            name: "types".into(),
            attrs: Vec::new(),
            children: Vec::new(),
            text: String::new(),
        });
    }
    if let Some(types) = root.children.iter_mut().find(|c| c.name == "types") {
        types.children.push(schema);
    }
}

/// What `import` made of a WSDL: the mapping text, and the operations it left out with why
/// (also written into the mapping as comments).
pub struct Imported {
    pub mapping: String,
    pub tools: usize,
    pub skipped: Vec<String>,
}

/// The mapping skeleton for one service of a WSDL. `prefix` goes before every tool name, so
/// that several services (two NAV pages, each with `Read` and `ReadMultiple`) can share one
/// mapping directory. A WSDL of which no operation can be imported is an error.
pub fn import(
    text: &str,
    service: Option<&str>,
    origin: &str,
    prefix: Option<&str>,
) -> Result<Imported, String> {
    import_loaded(&parse_wsdl(text, origin)?, service, origin, prefix)
}

/// `import` for a WSDL already read (with its imports, by `load`).
pub fn import_loaded(
    root: &Element,
    service: Option<&str>,
    origin: &str,
    prefix: Option<&str>,
) -> Result<Imported, String> {
    let w = Wsdl::index(root);
    let (svc, port, binding, version) = w.pick_port(service)?;
    let endpoint = port
        .children
        .iter()
        .find(|c| c.name == "address")
        .and_then(|a| a.attr("location"))
        .unwrap_or("https://erp.example/service");
    let tns = root.attr("targetNamespace").unwrap_or("");
    let source = snake(svc.attr("name").unwrap_or("erp"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# yaml-language-server: $schema=mapping.schema.json\n# Generated by `legacy-mcp import-wsdl` from {origin}.\n# Review descriptions (agents choose tools by them), parameter rules and result fields;\n# add `auth:` to the source and `cache:` to read tools as fits.\nversion: 1\n\nsources:\n  {source}:\n    kind: soap\n    endpoint: {}\n    soap_version: \"{version}\"\n    namespace: {}\n\ntools:",
        q(endpoint),
        q(tns)
    );
    let style = binding
        .children
        .iter()
        .find(|c| c.name == "binding")
        .and_then(|b| b.attr("style"))
        .unwrap_or("document");
    let mut names = HashSet::new();
    let (mut tools, mut skipped) = (0usize, Vec::new());
    for bop in binding.children_named("operation") {
        let name = bop.attr("name").unwrap_or_default();
        let action = bop
            .children
            .iter()
            .find(|c| {
                c.name == "operation"
                    && c.ns
                        .as_deref()
                        .is_some_and(|n| n == WSDL_SOAP11 || n == WSDL_SOAP12)
            })
            .and_then(|o| o.attr("soapAction"))
            .unwrap_or("");
        let op_style = bop
            .children
            .iter()
            .find(|c| c.name == "operation")
            .and_then(|o| o.attr("style"))
            .unwrap_or(style);
        let mut tool = match prefix {
            Some(p) => format!("{}_{}", snake(p), snake(name)),
            None => snake(name),
        };
        while !names.insert(tool.clone()) {
            tool.push('_');
        }
        match w.tool(&tool, name, action, op_style, &source, binding, bop) {
            Ok(t) => {
                out.push_str(&t);
                tools += 1;
            }
            Err(why) => {
                let _ = writeln!(out, "\n  # {tool}: not imported: {why}");
                skipped.push(format!("{name}: {why}"));
            }
        }
    }
    if tools == 0 {
        return Err(format!(
            "no operation of service `{}` could be imported{}",
            svc.attr("name").unwrap_or("?"),
            if skipped.is_empty() {
                " (its binding has none)".to_string()
            } else {
                format!(": {}", skipped.join("; "))
            }
        ));
    }
    Ok(Imported {
        mapping: out,
        tools,
        skipped,
    })
}

struct Wsdl<'a> {
    root: &'a Element,
    elements: HashMap<&'a str, (&'a Element, &'a str, bool)>,
    types: HashMap<&'a str, &'a Element>,
    messages: HashMap<&'a str, &'a Element>,
}

/// A parameter or column found in a schema.
struct Leaf {
    /// Element names from the operation element (request) or the row element (response).
    path: Vec<String>,
    xs_type: String,
    enumeration: Vec<String>,
    optional: bool,
    /// The leaf or an element above it repeats.
    repeated: bool,
    /// An element above it repeats (a list of records, not of values).
    in_repeated: bool,
    attribute: bool,
    /// The leaf element itself repeats (a list of values).
    own_repeats: bool,
    /// Below a repeated complex element (a record, such as a sales order line): how many steps
    /// of `path` lead to that element. The outermost such element, when records nest.
    record_at: Option<usize>,
}

impl<'a> Wsdl<'a> {
    fn index(root: &'a Element) -> Wsdl<'a> {
        let mut w = Wsdl {
            root,
            elements: HashMap::new(),
            types: HashMap::new(),
            messages: HashMap::new(),
        };
        for types in root.children_named("types") {
            for schema in types.children.iter().filter(|s| s.name == "schema") {
                let tns = schema.attr("targetNamespace").unwrap_or("");
                let qualified = schema.attr("elementFormDefault") == Some("qualified");
                for c in &schema.children {
                    let Some(n) = c.attr("name") else { continue };
                    match c.name.as_str() {
                        "element" => {
                            w.elements.insert(n, (c, tns, qualified));
                        }
                        "complexType" | "simpleType" => {
                            w.types.insert(n, c);
                        }
                        _ => {}
                    }
                }
            }
        }
        for m in root.children_named("message") {
            if let Some(n) = m.attr("name") {
                w.messages.insert(n, m);
            }
        }
        w
    }

    /// The service, its SOAP port, the port's binding and the SOAP version (1.1 preferred).
    fn pick_port(
        &self,
        wanted: Option<&str>,
    ) -> Result<(&'a Element, &'a Element, &'a Element, &'static str), String> {
        let services: Vec<&Element> = self.root.children_named("service").collect();
        let names: Vec<&str> = services.iter().filter_map(|s| s.attr("name")).collect();
        let svc = match wanted {
            Some(w) => services
                .iter()
                .find(|s| s.attr("name") == Some(w))
                .ok_or_else(|| {
                    format!(
                        "no service `{w}` in the WSDL; its services: {}",
                        names.join(", ")
                    )
                })?,
            None => services.first().ok_or("the WSDL defines no service")?,
        };
        let mut best = None;
        for port in svc.children_named("port") {
            let Some(address) = port.children.iter().find(|c| c.name == "address") else {
                continue;
            };
            let version = match address.ns.as_deref() {
                Some(WSDL_SOAP11) => "1.1",
                Some(WSDL_SOAP12) => "1.2",
                _ => continue,
            };
            let bname = local(port.attr("binding").unwrap_or(""));
            let Some(binding) = self
                .root
                .children_named("binding")
                .find(|b| b.attr("name") == Some(bname))
            else {
                continue;
            };
            if best.is_none() || version == "1.1" {
                best = Some((*svc, port, binding, version));
            }
            if version == "1.1" {
                break;
            }
        }
        best.ok_or_else(|| {
            format!(
                "service `{}` has no SOAP port",
                svc.attr("name").unwrap_or("?")
            )
        })
    }

    /// One tool's YAML.
    #[allow(clippy::too_many_arguments)]
    fn tool(
        &self,
        tool: &str,
        name: &str,
        action: &str,
        style: &str,
        source: &str,
        binding: &Element,
        bop: &Element,
    ) -> Result<String, String> {
        let port_type_name = local(binding.attr("type").unwrap_or(""));
        let pop = self
            .root
            .children_named("portType")
            .find(|p| p.attr("name") == Some(port_type_name))
            .and_then(|p| {
                p.children_named("operation")
                    .find(|o| o.attr("name") == Some(name))
            })
            .ok_or("the operation is missing from the portType")?;
        let message = |dir: &str| -> Option<&'a Element> {
            let m = pop
                .children
                .iter()
                .find(|c| c.name == dir)?
                .attr("message")?;
            self.messages.get(local(m)).copied()
        };
        // SOAP encoding (section 5) types every value with xsi:type and allows references
        // between values: neither is built nor read here, so say it instead of sending
        // literal XML the service would misread.
        let encoded = ["input", "output"].iter().any(|dir| {
            bop.child(dir)
                .and_then(|d| d.child("body"))
                .and_then(|b| b.attr("use"))
                == Some("encoded")
        });
        if encoded {
            return Err(format!(
                "{style}/encoded (SOAP section 5 encoding) is not supported; ask for a literal binding of the service (document/literal or rpc/literal), which most toolkits also publish"
            ));
        }
        let input = message("input").ok_or("no input message")?;
        let output = message("output");
        let doc = pop
            .child("documentation")
            .map(|d| d.trimmed().to_string())
            .filter(|d| !d.is_empty());
        let rpc = style == "rpc";
        // The body element: document style names it in the part; rpc style is the operation.
        let (element, ns, qualified, inputs) = if rpc {
            let ns = bop
                .child("input")
                .and_then(|i| i.child("body"))
                .and_then(|b| b.attr("namespace"))
                .unwrap_or_else(|| self.root.attr("targetNamespace").unwrap_or(""));
            let mut leaves = Vec::new();
            for part in input.children_named("part") {
                let pname = part.attr("name").unwrap_or("part");
                self.type_leaves(
                    part.attr("type").unwrap_or("xs:string"),
                    vec![pname.to_string()],
                    false,
                    &mut leaves,
                    0,
                );
            }
            (name.to_string(), ns.to_string(), false, leaves)
        } else {
            let part = input.child("part").ok_or("the input message has no part")?;
            let el = local(
                part.attr("element")
                    .ok_or("the input part names no element (document style needs one)")?,
            );
            let (decl, tns, qualified) = self
                .elements
                .get(el)
                .copied()
                .ok_or_else(|| format!("element `{el}` is not in the WSDL's schema"))?;
            let mut leaves = Vec::new();
            self.element_children(decl, vec![], &mut leaves, 0);
            (el.to_string(), tns.to_string(), qualified, leaves)
        };
        let mut y = String::new();
        let description = doc
            .unwrap_or_else(|| format!("Calls {name} on the service. (Describe what it returns.)"));
        let _ = writeln!(y, "\n  {tool}:\n    description: {}", q(&description));
        let mut params = Vec::new();
        let mut skipped = Vec::new();
        for l in &inputs {
            // A repeated value becomes an array parameter. A repeated record (NAV's `filter`)
            // has no parameter form, since each item is several values: it is sent once.
            if l.in_repeated {
                let record = &l.path[..l.path.len() - 1];
                let record = record.join("/");
                if !skipped.contains(&record) {
                    skipped.push(record);
                }
            }
            params.push((snake(&l.path.join("_")), l));
        }
        if !params.is_empty() {
            y.push_str("    parameters:\n");
            for (pname, l) in &params {
                let _ = writeln!(y, "      {pname}: {}", param_type(l));
            }
        }
        let _ = writeln!(y, "    source: {source}");
        if name_says_write(&element) {
            y.push_str("    allow_writes: true  # the operation's name says it changes data\n");
        }
        let _ = writeln!(
            y,
            "    operation:\n      element: {}\n      namespace: {}\n      action: {}",
            q(&element),
            q(&ns),
            q(action)
        );
        if !qualified {
            y.push_str("      qualified: false\n");
        }
        for s in &skipped {
            let last = s.rsplit('/').next().unwrap_or(s);
            let _ = writeln!(
                y,
                "      # {s}: a repeated record, sent once here; for more, add e.g. `{last}_2: {{ element: {last}, children: ... }}`"
            );
        }
        if !params.is_empty() {
            y.push_str("      body:\n");
            write_body(&mut y, &params, 0, 8);
        }
        let (path, columns, one) = self.response(output, rpc, name)?;
        if columns.is_empty() {
            let _ = writeln!(
                y,
                "    response:\n      path: {}\n      returns_nothing: true  # the answer is an empty element: the tool answers {{\"ok\": true}}\n    result: {{ one: true }}",
                q(&path)
            );
            return Ok(y);
        }
        let _ = writeln!(y, "    response:\n      path: {}", q(&path));
        y.push_str("    columns:\n");
        // Leaves below a repeated complex element become one column of records (`fields:`),
        // each line read from its own element: separate repeated columns would shift against
        // each other when a line leaves an element out.
        let mut written: Vec<&[String]> = Vec::new();
        for c in &columns {
            let Some(at) = c.record_at else {
                let spec = column_spec(c, &c.path, c.repeated);
                let _ = writeln!(y, "      {}: {{ {spec} }}", snake(&c.path.join("_")));
                continue;
            };
            let record = &c.path[..at];
            if written.contains(&record) {
                continue;
            }
            written.push(record);
            // Named by the list that holds the records (`SalesLines`), else by the record.
            let name = match record {
                [.., list, _] => snake(list),
                _ => snake(&record.join("_")),
            };
            let _ = writeln!(
                y,
                "      {name}:\n        path: {}\n        fields:",
                q(&record.join("/"))
            );
            for f in columns
                .iter()
                .filter(|f| f.record_at == Some(at) && f.path.len() > at && f.path[..at] == *record)
            {
                let spec = column_spec(f, &f.path[at..], f.own_repeats);
                let _ = writeln!(
                    y,
                    "          {}: {{ {spec} }}",
                    snake(&f.path[at..].join("_"))
                );
            }
        }
        if one {
            y.push_str("    result: { one: true }\n");
        }
        Ok(y)
    }

    /// The response path and columns: descend through single wrappers to the record (or the
    /// repeated record of an array type).
    fn response(
        &self,
        output: Option<&Element>,
        rpc: bool,
        op: &str,
    ) -> Result<(String, Vec<Leaf>, bool), String> {
        let output = output.ok_or("no output message (one-way operations are not tools)")?;
        let (mut path, mut decl) = if rpc {
            let wrapper = format!("{op}Response");
            // An rpc answer without parts: the operation returns nothing.
            let Some(part) = output.child("part") else {
                return Ok((wrapper, Vec::new(), true));
            };
            let t = part.attr("type").unwrap_or("xs:string");
            let mut leaves = Vec::new();
            self.type_leaves(t, vec![], false, &mut leaves, 0);
            let pname = part.attr("name").unwrap_or("return").to_string();
            if leaves.iter().all(|l| l.path.is_empty()) {
                let leaf = Leaf {
                    path: vec![pname],
                    ..leaves
                        .into_iter()
                        .next()
                        .unwrap_or_else(|| simple_leaf("string"))
                };
                return Ok((wrapper, vec![leaf], true));
            }
            return Ok((format!("{wrapper}/{pname}"), leaves, true));
        } else {
            let part = output
                .child("part")
                .ok_or("the output message has no part")?;
            let el = local(
                part.attr("element")
                    .ok_or("the output part names no element")?,
            );
            let decl = self
                .elements
                .get(el)
                .map(|d| d.0)
                .ok_or_else(|| format!("element `{el}` is not in the WSDL's schema"))?;
            (vec![el.to_string()], decl)
        };
        let mut one = true;
        for _ in 0..8 {
            let kids = self.child_decls(decl);
            match kids.as_slice() {
                // A wrapper with a single complex child: go down.
                [(child, many)] if self.is_complex(child) => {
                    path.push(
                        child
                            .attr("name")
                            .or(child.attr("ref").map(local))
                            .unwrap_or("")
                            .to_string(),
                    );
                    decl = self.resolve_ref(child);
                    if *many {
                        one = false;
                        break;
                    }
                }
                _ => break,
            }
        }
        let mut leaves = Vec::new();
        self.element_children(decl, vec![], &mut leaves, 0);
        // An answer element declared empty (a NAV codeunit's `PostOrder_Result`): the
        // operation returns nothing, and the tool says it succeeded.
        if leaves.is_empty() && path.len() == 1 && self.child_decls(decl).is_empty() {
            return Ok((path.join("/"), leaves, true));
        }
        if leaves.is_empty() {
            return Err("the answer's record has no fields this importer can read".into());
        }
        Ok((path.join("/"), leaves, one))
    }

    fn resolve_ref(&self, e: &'a Element) -> &'a Element {
        match e.attr("ref") {
            Some(r) => self.elements.get(local(r)).map_or(e, |d| d.0),
            None => e,
        }
    }

    /// The complexType of an element declaration, inline or named.
    fn complex_of(&self, e: &'a Element) -> Option<&'a Element> {
        let e = self.resolve_ref(e);
        if let Some(ct) = e.child("complexType") {
            return Some(ct);
        }
        let t = self.types.get(local(e.attr("type")?))?;
        (t.name == "complexType").then_some(*t)
    }

    fn is_complex(&self, e: &'a Element) -> bool {
        self.complex_of(e).is_some()
    }

    /// Child element declarations of an element's complex type, with "repeats".
    fn child_decls(&self, e: &'a Element) -> Vec<(&'a Element, bool)> {
        let mut out = Vec::new();
        if let Some(ct) = self.complex_of(e) {
            self.particles(ct, &mut out, 0);
        }
        out
    }

    fn particles(&self, node: &'a Element, out: &mut Vec<(&'a Element, bool)>, depth: usize) {
        if depth > 16 {
            return;
        }
        for c in &node.children {
            match c.name.as_str() {
                "element" => out.push((c, many(c))),
                "sequence" | "all" | "choice" | "complexContent" => {
                    self.particles(c, out, depth + 1)
                }
                "extension" => {
                    if let Some(base) = c.attr("base").and_then(|b| self.types.get(local(b))) {
                        self.particles(base, out, depth + 1);
                    }
                    self.particles(c, out, depth + 1);
                }
                _ => {}
            }
        }
    }

    /// The simple leaves (and attributes) below an element, one level of nesting deep for
    /// complex children (deeper structures are left for the integrator).
    fn element_children(
        &self,
        e: &'a Element,
        prefix: Vec<String>,
        out: &mut Vec<Leaf>,
        depth: usize,
    ) {
        if let Some(ct) = self.complex_of(e) {
            for a in attributes(ct) {
                let mut path = prefix.clone();
                path.push(a.attr("name").unwrap_or("attr").to_string());
                out.push(Leaf {
                    path,
                    attribute: true,
                    optional: a.attr("use") != Some("required"),
                    ..self.simple(a)
                });
            }
        }
        for (child, repeats) in self.child_decls(e) {
            let child = self.resolve_ref(child);
            let name = child.attr("name").unwrap_or("").to_string();
            let mut path = prefix.clone();
            path.push(name);
            if self.is_complex(child) {
                if depth < 2 {
                    let before = out.len();
                    let steps = path.len();
                    self.element_children(child, path, out, depth + 1);
                    for l in &mut out[before..] {
                        l.repeated |= repeats;
                        l.in_repeated |= repeats;
                        l.optional |= optional(child);
                        if repeats {
                            l.record_at = Some(steps);
                        }
                    }
                }
                continue;
            }
            out.push(Leaf {
                path,
                repeated: repeats,
                own_repeats: repeats,
                optional: optional(child),
                ..self.simple(child)
            });
        }
    }

    /// An rpc part's type: a simple type is one leaf at `path`; a complex type its children.
    fn type_leaves(
        &self,
        t: &str,
        path: Vec<String>,
        repeated: bool,
        out: &mut Vec<Leaf>,
        depth: usize,
    ) {
        match self.types.get(local(t)) {
            Some(ct) if ct.name == "complexType" && depth < 3 => {
                let mut decls = Vec::new();
                self.particles(ct, &mut decls, 0);
                for (c, many) in decls {
                    let mut p = path.clone();
                    p.push(c.attr("name").unwrap_or("").to_string());
                    match c.attr("type") {
                        Some(ct2)
                            if self
                                .types
                                .get(local(ct2))
                                .is_some_and(|x| x.name == "complexType") =>
                        {
                            self.type_leaves(ct2, p, many || repeated, out, depth + 1)
                        }
                        _ => out.push(Leaf {
                            path: p,
                            repeated: many || repeated,
                            in_repeated: repeated,
                            optional: optional(c),
                            ..self.simple(c)
                        }),
                    }
                }
            }
            _ => out.push(Leaf {
                path,
                repeated,
                in_repeated: repeated,
                ..self.simple_type(t)
            }),
        }
    }

    /// A simple element or attribute: its XML Schema type and enumeration.
    fn simple(&self, e: &Element) -> Leaf {
        if let Some(st) = e.child("simpleType") {
            return restriction(st);
        }
        self.simple_type(e.attr("type").unwrap_or("xs:string"))
    }

    fn simple_type(&self, t: &str) -> Leaf {
        match self.types.get(local(t)) {
            Some(st) if st.name == "simpleType" => restriction(st),
            _ => simple_leaf(local(t)),
        }
    }
}

fn restriction(st: &Element) -> Leaf {
    let r = st.child("restriction");
    Leaf {
        enumeration: r
            .map(|r| {
                r.children_named("enumeration")
                    .filter_map(|e| e.attr("value"))
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        ..simple_leaf(local(r.and_then(|r| r.attr("base")).unwrap_or("string")))
    }
}

fn simple_leaf(t: &str) -> Leaf {
    Leaf {
        path: vec![],
        xs_type: t.to_string(),
        enumeration: vec![],
        optional: false,
        repeated: false,
        in_repeated: false,
        attribute: false,
        own_repeats: false,
        record_at: None,
    }
}

fn attributes(ct: &Element) -> Vec<&Element> {
    let mut out: Vec<&Element> = ct.children_named("attribute").collect();
    for c in ct
        .children
        .iter()
        .filter(|c| c.name == "complexContent" || c.name == "simpleContent")
    {
        for ext in &c.children {
            out.extend(ext.children_named("attribute"));
        }
    }
    out
}

fn many(e: &Element) -> bool {
    matches!(e.attr("maxOccurs"), Some(m) if m == "unbounded" || m.parse::<u32>().is_ok_and(|n| n > 1))
}

fn optional(e: &Element) -> bool {
    e.attr("minOccurs") == Some("0") || e.attr("nillable") == Some("true")
}

fn local(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

/// The YAML body: nested elements for nested paths, each leaf bound to its parameter.
fn write_body(y: &mut String, params: &[(String, &Leaf)], level: usize, indent: usize) {
    let mut seen: Vec<&str> = Vec::new();
    for (_, l) in params {
        let head = l.path[level].as_str();
        if seen.contains(&head) {
            continue;
        }
        seen.push(head);
        let group: Vec<(String, &Leaf)> = params
            .iter()
            .filter(|(_, x)| x.path.len() > level && x.path[level] == head)
            .map(|(n, x)| (n.clone(), *x))
            .collect();
        let pad = " ".repeat(indent);
        match group.as_slice() {
            [(pname, leaf)] if leaf.path.len() == level + 1 => {
                let _ = writeln!(y, "{pad}{}: {}", q(head), q(pname));
            }
            _ => {
                let _ = writeln!(y, "{pad}{}:\n{pad}  children:", q(head));
                let deeper: Vec<(String, &Leaf)> = group
                    .into_iter()
                    .filter(|(_, x)| x.path.len() > level + 1)
                    .collect();
                write_body(y, &deeper, level + 1, indent + 4);
            }
        }
    }
}

fn param_type(l: &Leaf) -> String {
    let mut s = if !l.enumeration.is_empty() {
        format!(
            "type: enum, values: [{}]",
            l.enumeration
                .iter()
                .map(|v| q(v))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        let (t, note) = match l.xs_type.as_str() {
            "int" | "integer" | "long" | "short" | "byte" | "unsignedInt" | "unsignedLong"
            | "unsignedShort" | "unsignedByte" | "nonNegativeInteger" | "positiveInteger" => {
                ("integer", "")
            }
            "decimal" | "double" | "float" => ("number", ""),
            "boolean" => ("boolean", ""),
            "date" => ("date", ""),
            "dateTime" => ("datetime", ""),
            _ => ("string", ""),
        };
        format!("type: {t}{note}")
    };
    if l.repeated && !l.in_repeated {
        s = s.replacen("type: ", "type: array, items: ", 1);
    }
    if l.optional {
        s.push_str(", required: false");
    }
    format!("{{ {s} }}")
}

/// A result column's spec: its type, its path (`rel`, when the name does not say it) and
/// whether it repeats.
fn column_spec(c: &Leaf, rel: &[String], repeated: bool) -> String {
    let name = snake(&rel.join("_"));
    let mut spec = format!("type: {}", column_type(&c.xs_type));
    let p = rel.join("/");
    let p = if c.attribute { format!("@{p}") } else { p };
    if p != name {
        spec.push_str(&format!(", path: {}", q(&p)));
    }
    if repeated {
        spec.push_str(", repeated: true");
    }
    spec
}

fn column_type(xs: &str) -> &'static str {
    match xs {
        "int" | "integer" | "long" | "short" | "byte" | "unsignedInt" | "unsignedLong"
        | "unsignedShort" | "unsignedByte" | "nonNegativeInteger" | "positiveInteger" => "integer",
        "decimal" => "decimal",
        "double" | "float" => "number",
        "boolean" => "boolean",
        "date" => "date",
        "dateTime" => "datetime",
        "time" => "time",
        "base64Binary" => "binary",
        _ => "string",
    }
}

/// `GetCustomer` -> `get_customer`, `ReadMultiple_Result` -> `read_multiple_result`.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let boundary = c.is_uppercase()
                && i > 0
                && (chars[i - 1].is_lowercase()
                    || chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                        && chars[i - 1].is_uppercase());
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("op_{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_names() {
        assert_eq!(snake("GetCustomer"), "get_customer");
        assert_eq!(snake("ReadMultiple"), "read_multiple");
        assert_eq!(snake("Customer_Filter"), "customer_filter");
        assert_eq!(snake("getHTTPStatus"), "get_http_status");
        assert_eq!(snake("No"), "no");
    }
}

#[cfg(test)]
mod import_tests {
    use super::resolve;

    /// Imported locations resolve against the document that names them, file or URL.
    #[test]
    fn locations_resolve_against_the_importing_document() {
        assert_eq!(resolve("wsdl/a.wsdl", "b.xsd"), "wsdl/b.xsd");
        assert_eq!(
            resolve("http://erp:8080/Svc.svc?wsdl", "Svc.svc?xsd=xsd0"),
            "http://erp:8080/Svc.svc?xsd=xsd0"
        );
        assert_eq!(
            resolve("http://erp/a/b.wsdl", "../x.xsd"),
            "http://erp/x.xsd"
        );
        assert_eq!(
            resolve("a.wsdl", "http://other/x.xsd"),
            "http://other/x.xsd"
        );
    }
}
