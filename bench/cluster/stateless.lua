-- wrk script: stateless 2026-07-28 `tools/call`s of get_item (the demo's item lookup, cached),
-- the item drawn from the list in ITEMS_FILE (one number per line). Any replica can answer
-- each request, so a load balancer spreads them. Failures are counted and reported.
local items = {}
for line in io.lines(os.getenv("ITEMS_FILE")) do
  table.insert(items, line)
end
local threads = {}
local id = 0
failures = 0

setup = function(thread)
  table.insert(threads, thread)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "get_item"

request = function()
  id = id + 1
  local item = items[math.random(1, #items)]
  local body = string.format(
    '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_item","arguments":{"item_no":"%s"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}',
    id, item)
  return wrk.format(nil, nil, nil, body)
end

response = function(status, headers, body)
  if status ~= 200 or body:find('"isError":true', 1, true) or not body:find('"result"', 1, true) then
    failures = failures + 1
    if failures == 1 then
      io.stderr:write("first failure: " .. status .. " " .. body:sub(1, 300) .. "\n")
    end
  end
end

done = function(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do
    failed = failed + t:get("failures")
  end
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%f,"p50_us":%d,"p99_us":%d,"errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    failed, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
