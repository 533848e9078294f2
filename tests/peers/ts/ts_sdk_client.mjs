// A third-party MCP client (the official TypeScript SDK: `@modelcontextprotocol/client`, its
// current generation, and `@modelcontextprotocol/sdk`, the 1.x package most servers and hosts
// still ship) against legacy-mcp.
//
//     node tests/peers/ts/ts_sdk_client.mjs ERA stdio BINARY MAPPINGS EXPORTS
//     node tests/peers/ts/ts_sdk_client.mjs ERA http URL MAPPINGS EXPORTS
//
// ERA is `2026` (the client pinned to 2026-07-28: `server/discover`, stateless requests, the
// per-request `_meta` envelope, `subscriptions/listen`), `2025` (the client's default:
// `initialize`, 2025-11-25, `resources/subscribe`) or `sdk1` (the 1.x package: `initialize`,
// 2025-11-25, `resources/subscribe`). Lists tools, resources, templates
// and prompts; calls every demo tool (the SDK validates each `structuredContent` against the
// tool's `outputSchema` and every result against its era's schema); reads a resource; gets the
// prompt; checks an argument error. Then it watches: the export behind `erp://items` is
// rewritten (a `notifications/resources/updated` must arrive) and a mapping file is removed (a
// prompt list change must arrive). Prints one JSON summary line; exits non-zero on any failure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/** The client class, its transports and how it names notifications, for one SDK generation. */
async function sdk(era) {
    if (era === 'sdk1') {
        const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
        const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
        const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
        const types = await import('@modelcontextprotocol/sdk/types.js');
        // 1.x registers notification handlers by schema, not by method name.
        const notification = {
            'notifications/resources/updated': types.ResourceUpdatedNotificationSchema,
            'notifications/prompts/list_changed': types.PromptListChangedNotificationSchema,
            'notifications/tools/list_changed': types.ToolListChangedNotificationSchema,
        };
        return { Client, StdioClientTransport, StreamableHTTPClientTransport, notification: (m) => notification[m] };
    }
    const { Client, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
    const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
    return { Client, StdioClientTransport, StreamableHTTPClientTransport, notification: (m) => m };
}

const CALLS = {
    get_customer: { customer_no: 'C10042' },
    find_customers: { name_prefix: 'Müller B', country: 'DE' },
    get_item: { item_no: 'TUE-01001' },
    search_items: { prefix: 'KSS', max_price: 15 },
    list_items: {},
    customer_invoices: { customer_no: 'C10100', from: '2026-04-01', to: '2026-10-31' },
    overdue_invoices: { as_of: '2025-11-01' },
};
const WAIT_MS = 20000;

/** Lists, calls, reads and gets what the demo serves; returns the counts. */
async function walk(client) {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), Object.keys(CALLS).sort());
    const rows = {};
    for (const [name, args] of Object.entries(CALLS)) {
        const r = await client.callTool({ name, arguments: args });
        assert.ok(!r.isError, `${name}: ${JSON.stringify(r.content)}`);
        assert.ok(r.structuredContent, name);
        assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent, name);
        rows[name] = r.structuredContent.count ?? 1;
    }
    const bad = await client.callTool({ name: 'get_customer', arguments: { customer_no: 'nope' } });
    assert.ok(bad.isError && bad.content[0].text.includes('must match the pattern'), JSON.stringify(bad));
    const { resources } = await client.listResources();
    const { resourceTemplates } = await client.listResourceTemplates();
    const read = await client.readResource({ uri: 'erp://customers/C10042' });
    assert.equal(JSON.parse(read.contents[0].text).customer_no, 'C10042');
    const { prompts } = await client.listPrompts();
    const prompt = await client.getPrompt({ name: 'account_summary', arguments: { customer_no: 'C10042' } });
    return {
        tools: tools.length,
        resources: resources.length,
        templates: resourceTemplates.length,
        prompts: prompts.length,
        prompt_messages: prompt.messages.length,
        rows,
    };
}

/** Rewrites the items export as the ERP's nightly job would (same rows, a new file). */
function touchExport(exports) {
    const file = path.join(exports, 'ITEMS.TXT');
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, fs.readFileSync(file));
    const later = new Date(Date.now() + 2000);
    fs.utimesSync(tmp, later, later);
    fs.renameSync(tmp, file);
}

/** The notifications the client's handlers saw, and a way to wait for one of them. */
function inbox(client, notification) {
    const seen = new Set();
    const waiters = [];
    const note = (method) => {
        seen.add(method);
        for (const w of waiters.splice(0)) w();
    };
    client.setNotificationHandler(notification('notifications/resources/updated'), () => note('notifications/resources/updated'));
    client.setNotificationHandler(notification('notifications/prompts/list_changed'), () => note('notifications/prompts/list_changed'));
    client.setNotificationHandler(notification('notifications/tools/list_changed'), () => note('notifications/tools/list_changed'));
    const until = async (method) => {
        const deadline = Date.now() + WAIT_MS;
        while (!seen.has(method)) {
            assert.ok(Date.now() < deadline, `no ${method} within ${WAIT_MS} ms; saw ${[...seen]}`);
            await new Promise((resolve) => {
                waiters.push(resolve);
                setTimeout(resolve, 250);
            });
        }
    };
    return { seen, until };
}

/** Watches the items export and the prompt list, by the era's own means. */
async function watch(client, era, events, mappings, exports) {
    let subscription;
    if (era === '2026') {
        subscription = await client.listen({
            toolsListChanged: true,
            promptsListChanged: true,
            resourceSubscriptions: ['erp://items'],
        });
        assert.deepEqual(subscription.honoredFilter.resourceSubscriptions, ['erp://items']);
    } else {
        await client.subscribeResource({ uri: 'erp://items' });
    }
    touchExport(exports);
    await events.until('notifications/resources/updated');
    fs.unlinkSync(path.join(mappings, 'prompts.yaml'));
    await events.until('notifications/prompts/list_changed');
    if (subscription) await subscription.close();
    else await client.unsubscribeResource({ uri: 'erp://items' });
    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts, []);
    return { events: [...events.seen].sort() };
}

async function main() {
    const [era, mode, target, mappings, exports] = process.argv.slice(2);
    const { Client, StdioClientTransport, StreamableHTTPClientTransport, notification } = await sdk(era);
    const options = era === '2026' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {};
    const client = new Client({ name: 'legacy-mcp-ts-peer', version: '1.0.0' }, options);
    const events = inbox(client, notification);
    const transport =
        mode === 'stdio'
            ? new StdioClientTransport({ command: target, args: ['serve', '--mappings', mappings], stderr: 'ignore' })
            : new StreamableHTTPClientTransport(new URL(target));
    // The version the server answered `initialize` with (1.x has no getter for it); the client
    // chains a handler set before connect().
    let initialized;
    transport.onmessage = (message) => {
        initialized ??= message?.result?.protocolVersion;
    };
    await client.connect(transport);
    const summary = await walk(client);
    summary.protocol = client.getNegotiatedProtocolVersion?.() ?? initialized;
    if (era !== '2026') {
        await client.ping();
        await client.setLoggingLevel('info');
    }
    Object.assign(summary, await watch(client, era, events, mappings, exports));
    await client.close();
    console.log(JSON.stringify(summary));
}

main().catch((err) => {
    console.error(err?.stack ?? err);
    process.exit(1);
});
