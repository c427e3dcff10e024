-- wrk-foldin.lua — POST /v1/recommend {"history": [H random items], "k": K}:
-- a user the server does not know, folded in from H items (distinct, drawn
-- uniformly; the same 1,000 bodies in turn, fixed by the seed).
-- usage: wrk ... -s scripts/wrk-foldin.lua URL -- N_ITEMS [PREFIX] [K] [FIRST] [H]
-- Items are PREFIX .. i for i in [FIRST, FIRST + N_ITEMS): ncf-ml-1m-half is
-- "" from 0, `ncf synth` data is "i" from 1.
local bodies, next_body = {}, 1
function init(args)
  local n = tonumber(args[1] or "3706")
  local prefix = args[2] or ""
  local k = tonumber(args[3] or "10")
  local first = tonumber(args[4] or "0")
  local h = tonumber(args[5] or "50")
  math.randomseed(12345)
  for b = 1, 1000 do
    local seen, ids = {}, {}
    while #ids < h do
      local i = first + math.random(0, n - 1)
      if not seen[i] then
        seen[i] = true
        ids[#ids + 1] = '"' .. prefix .. i .. '"'
      end
    end
    bodies[b] = '{"history": [' .. table.concat(ids, ",") .. '], "k": ' .. k .. '}'
  end
  next_body = math.random(1, 1000)
end
function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/v1/recommend", {["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  io.write(string.format('{"bench": "serve_foldin", "requests": %d, "seconds": %.2f, "requests_per_second": %.1f, ' ..
    '"p50_ms": %.3f, "p99_ms": %.3f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
