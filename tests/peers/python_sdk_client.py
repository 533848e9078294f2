"""A third-party MCP client (the official Python SDK) against legacy-mcp.

    python3 tests/peers/python_sdk_client.py API stdio BINARY MAPPINGS [EXPORTS]
    python3 tests/peers/python_sdk_client.py API http URL [MAPPINGS EXPORTS]

API is `client` (the SDK's default high-level `mcp.Client`, which negotiates 2026-07-28 with
`server/discover` and speaks statelessly) or `session` (`ClientSession` with `initialize`,
2025-11-25). Lists tools, resources, templates and prompts; calls every demo tool (the SDK
validates each `structuredContent` against the tool's `outputSchema` and, for 2026, every
result against the 2026 schema); reads a resource; gets the prompt; checks an argument error.

With MAPPINGS and EXPORTS (a writable copy of the demo and of its export folder, which the
server serves), it also watches: a 2026 client opens `subscriptions/listen`, a 2025 session
subscribes with `resources/subscribe`; then the export behind `erp://items` is rewritten (a
`notifications/resources/updated` must arrive) and a mapping file is removed (a list change
must arrive). Prints one JSON summary line; exits non-zero on any failure.
"""
import asyncio
import json
import os
import pathlib
import sys
import time

import anyio
from mcp import Client, ClientSession, StdioServerParameters
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
WAIT = 20.0


async def walk(c) -> dict:
    """The same walk through either API (both expose these methods)."""
    tools = (await c.list_tools()).tools
    names = sorted(t.name for t in tools)
    assert names == sorted(CALLS), names
    results = {}
    for name, args in CALLS.items():
        r = await c.call_tool(name, args)
        assert not r.is_error, (name, r.content)
        assert r.structured_content is not None, name
        assert json.loads(r.content[0].text) == r.structured_content, name
        results[name] = r.structured_content.get("count", 1)
    bad = await c.call_tool("get_customer", {"customer_no": "nope"})
    assert bad.is_error and "must match the pattern" in bad.content[0].text, bad
    resources = (await c.list_resources()).resources
    templates = (await c.list_resource_templates()).resource_templates
    read = await c.read_resource("erp://customers/C10042")
    customer = json.loads(read.contents[0].text)
    assert customer["customer_no"] == "C10042", customer
    prompts = (await c.list_prompts()).prompts
    prompt = await c.get_prompt("account_summary", {"customer_no": "C10042"})
    return {
        "tools": len(tools),
        "resources": len(resources),
        "templates": len(templates),
        "prompts": len(prompts),
        "prompt_messages": len(prompt.messages),
        "rows": results,
    }


def touch_export(exports: str) -> None:
    """Rewrite the items export as the ERP's nightly job would (same rows, new file)."""
    path = pathlib.Path(exports) / "ITEMS.TXT"
    data = path.read_bytes()
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    later = time.time() + 2
    os.utime(tmp, (later, later))
    os.replace(tmp, path)


def drop_prompts(mappings: str) -> None:
    (pathlib.Path(mappings) / "prompts.yaml").unlink()


async def watch_2026(client: Client, mappings: str, exports: str) -> dict:
    seen = []
    async with client.listen(
        tools_list_changed=True,
        prompts_list_changed=True,
        resource_subscriptions=["erp://items"],
    ) as sub:
        honored = sub.honored
        assert honored.resource_subscriptions == ["erp://items"], honored
        touch_export(exports)
        with anyio.fail_after(WAIT):
            async for event in sub:
                seen.append(type(event).__name__)
                if "ResourceUpdated" in seen:
                    break
        drop_prompts(mappings)
        with anyio.fail_after(WAIT):
            async for event in sub:
                seen.append(type(event).__name__)
                if "PromptsListChanged" in seen:
                    break
    prompts = (await client.list_prompts()).prompts
    assert prompts == [], prompts
    return {"events": sorted(set(seen))}


async def watch_2025(session: ClientSession, inbox: asyncio.Queue, mappings: str, exports: str) -> dict:
    seen = []

    async def until(method: str) -> None:
        with anyio.fail_after(WAIT):
            while method not in seen:
                seen.append(await inbox.get())

    await session.subscribe_resource("erp://items")
    touch_export(exports)
    await until("notifications/resources/updated")
    drop_prompts(mappings)
    await until("notifications/prompts/list_changed")
    await session.unsubscribe_resource("erp://items")
    prompts = (await session.list_prompts()).prompts
    assert prompts == [], prompts
    return {"events": sorted(set(seen))}


def inbox_handler(inbox: asyncio.Queue):
    async def handler(message) -> None:
        root = getattr(message, "root", message)
        method = getattr(root, "method", None)
        if isinstance(method, str) and method.startswith("notifications/"):
            inbox.put_nowait(method)

    return handler


async def run_client(target, live) -> dict:
    async with Client(target) as client:
        summary = await walk(client)
        summary["protocol"] = client.protocol_version
        if live:
            summary.update(await watch_2026(client, *live))
    return summary


async def run_session(streams, live) -> dict:
    inbox: asyncio.Queue = asyncio.Queue()
    read, write = streams[0], streams[1]
    async with ClientSession(read, write, message_handler=inbox_handler(inbox)) as session:
        init = await session.initialize()
        summary = await walk(session)
        await session.send_ping()
        await session.set_logging_level("info")
        summary["protocol"] = init.protocol_version
        if live:
            summary.update(await watch_2025(session, inbox, *live))
    return summary


async def main() -> None:
    api, mode = sys.argv[1], sys.argv[2]
    if mode == "stdio":
        params = StdioServerParameters(command=sys.argv[3], args=["serve", "--mappings", sys.argv[4]])
        live = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else None
        if api == "client":
            summary = await run_client(params, live)
        else:
            async with stdio_client(params) as streams:
                summary = await run_session(streams, live)
    else:
        url = sys.argv[3]
        live = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else None
        if api == "client":
            summary = await run_client(url, live)
        else:
            async with streamable_http_client(url) as streams:
                summary = await run_session(streams, live)
    print(json.dumps(summary, sort_keys=True))


asyncio.run(main())
