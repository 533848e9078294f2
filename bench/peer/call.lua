-- wrk script: POST one MCP `tools/call` per request, the same for every server in the run.
-- TOOL and KIND (get | search) come from the environment; SESSION, when set, is sent as
-- Mcp-Session-Id (legacy-mcp's session; Toolbox answers without one). Every answer is checked:
-- a non-200 status or an `isError` result is counted, and the count is printed at the end.
local tool = os.getenv("TOOL")
local kind = os.getenv("KIND")
local session = os.getenv("SESSION")
local threads = {}
local id = 0
failures = 0

setup = function(thread)
  table.insert(threads, thread)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
if session and session ~= "" then
  wrk.headers["Mcp-Session-Id"] = session
  wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
end

request = function()
  id = id + 1
  local args
  if kind == "get" then
    args = string.format('{"item_no":"I%07d"}', math.random(0, 99999))
  else
    args = string.format('{"prefix":"Item number %d%%"}', math.random(1, 999))
  end
  local body = string.format(
    '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"%s","arguments":%s}}',
    id, tool, args)
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
  local out = string.format(
    '{"requests":%d,"seconds":%f,"p50_us":%d,"p99_us":%d,"errors":%d,"socket_errors":%d}',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    failed, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout)
  io.write("RESULT " .. out .. "\n")
end
