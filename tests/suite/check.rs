//! `legacy-mcp check`: every broken mapping in fixtures/bad-mappings/ gives its exact
//! messages (file:line:col, the problem, the key path) and exit 1; the demo passes; the shipped
//! JSON Schema is the one the binary prints.

use crate::support;

use std::process::Command;

use support::*;

fn check(path: &str) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(["check", "--mappings", path])
        .current_dir(root())
        .env_remove("LEGACY_MCP_TEST_UNSET_EXPORT_DIR")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const CASES: &[(&str, &str)] = &[
    (
        "array_params.yaml",
        "fixtures/bad-mappings/array_params.yaml:17:16: array parameters are for soap tools; flatfile tools bind one value per parameter: make `item_no` a single value (at tools.items_by_number.parameters.item_no)\nfixtures/bad-mappings/array_params.yaml:18:13: array parameters are for soap tools; flatfile tools bind one value per parameter: make `tags` a single value (at tools.items_by_number.parameters.tags)\nfixtures/bad-mappings/array_params.yaml:18:21: type array needs `items:` (the type of each item, e.g. `items: string`) (at tools.items_by_number.parameters.tags.type)\nfixtures/bad-mappings/array_params.yaml:19:14: `items`, `min_items` and `max_items` apply to type array only (at tools.items_by_number.parameters.limit)\nfixtures/bad-mappings/array_params.yaml:20:13: `min_items` (5) and `max_items` (2) leave no allowed number of items (at tools.items_by_number.parameters.many)\nfixtures/bad-mappings/array_params.yaml:20:13: array parameters are for soap tools; flatfile tools bind one value per parameter: make `many` a single value (at tools.items_by_number.parameters.many)\nfixtures/bad-mappings/array_params.yaml:20:35: the items of an array cannot be arrays: give a single type (string, integer, ...) (at tools.items_by_number.parameters.many.items)\n7 problems in fixtures/bad-mappings/array_params.yaml\n",
    ),
    (
        "bad_duration.yaml",
        "fixtures/bad-mappings/bad_duration.yaml:5:17: `30` has no known duration unit; use ms, s, m, h or d (e.g. 30s) (at sources.exports.stable_for)\n1 problem in fixtures/bad-mappings/bad_duration.yaml\n",
    ),
    (
        "bad_pattern.yaml",
        "fixtures/bad-mappings/bad_pattern.yaml:18:41: invalid regular expression: error: unclosed character class (at tools.get_item.parameters.item_no.pattern)\n1 problem in fixtures/bad-mappings/bad_pattern.yaml\n",
    ),
    (
        "duplicate_tool",
        "fixtures/bad-mappings/duplicate_tool/b.yaml:3:5: duplicate tool `get_item`: already defined at fixtures/bad-mappings/duplicate_tool/a.yaml:16:5 (at tools.get_item)\n1 problem in fixtures/bad-mappings/duplicate_tool\n",
    ),
    (
        "enum_without_values.yaml",
        "fixtures/bad-mappings/enum_without_values.yaml:18:22: type enum needs `values:` (the allowed values) (at tools.items_by_state.parameters.state.type)\nfixtures/bad-mappings/enum_without_values.yaml:19:45: the default must be a number (got \"cheap\") (at tools.items_by_state.parameters.limit_price.default)\n2 problems in fixtures/bad-mappings/enum_without_values.yaml\n",
    ),
    (
        "soap.yaml",
        "fixtures/bad-mappings/soap.yaml:3:11: a soap source needs `endpoint:` (the service URL, e.g. https://nav01:7047/DynamicsNAV/WS/CRONUS/Page/Customer) (at sources.nav)\nfixtures/bad-mappings/soap.yaml:4:11: give exactly one of `basic`, `ws_security`, `bearer` or `ntlm` (at sources.nav.auth)\nfixtures/bad-mappings/soap.yaml:9:16: a soap tool needs `response: { path: ... }`: the elements inside Body that are the rows (at tools.read_customer)\nfixtures/bad-mappings/soap.yaml:13:16: operation `Update` changes data by its name: a tool that writes must say `allow_writes: true` (it is then annotated destructive and never cached or retried); if it only reads, annotate `read_only: true` (at tools.update_customer.allow_writes)\n4 problems in fixtures/bad-mappings/soap.yaml\n",
    ),
    (
        "missing_env.yaml",
        "fixtures/bad-mappings/missing_env.yaml:4:16: environment variable `LEGACY_MCP_TEST_UNSET_EXPORT_DIR` is not set (at sources.exports.directory)\n1 problem in fixtures/bad-mappings/missing_env.yaml\n",
    ),
    (
        "overlapping_fields.yaml",
        "fixtures/bad-mappings/overlapping_fields.yaml:11:24: field `description` (bytes 20..59) overlaps field `item_no` (bytes 1..20); check `start`, or, for two layouts of the same bytes (a COBOL REDEFINES), read each `when` the same type field has a different value (at sources.exports.tables.items.fields.description)\nfixtures/bad-mappings/overlapping_fields.yaml:12:26: `start` counts from 1 (the first byte of the record is 1) (at sources.exports.tables.items.fields.unit.start)\n2 problems in fixtures/bad-mappings/overlapping_fields.yaml\n",
    ),
    (
        "path_escape.yaml",
        "fixtures/bad-mappings/path_escape.yaml:7:15: `../../../etc/passwd` must be a file name inside the source directory (no absolute path, no `..`) (at sources.exports.tables.secrets.file)\n1 problem in fixtures/bad-mappings/path_escape.yaml\n",
    ),
    (
        "resource_mismatch.yaml",
        "fixtures/bad-mappings/resource_mismatch.yaml:25:10: URI variable `{item_number}` is not a parameter of tool `get_item` (at resources.item.uri)\nfixtures/bad-mappings/resource_mismatch.yaml:28:10: `items without scheme` is not a URI; write e.g. erp://customers/{customer_no} (at resources.broken.uri)\nfixtures/bad-mappings/resource_mismatch.yaml:35:15: placeholder `{item}` is not an argument of this prompt (at prompts.describe.messages[0].text)\nfixtures/bad-mappings/resource_mismatch.yaml:36:19: `erp://products/{item_no}` is not the URI of a resource in these mappings (at prompts.describe.messages[0].resource)\n4 problems in fixtures/bad-mappings/resource_mismatch.yaml\n",
    ),
    (
        "unknown_filter_param.yaml",
        "fixtures/bad-mappings/unknown_filter_param.yaml:22:16: `prefx` is not a parameter of this tool (parameters: prefix); write { value: prefx } for a literal (at tools.search_items.where.item_no.starts_with)\nfixtures/bad-mappings/unknown_filter_param.yaml:23:15: `colour` is not a field of table `items`; its fields are: item_no, price (at tools.search_items.where.colour)\nfixtures/bad-mappings/unknown_filter_param.yaml:24:16: `cost` is not a field of table `items`; its fields are: item_no, price (at tools.search_items.order_by)\n3 problems in fixtures/bad-mappings/unknown_filter_param.yaml\n",
    ),
    (
        "multi_record.yaml",
        "fixtures/bad-mappings/multi_record.yaml:8:9: the trailer's layout ends at byte 51 but records are 50 bytes (record_length) (at sources.batches.tables.invoices.trailer_record)\nfixtures/bad-mappings/multi_record.yaml:13:51: `IHX` is 3 bytes in cp037 but `length` is 2 (at sources.batches.tables.invoices.record_type.value)\nfixtures/bad-mappings/multi_record.yaml:14:32: `start` counts from 1 (at sources.batches.tables.invoices.header_record.start)\nfixtures/bad-mappings/multi_record.yaml:21:18: `records` (in `count`) is not one of the trailer's fields (record_count, label, total) (at sources.batches.tables.invoices.trailer_record.count)\nfixtures/bad-mappings/multi_record.yaml:22:25: `label` (in `sums`) must be an integer or decimal field (at sources.batches.tables.invoices.trailer_record.sums)\nfixtures/bad-mappings/multi_record.yaml:22:39: `totl` (in `sums`) is not one of the table's fields (total) (at sources.batches.tables.invoices.trailer_record.sums)\nfixtures/bad-mappings/multi_record.yaml:31:51: `€` cannot be written in cp037 (at sources.batches.tables.lines.record_type.value)\nfixtures/bad-mappings/multi_record.yaml:33:11: `INVOICES.DAT` already has its `trailer_record` declared on table `invoices`; declare it once: it applies to every table reading the file (at sources.batches.tables.lines.trailer_record)\nfixtures/bad-mappings/multi_record.yaml:34:18: `record_count` (in `count`) is not declared: add it under the trailer's `fields:` (at sources.batches.tables.lines.trailer_record.count)\nfixtures/bad-mappings/multi_record.yaml:40:22: `record_type` applies to format fixed_width only (at sources.batches.tables.loose.record_type)\nfixtures/bad-mappings/multi_record.yaml:41:30: `other_record_types` applies to format fixed_width only (at sources.batches.tables.loose.other_record_types)\n11 problems in fixtures/bad-mappings/multi_record.yaml\n",
    ),
    (
        "mssql_source.yaml",
        "fixtures/bad-mappings/mssql_source.yaml:6:11: an mssql source needs `host:` (the SQL Server's name or address; add `instance:` for a named instance) (at sources.nav)\nfixtures/bad-mappings/mssql_source.yaml:6:11: a SQL Server login needs `user:` and `password:` (write the password as ${env:NAME}); on Windows, `authentication: integrated` uses the service account instead (at sources.nav)\nfixtures/bad-mappings/mssql_source.yaml:7:24: `connection_string` does not apply to an mssql source (it is for odbc); remove it (at sources.nav.connection_string)\nfixtures/bad-mappings/mssql_source.yaml:8:15: environment variable `NAV_SQL_PASSWORD_FOR_CHECK_TEST` is not set (at sources.nav.password)\nfixtures/bad-mappings/mssql_source.yaml:9:21: give either `ca_certificate` (trust this certificate) or `trust_server_certificate: true` (trust any), not both (at sources.nav.ca_certificate)\nfixtures/bad-mappings/mssql_source.yaml:14:15: `instance` is empty; leave it out for the default instance (at sources.nav2.instance)\nfixtures/bad-mappings/mssql_source.yaml:15:21: `authentication: integrated` needs the Windows build (it logs in as the service account); on this platform use a SQL Server login (`user`, `password`) (at sources.nav2.authentication)\nfixtures/bad-mappings/mssql_source.yaml:16:11: `user` is not used with `authentication: integrated`; remove it (at sources.nav2.user)\nfixtures/bad-mappings/mssql_source.yaml:17:21: name a .pem, .crt (PEM text) or .der (binary) file; a Windows .cer export is one of the two: rename it accordingly (at sources.nav2.ca_certificate)\nfixtures/bad-mappings/mssql_source.yaml:22:21: no certificate file at fixtures/bad-mappings/certs/missing.pem; give the server's certificate (PEM or DER), relative to the mapping file (at sources.nav3.ca_certificate)\nfixtures/bad-mappings/mssql_source.yaml:23:23: `fetch_batch_size` does not apply to an mssql source (it is for odbc); remove it (at sources.nav3.fetch_batch_size)\n11 problems in fixtures/bad-mappings/mssql_source.yaml\n",
    ),
    (
        "source_keys.yaml",
        "fixtures/bad-mappings/source_keys.yaml:12:5: unknown field `stable_fr`, expected one of kind, description, directory, stable_for, tables; did you mean `stable_for`? (at sources.exports.stable_fr)\nfixtures/bad-mappings/source_keys.yaml:13:20: `query_timeout` does not apply to a flatfile source (it is for odbc and mssql); remove it (at sources.exports.query_timeout)\nfixtures/bad-mappings/source_keys.yaml:17:16: expected a whole number (0 or more) (at sources.erp.pool_size)\nfixtures/bad-mappings/source_keys.yaml:18:15: `endpoint` does not apply to an odbc source (it is for soap); remove it (at sources.erp.endpoint)\nfixtures/bad-mappings/source_keys.yaml:21:11: unknown source kind `nav2009`; use one of flatfile, odbc, mssql, soap (at sources.nav.kind)\nfixtures/bad-mappings/source_keys.yaml:30:23: `itemno` is not a parameter of this tool (parameters: item_no); write { value: itemno } for a literal (at tools.get_item.where.item_no.equals)\n6 problems in fixtures/bad-mappings/source_keys.yaml\n",
    ),
    (
        "tool_keys.yaml",
        "fixtures/bad-mappings/tool_keys.yaml:22:10: `sql` does not apply to a tool on source `exports` (kind flatfile); it is for tools on odbc and mssql sources (at tools.flat_with_sql.sql)\nfixtures/bad-mappings/tool_keys.yaml:23:19: `allow_writes` does not apply to a tool on source `exports` (kind flatfile); it is for tools on odbc, mssql and soap sources (at tools.flat_with_sql.allow_writes)\nfixtures/bad-mappings/tool_keys.yaml:27:10: list the result `columns:` with their types (`legacy-mcp introspect` writes them for a table) (at tools.sql_with_typo.columns)\nfixtures/bad-mappings/tool_keys.yaml:28:5: unknown field `colums`, expected one of description, title, parameters, source, limit, max_result_size, result, cache, invalidates, annotations, allow, sql, columns, key, allow_writes, confirm; did you mean `columns`? (at tools.sql_with_typo.colums)\nfixtures/bad-mappings/tool_keys.yaml:29:15: `order_by` does not apply to a tool on source `erp` (kind odbc); it is for tools on flatfile sources (at tools.sql_with_typo.order_by)\nfixtures/bad-mappings/tool_keys.yaml:35:10: expected sequence start (at tools.sql_with_bad_key.key)\nfixtures/bad-mappings/tool_keys.yaml:37:5: a tool needs `source:`, the name of the source it reads from (at tools.no_source)\nfixtures/bad-mappings/tool_keys.yaml:38:5: unknown field `sorce`, expected one of description, title, parameters, source, limit, max_result_size, result, cache, invalidates, annotations, allow, table, where, order_by, sql, columns, key, allow_writes, confirm, operation, response; did you mean `source`? (at tools.no_source.sorce)\n8 problems in fixtures/bad-mappings/tool_keys.yaml\n",
    ),
    (
        "sql_tool.yaml",
        "fixtures/bad-mappings/sql_tool.yaml:5:16: `pool_size` must be between 1 and 256 (at sources.erp.pool_size)\nfixtures/bad-mappings/sql_tool.yaml:10:10: `:customer_no` is not a parameter of this tool (parameters: company, unused); declare it under `parameters:` (at tools.by_company.sql)\nfixtures/bad-mappings/sql_tool.yaml:10:10: `{{company}}` must name a parameter of type enum: its `values` are the allow-list of identifiers (at tools.by_company.sql)\nfixtures/bad-mappings/sql_tool.yaml:10:10: parameter `unused` is not used by the SQL; use it as `:unused` or remove it (at tools.by_company.parameters.unused)\nfixtures/bad-mappings/sql_tool.yaml:10:10: remove the ORDER BY: with `key:` rows come ordered by the key columns, so paging can resume after the last key (at tools.by_company.sql)\nfixtures/bad-mappings/sql_tool.yaml:16:17: key `missing` is not one of the tool's `columns` (at tools.by_company.key)\nfixtures/bad-mappings/sql_tool.yaml:17:12: `table` does not apply to a tool on source `erp` (kind odbc); it is for tools on flatfile sources (at tools.by_company.table)\nfixtures/bad-mappings/sql_tool.yaml:21:10: list the result `columns:` with their types (`legacy-mcp introspect` writes them for a table) (at tools.no_columns.columns)\n8 problems in fixtures/bad-mappings/sql_tool.yaml\n",
    ),
    (
        "sql_writes.yaml",
        "fixtures/bad-mappings/sql_writes.yaml:9:10: the SQL is not a plain query: it starts with `UPDATE`, not `SELECT` or `WITH`: a tool that writes must say `allow_writes: true` (it is then annotated destructive and never cached or retried) (at tools.block_customer.allow_writes)\nfixtures/bad-mappings/sql_writes.yaml:17:10: the SQL is not a plain query: it contains `DELETE`: a tool that writes must say `allow_writes: true` (it is then annotated destructive and never cached or retried) (at tools.purge_and_list.allow_writes)\nfixtures/bad-mappings/sql_writes.yaml:25:10: the SQL is not a plain query: it holds more than one statement (a `;` inside): a tool that writes must say `allow_writes: true` (it is then annotated destructive and never cached or retried) (at tools.two_statements.allow_writes)\nfixtures/bad-mappings/sql_writes.yaml:31:10: the SQL is not a plain query: it starts with `EXEC`, not `SELECT` or `WITH`: a tool that writes must say `allow_writes: true` (it is then annotated destructive and never cached or retried); if it only reads, annotate `read_only: true` (at tools.procedure.allow_writes)\nfixtures/bad-mappings/sql_writes.yaml:44:10: parameter `count` is not used by the SQL; use it as `:count` or remove it (at tools.declared_write.parameters.count)\nfixtures/bad-mappings/sql_writes.yaml:49:14: `allow_control_chars` applies to type string only (at tools.declared_write.parameters.count)\n6 problems in fixtures/bad-mappings/sql_writes.yaml\n",
    ),
    (
        "masking.yaml",
        "fixtures/bad-mappings/masking.yaml:3:37: the key is 9 bytes; use at least 16 random bytes so pseudonyms cannot be guessed back (at masking.short_key.key)\nfixtures/bad-mappings/masking.yaml:4:23: strategy `hash` needs `key:`, e.g. key: \"${env:LEGACY_MCP_MASK_KEY}\" (at least 16 bytes) (at masking.no_key)\nfixtures/bad-mappings/masking.yaml:5:22: `keep_first` applies to strategy `partial` only; remove it (at masking.mixed.keep_first)\nfixtures/bad-mappings/masking.yaml:17:41: unknown masking policy `emial`; defined under `masking:`: short_key, no_key, mixed (at sources.exports.tables.customers.fields.email.mask)\nfixtures/bad-mappings/masking.yaml:28:16: unknown masking policy `redacted`; defined under `masking:`: short_key, no_key, mixed (at tools.get_customer.result.fields.email.mask)\n5 problems in fixtures/bad-mappings/masking.yaml\n",
    ),
    (
        "masked_oracles.yaml",
        "fixtures/bad-mappings/masked_oracles.yaml:27:13: field `email` (filtered with `starts_with`) is masked by policy `email_domain` for some callers of this tool: filtering or ordering by it would answer questions about the hidden value (a prefix spells it out, a bound bisects it, an order ranks it); use `equals`, or allow the tool only to roles in the policy's `unmasked_for` (at tools.by_email_prefix.where.email)\nfixtures/bad-mappings/masked_oracles.yaml:33:13: field `credit_limit` (filtered with `min`) is masked by policy `money` for some callers of this tool: filtering or ordering by it would answer questions about the hidden value (a prefix spells it out, a bound bisects it, an order ranks it); use `equals`, or allow the tool only to roles in the policy's `unmasked_for` (at tools.by_credit.where.credit_limit)\nfixtures/bad-mappings/masked_oracles.yaml:33:13: field `credit_limit` (in `order_by`) is masked by policy `money` for some callers of this tool: filtering or ordering by it would answer questions about the hidden value (a prefix spells it out, a bound bisects it, an order ranks it); use `equals`, or allow the tool only to roles in the policy's `unmasked_for` (at tools.by_credit.order_by)\nfixtures/bad-mappings/masked_oracles.yaml:52:13: key column `no` is masked by policy `customer_ref` for some callers of this tool: paging by it would answer questions about the hidden value (a prefix spells it out, a bound bisects it, an order ranks it); use `equals`, or allow the tool only to roles in the policy's `unmasked_for` (at tools.paged_by_ref.key)\n4 problems in fixtures/bad-mappings/masked_oracles.yaml\n",
    ),
    (
        "unknown_key.yaml",
        "fixtures/bad-mappings/unknown_key.yaml:16:5: a tool needs `description:`: what it returns and when to use it (agents read it to choose a tool) (at tools.get_item)\nfixtures/bad-mappings/unknown_key.yaml:16:5: unknown field `descripton`, expected one of description, title, parameters, source, limit, max_result_size, result, cache, invalidates, annotations, allow, table, where, order_by; did you mean `description`? (at tools.get_item.descripton)\n2 problems in fixtures/bad-mappings/unknown_key.yaml\n",
    ),
    (
        "unknown_source.yaml",
        "fixtures/bad-mappings/unknown_source.yaml:19:13: unknown source `erp_db`; defined sources: exports (at tools.get_item.source)\n1 problem in fixtures/bad-mappings/unknown_source.yaml\n",
    ),
    (
        "wrong_type.yaml",
        "fixtures/bad-mappings/wrong_type.yaml:19:12: expected a whole number (0 or more) (at tools.get_item.limit)\n1 problem in fixtures/bad-mappings/wrong_type.yaml\n",
    ),
    (
        "yaml_syntax.yaml",
        "fixtures/bad-mappings/yaml_syntax.yaml:17:5: invalid indentation in multiline quoted scalar (at tools.get_item.source)\n1 problem in fixtures/bad-mappings/yaml_syntax.yaml\n",
    ),
];

#[test]
fn every_bad_mapping_reports_its_exact_problems() {
    assert!(CASES.len() >= 10);
    for (name, expected) in CASES {
        let (code, stdout, stderr) = check(&format!("fixtures/bad-mappings/{name}"));
        assert_eq!(code, 1, "{name}");
        assert_eq!(stdout, "", "{name}");
        assert_eq!(&stderr, expected, "{name}");
    }
}

#[test]
fn every_bad_mapping_file_has_a_pinned_message() {
    let on_disk = std::fs::read_dir(root().join("fixtures/bad-mappings"))
        .unwrap()
        .count();
    assert_eq!(on_disk, CASES.len(), "add the new bad mapping to CASES");
}

#[test]
fn the_demo_mappings_pass() {
    let (code, stdout, stderr) = check("mappings/demo");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        "ok: 7 tools, 4 resources, 1 prompt, 1 source (mappings/demo)\n"
    );
}

#[test]
fn the_example_mappings_pass() {
    for (dir, summary) in [
        (
            "mappings/examples/odbc-generic",
            "ok: 4 tools, 1 resource, 0 prompts, 1 source (mappings/examples/odbc-generic)\n",
        ),
        (
            "mappings/examples/nav-sqlserver",
            "ok: 3 tools, 1 resource, 0 prompts, 1 source (mappings/examples/nav-sqlserver)\n",
        ),
        (
            "mappings/examples/as400-ebcdic",
            "ok: 4 tools, 0 resources, 0 prompts, 2 sources (mappings/examples/as400-ebcdic)\n",
        ),
        (
            "mappings/examples/jde-exports",
            "ok: 2 tools, 0 resources, 0 prompts, 1 source (mappings/examples/jde-exports)\n",
        ),
        (
            "mappings/examples/dos-cp850",
            "ok: 1 tool, 0 resources, 0 prompts, 1 source (mappings/examples/dos-cp850)\n",
        ),
    ] {
        let out = Command::new(bin())
            .args(["check", "--mappings", dir])
            .current_dir(root())
            .env("ERP_ODBC", "DSN=erp")
            .env("NAV_SQL_PASSWORD", "not-a-secret")
            .output()
            .unwrap();
        assert_eq!(support::succeeded(out), summary);
    }
}

#[test]
fn the_shipped_schema_is_current_and_referenced() {
    let out = Command::new(bin()).arg("schema").output().unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shipped: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("mapping.schema.json")).unwrap())
            .unwrap();
    assert_eq!(
        printed, shipped,
        "run `legacy-mcp schema > mapping.schema.json`"
    );
    assert_eq!(
        printed["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    for entry in std::fs::read_dir(root().join("mappings/demo")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(text.starts_with("# yaml-language-server: $schema=../../mapping.schema.json"));
    }
}

/// The JSON Schema an editor uses agrees with `check`, read by a real validator (Python's
/// `jsonschema`, from the peers' venv): every shipped mapping passes it, and the mistakes the
/// kinds' keys exist to catch fail it (another kind's key on a source, a misspelt tool key, a
/// source without `kind`).
#[test]
fn a_real_validator_accepts_every_shipped_mapping_and_refuses_another_kinds_key() {
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in std::fs::read_dir(root().join("mappings/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .chain([root().join("mappings/demo")])
    {
        for f in std::fs::read_dir(dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "yaml") {
                files.push(f);
            }
        }
    }
    let doc = |text: &str| -> serde_json::Value { serde_saphyr::from_str(text).unwrap() };
    let shipped: Vec<serde_json::Value> = files
        .iter()
        .map(|f| doc(&std::fs::read_to_string(f).unwrap()))
        .collect();
    assert!(shipped.len() >= 10, "{files:?}");
    let wrong = [
        "sources: { erp: { kind: odbc, connection_string: x, host: db1 } }",
        "sources: { erp: { connection_string: x } }",
        "tools: { t: { description: d, source: erp, sql: x, colums: {} } }",
        "tools: { t: { source: erp, sql: x } }",
    ];
    let wrong: Vec<serde_json::Value> = wrong.iter().map(|t| doc(t)).collect();
    let script = r#"
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
docs = json.load(sys.stdin)
v = Draft202012Validator(schema)
print(json.dumps([[e.message for e in v.iter_errors(d)] for d in docs]))
"#;
    let python = std::env::var("LEGACY_MCP_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .args(["-c", script])
        .arg(root().join("mapping.schema.json"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python}: {e}; run scripts/test (it makes the peers' venv)"));
    let all: Vec<&serde_json::Value> = shipped.iter().chain(&wrong).collect();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&all).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n(jsonschema comes with the peers' venv: run scripts/test)"
    );
    let errors: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    for (f, e) in files.iter().zip(&errors) {
        assert!(e.is_empty(), "{}: {e:?}", f.display());
    }
    for (t, e) in wrong.iter().zip(&errors[shipped.len()..]) {
        assert!(!e.is_empty(), "the schema accepts {t}");
    }
}
