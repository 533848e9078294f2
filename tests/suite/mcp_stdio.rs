//! The real binary over stdio, driven by rmcp's client: lists with pagination, every demo tool
//! against golden JSON, resources, the prompt, argument errors, unknown tool.

use crate::support;

use rmcp::model::{
    CallToolRequestParams, GetPromptRequestParams, PaginatedRequestParams,
    ReadResourceRequestParams,
};
use serde_json::{Value, json};
use support::*;

fn call(name: &str, args: Value) -> CallToolRequestParams {
    serde_json::from_value(json!({"name": name, "arguments": args})).unwrap()
}

#[tokio::test]
async fn lists_are_paginated_with_cursors() {
    let client = stdio_client(&demo(), &["--page-size", "2"]).await;
    let mut names = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let params: Option<PaginatedRequestParams> =
            Some(serde_json::from_value(json!({"cursor": cursor})).unwrap());
        let page = client.list_tools(params).await.unwrap();
        pages += 1;
        assert!(page.tools.len() <= 2);
        names.extend(page.tools.iter().map(|t| t.name.to_string()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(
        names,
        [
            "get_customer",
            "find_customers",
            "customer_invoices",
            "overdue_invoices",
            "get_item",
            "search_items",
            "list_items"
        ]
    );
    let resources = client.list_all_resources().await.unwrap();
    assert_eq!(
        resources.iter().map(|r| r.uri.as_str()).collect::<Vec<_>>(),
        ["erp://items"]
    );
    let templates = client.list_all_resource_templates().await.unwrap();
    let uris: Vec<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(
        uris,
        [
            "erp://customers/{customer_no}",
            "erp://customers/{customer_no}/invoices",
            "erp://items/{item_no}"
        ]
    );
    let prompts = client.list_all_prompts().await.unwrap();
    assert_eq!(prompts[0].name, "account_summary");
    let bad: Option<PaginatedRequestParams> =
        Some(serde_json::from_value(json!({"cursor": "nonsense"})).unwrap());
    let err = client.list_tools(bad).await.unwrap_err().to_string();
    assert!(err.contains("invalid cursor"), "{err}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn tool_schemas_are_typed() {
    let client = stdio_client(&demo(), &[]).await;
    let tools = client.list_all_tools().await.unwrap();
    let listed: Vec<Value> = tools
        .iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .collect();
    golden("tools_list", &Value::Array(listed));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn every_demo_tool_answers_like_its_golden_file() {
    let client = stdio_client(&demo(), &[]).await;
    for (golden_name, tool, a) in demo_calls() {
        let result = client.call_tool(call(tool, a)).await.unwrap();
        assert_eq!(result.is_error, Some(false), "{tool}: {result:?}");
        let structured = result
            .structured_content
            .clone()
            .expect("structured content");
        let text = result.content[0]
            .as_text()
            .expect("text content")
            .text
            .clone();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            structured,
            "text rendering of {tool}"
        );
        golden(golden_name, &structured);
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn truncated_results_continue_with_the_cursor() {
    let client = stdio_client(&demo(), &[]).await;
    let first = client
        .call_tool(call("overdue_invoices", json!({"as_of": "2026-01-01"})))
        .await
        .unwrap();
    let first = first.structured_content.unwrap();
    assert_eq!(first["truncated"], true);
    assert_eq!(first["count"], 50);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = client
        .call_tool(call(
            "overdue_invoices",
            json!({"as_of": "2026-01-01", "cursor": cursor}),
        ))
        .await
        .unwrap();
    let second = second.structured_content.unwrap();
    let last_of_first = &first["rows"][49];
    let first_of_second = &second["rows"][0];
    assert!(last_of_first["due_date"].as_str() <= first_of_second["due_date"].as_str());
    assert_ne!(last_of_first, first_of_second);
    // The same cursor with other arguments is refused, not silently applied.
    let other = client
        .call_tool(call(
            "overdue_invoices",
            json!({"as_of": "2026-02-01", "cursor": cursor}),
        ))
        .await
        .unwrap();
    assert_eq!(other.is_error, Some(true));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn argument_errors_are_tool_errors_naming_the_rule() {
    let client = stdio_client(&demo(), &[]).await;
    let cases = [
        (
            "get_customer",
            json!({}),
            "missing required argument `customer_no` (Customer number, e.g. C10000)",
        ),
        (
            "get_customer",
            json!({"customer_no": "X1"}),
            "argument `customer_no` must match the pattern C[0-9]{5} (got \"X1\")",
        ),
        (
            "get_customer",
            json!({"customer_no": true}),
            "argument `customer_no` must be a string (got true)",
        ),
        (
            "search_items",
            json!({"prefix": "SCH", "max_price": -1}),
            "argument `max_price` must be at least 0 (got -1)",
        ),
        (
            "find_customers",
            json!({"name_prefix": ""}),
            "argument `name_prefix` is 0 characters long; at least 1 required",
        ),
        (
            "customer_invoices",
            json!({"customer_no": "C10000", "from": "01.02.2026"}),
            "argument `from` must be a date as YYYY-MM-DD (got \"01.02.2026\")",
        ),
        (
            "get_item",
            json!({"item_no": "SCH-01000", "colour": "red"}),
            "unknown argument `colour` (this tool takes: item_no)",
        ),
        (
            "get_customer",
            json!({"customer_no": "C99999"}),
            "not found: no record in `customers` matches customer_no = \"C99999\"",
        ),
    ];
    for (tool, a, message) in cases {
        let r = client.call_tool(call(tool, a.clone())).await.unwrap();
        assert_eq!(r.is_error, Some(true), "{tool} {a}");
        assert_eq!(r.content[0].as_text().unwrap().text, message, "{tool} {a}");
        assert!(r.structured_content.is_none());
    }
    let err = client
        .call_tool(call("no_such_tool", json!({})))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown tool `no_such_tool`"), "{err}");
    // The server keeps serving after all of that.
    let ok = client
        .call_tool(call("get_item", json!({"item_no": "SCH-01000"})))
        .await
        .unwrap();
    assert_eq!(ok.is_error, Some(false));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn resources_and_prompt() {
    let client = stdio_client(&demo(), &[]).await;
    let read = |uri: &str| {
        serde_json::from_value::<ReadResourceRequestParams>(json!({"uri": uri})).unwrap()
    };
    let customer = client
        .read_resource(read("erp://customers/C10042"))
        .await
        .unwrap();
    let v = serde_json::to_value(&customer).unwrap();
    assert_eq!(v["contents"][0]["uri"], "erp://customers/C10042");
    assert_eq!(v["contents"][0]["mimeType"], "application/json");
    let body: Value = serde_json::from_str(v["contents"][0]["text"].as_str().unwrap()).unwrap();
    golden("resource_customer", &body);
    let catalogue = client.read_resource(read("erp://items")).await.unwrap();
    let v = serde_json::to_value(&catalogue).unwrap();
    let body: Value = serde_json::from_str(v["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(body["count"], 2000);
    assert_eq!(body["truncated"], false);
    let missing = client
        .read_resource(read("erp://nowhere/1"))
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("no resource matches"), "{missing}");

    let prompt: GetPromptRequestParams = serde_json::from_value(
        json!({"name": "account_summary", "arguments": {"customer_no": "C10042"}}),
    )
    .unwrap();
    let got = client.get_prompt(prompt).await.unwrap();
    let v = serde_json::to_value(&got).unwrap();
    assert_eq!(v["messages"].as_array().unwrap().len(), 4);
    assert!(
        v["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("customer C10042")
    );
    assert_eq!(v["messages"][1]["content"]["type"], "resource");
    assert_eq!(
        v["messages"][1]["content"]["resource"]["uri"],
        "erp://customers/C10042"
    );
    let no_arg: GetPromptRequestParams =
        serde_json::from_value(json!({"name": "account_summary"})).unwrap();
    let err = client.get_prompt(no_arg).await.unwrap_err().to_string();
    assert!(err.contains("needs argument `customer_no`"), "{err}");
    client.cancel().await.unwrap();
}
