//! Field masking (`masking:` policies, `mask:` on fields, `unmasked_for` roles): masked values
//! are absent from structured content, the text rendering, resources, prompts, error messages
//! and from what a differently-privileged caller gets out of the cache.

use crate::support;

use std::path::Path;

use legacy_mcp::auth::Principal;
use legacy_mcp::pipeline::{CallError, Pipeline, ToolOutput};
use rmcp::model::{CallToolRequestParams, GetPromptRequestParams, ReadResourceRequestParams};
use serde_json::{Value, json};
use support::{pipeline, root};

/// The raw values of customer C10000 in fixtures/demo-erp/CUSTOMERS.CSV.
const EMAIL: &str = "piotr.peña@example-0.test";
const PHONE: &str = "+49 609 7542858";
const CONTACT: &str = "Piotr Peña";
const STREET: &str = "Mühlenweg 15";
const CREDIT: &str = "5000.00";

/// The governance example with its hash key in a file (the example reads it from the
/// environment, which an in-process test cannot set safely), and without its `allow:` lists,
/// so callers without roles can be shown their masked view (tests/suite/auth.rs covers `allow:`).
fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("mappings/examples/governance/customers.yaml"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("allow:"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("${env:LEGACY_MCP_MASK_KEY}", "${file:mask.key}")
        .replace(
            "../../../fixtures/demo-erp",
            &root().join("fixtures/demo-erp").display().to_string(),
        );
    std::fs::write(dir.path().join("customers.yaml"), text).unwrap();
    std::fs::write(
        dir.path().join("mask.key"),
        "an example key, 32 bytes long..",
    )
    .unwrap();
    dir
}

async fn as_role(p: &Pipeline, roles: &[&str], tool: &str, args: Value) -> ToolOutput {
    let who = Principal::new("tester", roles.iter().map(|r| r.to_string()).collect());
    p.call_tool(&who, tool, support::args(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

fn customer() -> Value {
    json!({"customer_no": "C10000"})
}

fn assert_absent(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "`{s}` leaked into: {text}");
    }
}

#[tokio::test]
async fn each_role_sees_its_fields_and_nothing_else_in_structure_or_text() {
    let dir = example();
    let p = pipeline(dir.path());

    let nobody = as_role(&p, &[], "get_customer", customer()).await;
    assert_eq!(nobody.structured["contact"], "P***");
    assert_eq!(nobody.structured["email"], "***@example-0.test");
    assert_eq!(nobody.structured["phone"], "***2858");
    assert_eq!(nobody.structured["credit_limit"], "[redacted]");
    assert!(
        nobody.structured.get("street").is_none(),
        "drop leaves the field out"
    );
    assert_eq!(
        nobody.structured["name"], "Peña Möbel SARL",
        "unmasked fields stay"
    );
    assert_absent(&nobody.text, &[EMAIL, PHONE, CONTACT, STREET, CREDIT]);

    let support = as_role(&p, &["support"], "get_customer", customer()).await;
    assert_eq!(support.structured["email"], EMAIL);
    assert_eq!(support.structured["phone"], PHONE);
    assert_eq!(support.structured["street"], STREET);
    assert_eq!(support.structured["credit_limit"], "[redacted]");
    assert_absent(&support.text, &[CREDIT]);

    let finance = as_role(&p, &["finance"], "get_customer", customer()).await;
    assert_eq!(finance.structured["credit_limit"], CREDIT);
    assert_eq!(finance.structured["contact"], CONTACT);
    assert_eq!(finance.structured["email"], "***@example-0.test");
    assert_absent(&finance.text, &[EMAIL, PHONE, STREET]);

    let both = as_role(&p, &["support", "finance"], "get_customer", customer()).await;
    assert_eq!(both.structured["credit_limit"], CREDIT);
    assert_eq!(both.structured["email"], EMAIL);
}

/// The cache keeps answers per masking profile: a privileged caller's answer, cached first, is
/// never what a less privileged caller gets, and the reverse does not hide data either.
#[tokio::test]
async fn a_cached_answer_never_crosses_profiles() {
    let dir = example();
    let p = pipeline(dir.path());
    for _ in 0..2 {
        let finance = as_role(&p, &["finance"], "get_customer", customer()).await;
        assert_eq!(finance.structured["credit_limit"], CREDIT);
        let support = as_role(&p, &["support"], "get_customer", customer()).await;
        assert_eq!(support.structured["credit_limit"], "[redacted]");
        assert_eq!(support.structured["email"], EMAIL);
        let nobody = as_role(&p, &[], "get_customer", customer()).await;
        assert_absent(&nobody.text, &[EMAIL, PHONE, CONTACT, STREET, CREDIT]);
        // Roles that lift no policy share the unprivileged profile.
        let other = as_role(&p, &["warehouse"], "get_customer", customer()).await;
        assert_eq!(other.text, nobody.text);
    }
}

#[tokio::test]
async fn hash_gives_stable_keyed_pseudonyms() {
    let dir = example();
    let p = pipeline(dir.path());
    let first = as_role(&p, &[], "customer_activity", json!({"country": "DE"})).await;
    let again = as_role(
        &p,
        &["finance"],
        "customer_activity",
        json!({"country": "DE"}),
    )
    .await;
    let refs = |o: &ToolOutput| -> Vec<String> {
        o.structured["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ref"].as_str().unwrap().to_string())
            .collect()
    };
    let a = refs(&first);
    assert!(a.len() > 1);
    assert_eq!(
        a,
        refs(&again),
        "no role lifts a hash: everyone sees the pseudonyms"
    );
    assert!(a.iter().all(|r| r.starts_with("h:") && r.len() == 18));
    assert!(!first.text.contains("C10000") && !first.text.contains("\"C1"));
    // Another key, other pseudonyms: they cannot be recomputed without the key.
    std::fs::write(
        dir.path().join("mask.key"),
        "another key of at least 16 bytes",
    )
    .unwrap();
    let rekeyed = pipeline(dir.path());
    let b = as_role(&rekeyed, &[], "customer_activity", json!({"country": "DE"})).await;
    assert_ne!(a, refs(&b));
}

/// A masked value that does not parse is not quoted in the error; an unmasked one is (so the
/// test would notice if errors stopped quoting values at all).
#[tokio::test]
async fn errors_do_not_quote_masked_values() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ACCOUNTS.CSV"),
        "No;Iban;Balance;Note\nA1;SECRET-IBAN-4711;12x5;open\nA2;DE00;10;WRONG-NOTE\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("key"), "0123456789abcdef").unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        r#"
masking:
  secret: { strategy: redact }
sources:
  files:
    kind: flatfile
    directory: .
    tables:
      accounts:
        file: ACCOUNTS.CSV
        format: csv
        delimiter: ";"
        header: true
        key: [acct]
        fields:
          acct: { column: No }
          iban: { column: Iban, type: integer, mask: secret }
          balance: { column: Balance, type: integer }
          note: { column: Note }
tools:
  account:
    description: One account.
    parameters: { acct: { type: string } }
    source: files
    table: accounts
    where: { acct: acct }
    result: { one: true }
  rich_accounts:
    description: The account with a given (masked) number; returns the number only.
    parameters: { iban: { type: integer } }
    source: files
    table: accounts
    where: { iban: iban }
    result:
      fields:
        acct: acct
  note_as_number:
    description: A note converted to a number, masked in this tool only.
    parameters: { acct: { type: string } }
    source: files
    table: accounts
    where: { acct: acct }
    result:
      one: true
      fields:
        n: { from: note, type: integer, mask: secret }
"#,
    )
    .unwrap();
    let p = pipeline(dir.path());
    let err = |tool: &'static str, no: &'static str| {
        let p = p.clone();
        async move {
            match support::call_output(&p, tool, json!({"acct": no})).await {
                Err(CallError::Caller(m)) => m,
                other => panic!("{tool}: expected a tool error, got {other:?}"),
            }
        }
    };
    let masked = err("account", "A1").await;
    assert!(masked.contains("field `iban`"), "{masked}");
    assert!(
        masked.contains("not quoted: the field is masked"),
        "{masked}"
    );
    assert_absent(&masked, &["SECRET-IBAN-4711"]);
    // Alone in its mapping (no other tool returns the field, masked), a tool that filters on
    // the masked field but never returns it: the value was quoted.
    let alone = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("ACCOUNTS.CSV"),
        alone.path().join("ACCOUNTS.CSV"),
    )
    .unwrap();
    let yaml = std::fs::read_to_string(dir.path().join("m.yaml")).unwrap();
    let head = yaml.split_once("tools:\n").unwrap().0;
    let start = yaml.find("  rich_accounts:").unwrap();
    let end = yaml.find("  note_as_number:").unwrap();
    let only = &yaml[start..end];
    std::fs::write(alone.path().join("m.yaml"), format!("{head}tools:\n{only}")).unwrap();
    let filtering =
        match support::call_output(&pipeline(alone.path()), "rich_accounts", json!({"iban": 1}))
            .await
        {
            Err(CallError::Caller(m)) => m,
            other => panic!("rich_accounts: expected a tool error, got {other:?}"),
        };
    assert!(filtering.contains("not quoted"), "{filtering}");
    assert_absent(&filtering, &["SECRET-IBAN-4711"]);
    let converted = err("note_as_number", "A2").await;
    assert!(converted.contains("not quoted"), "{converted}");
    assert_absent(&converted, &["WRONG-NOTE"]);
    // A field masked by a tool's result only (its table does not mask it): the tool's plan
    // withholds it, so the value that does not parse is not quoted either.
    let by_tool = tempfile::tempdir().unwrap();
    std::fs::write(
        by_tool.path().join("ACCOUNTS.CSV"),
        "No;Iban;Balance;Note\nA1;123;12x5;open\n",
    )
    .unwrap();
    let tool = r#"  masked_balance:
    description: One account's balance, masked.
    parameters: { acct: { type: string } }
    source: files
    table: accounts
    where: { acct: acct }
    result:
      one: true
      fields:
        bal: { from: balance, mask: secret }
"#;
    std::fs::write(
        by_tool.path().join("m.yaml"),
        format!("{head}tools:\n{tool}"),
    )
    .unwrap();
    let withheld = match support::call_output(
        &pipeline(by_tool.path()),
        "masked_balance",
        json!({"acct": "A1"}),
    )
    .await
    {
        Err(CallError::Caller(m)) => m,
        other => panic!("masked_balance: expected a tool error, got {other:?}"),
    };
    assert!(withheld.contains("not quoted"), "{withheld}");
    assert_absent(&withheld, &["12x5"]);
    // The unmasked field's bad value is quoted: errors still say what was found.
    std::fs::write(
        dir.path().join("ACCOUNTS.CSV"),
        "No;Iban;Balance;Note\nA1;123;12x5;open\n",
    )
    .unwrap();
    let plain = err("account", "A1").await;
    assert!(plain.contains("`12x5`"), "{plain}");
}

#[tokio::test]
async fn output_schema_says_what_a_masked_field_may_hold() {
    let dir = example();
    let p = pipeline(dir.path());
    let tool = p.catalog().tools.get("get_customer").unwrap();
    let props = &tool.output_schema["properties"];
    assert_eq!(props["email"]["type"], json!(["string", "null"]));
    assert!(
        props["credit_limit"]["description"]
            .as_str()
            .unwrap()
            .contains("masked by policy `money`")
    );
    assert!(props["credit_limit"].get("pattern").is_none());
    let required = tool.output_schema["required"].as_array().unwrap();
    assert!(
        !required.contains(&json!("street")),
        "a dropped field is optional"
    );
    assert!(required.contains(&json!("email")));
}

/// Over MCP, through the real binary: tool text, structured content, a resource and a prompt
/// embedding it are all masked for the stdio principal's roles.
#[tokio::test]
async fn masking_over_mcp_covers_tools_resources_and_prompts() {
    let mappings = root().join("mappings/examples/governance");
    let key = [("LEGACY_MCP_MASK_KEY", "an example key, 32 bytes long..")];
    let client = support::stdio_client_with_env(&mappings, &["--role", "finance"], &key).await;
    let call = CallToolRequestParams::new("get_customer").with_arguments(support::args(customer()));
    let result = serde_json::to_value(client.call_tool(call).await.unwrap()).unwrap();
    assert_eq!(result["structuredContent"]["credit_limit"], CREDIT);
    let read = ReadResourceRequestParams::new("erp://customers/C10000");
    let resource = serde_json::to_value(client.read_resource(read).await.unwrap()).unwrap();
    let prompt = GetPromptRequestParams::new("call_preparation")
        .with_arguments(support::args(json!({"customer_no": "C10000"})));
    let prompt = serde_json::to_value(client.get_prompt(prompt).await.unwrap()).unwrap();
    for text in [result.to_string(), resource.to_string(), prompt.to_string()] {
        assert_absent(&text, &[EMAIL, PHONE, STREET]);
        assert!(text.contains("***@example-0.test"), "{text}");
    }
    assert!(resource.to_string().contains(CREDIT));
    client.cancel().await.unwrap();
    check_example_with_key(&mappings, &key);
}

fn check_example_with_key(mappings: &Path, env: &[(&str, &str)]) {
    let out = std::process::Command::new(support::bin())
        .arg("check")
        .arg("--mappings")
        .arg(mappings)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = support::succeeded(out);
    assert!(
        text.starts_with("ok: 2 tools, 1 resource, 1 prompt, 1 source"),
        "{text}"
    );
}
