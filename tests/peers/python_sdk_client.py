"""A third-party MCP client (the official Python SDK) against legacy-mcp.

    python3 tests/peers/python_sdk_client.py stdio BINARY MAPPINGS
    python3 tests/peers/python_sdk_client.py http URL

Lists tools, resources, templates and prompts; calls every demo tool (the SDK validates each
`structuredContent` against the tool's `outputSchema`); reads a resource; gets the prompt; checks
an argument error. Prints one JSON summary line; exits non-zero on any failure.
"""
import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

CALLS = {
    "get_customer": {"customer_no": "C10042"},
    "find_customers": {"name_prefix": "Müller B", "country": "DE"},
    "get_item": {"item_no": "TUE-01001"},
    "search_items": {"prefix": "KSS", "max_price": 15},
    "list_items": {},
    "customer_invoices": {"customer_no": "C10100", "from": "2026-04-01", "to": "2026-10-31"},
    "overdue_invoices": {"as_of": "2025-11-01"},
}


async def exercise(session: ClientSession) -> dict:
    init = await session.initialize()
    tools = (await session.list_tools()).tools
    names = sorted(t.name for t in tools)
    assert names == sorted(CALLS), names
    results = {}
    for name, args in CALLS.items():
        r = await session.call_tool(name, args)
        assert not r.is_error, (name, r.content)
        assert r.structured_content is not None, name
        assert json.loads(r.content[0].text) == r.structured_content, name
        results[name] = r.structured_content.get("count", 1)
    bad = await session.call_tool("get_customer", {"customer_no": "nope"})
    assert bad.is_error and "must match the pattern" in bad.content[0].text, bad
    resources = (await session.list_resources()).resources
    templates = (await session.list_resource_templates()).resource_templates
    read = await session.read_resource("erp://customers/C10042")
    customer = json.loads(read.contents[0].text)
    assert customer["customer_no"] == "C10042", customer
    prompts = (await session.list_prompts()).prompts
    prompt = await session.get_prompt("account_summary", {"customer_no": "C10042"})
    await session.send_ping()
    await session.set_logging_level("info")
    return {
        "protocol": init.protocol_version,
        "tools": len(tools),
        "resources": len(resources),
        "templates": len(templates),
        "prompts": len(prompts),
        "prompt_messages": len(prompt.messages),
        "rows": results,
    }


async def main() -> None:
    mode = sys.argv[1]
    if mode == "stdio":
        params = StdioServerParameters(command=sys.argv[2], args=["serve", "--mappings", sys.argv[3]])
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                summary = await exercise(session)
    else:
        async with streamable_http_client(sys.argv[2]) as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                summary = await exercise(session)
    print(json.dumps(summary, sort_keys=True))


asyncio.run(main())
