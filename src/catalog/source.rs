//! Sources: each compiled by its kind (`backend::compiler`); keys of another kind refused;
//! every `mask:` on a flat-file field names a policy.

use std::path::Path;
use std::sync::Arc;

use serde_saphyr::{Location, Spanned};

use super::names::check_name;
use crate::backend::Source;
use crate::mapping::load::FileProblems;
use crate::mapping::mask::Policies;
use crate::mapping::model::{MappingFile, SourceDef, SourceKind};
use crate::mapping::shape;

pub(super) fn compile_source(
    name: &str,
    def: &Spanned<SourceDef>,
    dir: &Path,
    p: &mut FileProblems<'_>,
) -> Arc<Source> {
    check_name(name, &def.referenced, &format!("sources.{name}"), p);
    check_source_keys(name, &def.value, p);
    crate::backend::compiler(def.value.kind.value)(name, &def.value, dir, p)
}

/// Source keys belong to kinds; a key of another kind is a mistake worth naming (an ODBC
/// `connection_string` on an mssql source would otherwise be silently ignored).
pub(super) fn check_source_keys(name: &str, d: &SourceDef, p: &mut FileProblems<'_>) {
    use SourceKind::*;
    let at = |l: Option<&Location>| *l.unwrap_or(&d.kind.referenced);
    #[rustfmt::skip]
    let keys: [(&str, bool, Option<Location>, &[SourceKind]); 35] = [
        ("directory", d.directory.is_some(), d.directory.as_ref().map(|x| x.referenced), &[Flatfile]),
        ("stable_for", d.stable_for.is_some(), None, &[Flatfile]),
        ("tables", !d.tables.is_empty(), None, &[Flatfile]),
        ("connection_string", d.connection_string.is_some(), d.connection_string.as_ref().map(|x| x.referenced), &[Odbc]),
        ("login_timeout", d.login_timeout.is_some(), None, &[Odbc]),
        ("fetch_batch_size", d.fetch_batch_size.is_some(), d.fetch_batch_size.as_ref().map(|x| x.referenced), &[Odbc]),
        ("text", d.text.is_some(), None, &[Odbc]),
        ("pool_size", d.pool_size.is_some(), d.pool_size.as_ref().map(|x| x.referenced), &[Odbc, Mssql]),
        ("pool_timeout", d.pool_timeout.is_some(), None, &[Odbc, Mssql]),
        ("query_timeout", d.query_timeout.is_some(), None, &[Odbc, Mssql]),
        ("max_rows", d.max_rows.is_some(), d.max_rows.as_ref().map(|x| x.referenced), &[Odbc, Mssql]),
        ("max_text_length", d.max_text_length.is_some(), None, &[Odbc, Mssql]),
        ("trim_char_padding", d.trim_char_padding.is_some(), None, &[Odbc, Mssql]),
        ("null_dates", !d.null_dates.is_empty(), d.null_dates.first().map(|x| x.referenced), &[Odbc, Mssql]),
        ("host", d.host.is_some(), d.host.as_ref().map(|x| x.referenced), &[Mssql]),
        ("port", d.port.is_some(), d.port.as_ref().map(|x| x.referenced), &[Mssql]),
        ("instance", d.instance.is_some(), d.instance.as_ref().map(|x| x.referenced), &[Mssql]),
        ("database", d.database.is_some(), d.database.as_ref().map(|x| x.referenced), &[Mssql]),
        ("authentication", d.authentication.is_some(), d.authentication.as_ref().map(|x| x.referenced), &[Mssql]),
        ("user", d.user.is_some(), d.user.as_ref().map(|x| x.referenced), &[Mssql]),
        ("password", d.password.is_some(), d.password.as_ref().map(|x| x.referenced), &[Mssql]),
        ("encryption", d.encryption.is_some(), None, &[Mssql]),
        ("trust_server_certificate", d.trust_server_certificate.is_some(), None, &[Mssql, Soap]),
        ("ca_certificate", d.ca_certificate.is_some(), d.ca_certificate.as_ref().map(|x| x.referenced), &[Mssql, Soap]),
        ("application_intent", d.application_intent.is_some(), None, &[Mssql]),
        ("connect_timeout", d.connect_timeout.is_some(), None, &[Mssql, Soap]),
        ("endpoint", d.endpoint.is_some(), d.endpoint.as_ref().map(|x| x.referenced), &[Soap]),
        ("soap_version", d.soap_version.is_some(), None, &[Soap]),
        ("namespace", d.namespace.is_some(), None, &[Soap]),
        ("request_timeout", d.request_timeout.is_some(), None, &[Soap]),
        ("proxy", d.proxy.is_some(), d.proxy.as_ref().map(|x| x.referenced), &[Soap]),
        ("auth", d.auth.is_some(), d.auth.as_ref().map(|x| x.referenced), &[Soap]),
        ("soap_headers", !d.soap_headers.is_empty(), d.soap_headers.first().map(|x| x.referenced), &[Soap]),
        ("max_response_size", d.max_response_size.is_some(), None, &[Soap]),
        ("max_xml_depth", d.max_xml_depth.is_some(), d.max_xml_depth.as_ref().map(|x| x.referenced), &[Soap]),
    ];
    let kind = d.kind.value;
    for (key, given, loc, kinds) in keys {
        if !given || kinds.contains(&kind) {
            continue;
        }
        let owners: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        p.at(
            &at(loc.as_ref()),
            format!("sources.{name}.{key}"),
            format!(
                "`{key}` does not apply to {} {} source (it is for {}); remove it",
                if matches!(kind, Odbc | Mssql) {
                    "an"
                } else {
                    "a"
                },
                kind.name(),
                owners.join(" and ")
            ),
        );
    }
}

/// Every `mask:` on a flat-file table field must name a policy. (A field no tool returns is
/// still checked: the mistake would surface the day a tool starts returning it.)
pub(super) fn check_table_masks(m: &MappingFile, policies: &Policies, p: &mut FileProblems<'_>) {
    for (source, def) in &m.sources {
        for (table, t) in &def.value.tables {
            for (field, f) in &t.value.fields {
                if let Some(mask) = &f.value.mask {
                    let path = format!("sources.{source}.tables.{table}.fields.{field}.mask");
                    shape::policy(policies, &mask.value, &mask.referenced, &path, p);
                }
            }
        }
    }
}
