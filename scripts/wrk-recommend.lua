-- wrk-recommend.lua — GET /v1/recommend?user=<random known user>&k=10
-- usage: wrk ... -s scripts/wrk-recommend.lua URL -- N_USERS [PREFIX] [K] [FIRST]
-- Users are PREFIX .. i for i in [FIRST, FIRST + N_USERS): ncf-ml-1m-half is
-- "" from 0, `ncf synth` data is "u" from 1.
local n, prefix, k, first = 2999, "", 10, 0
function init(args)
  n = tonumber(args[1] or "2999")
  prefix = args[2] or ""
  k = tonumber(args[3] or "10")
  first = tonumber(args[4] or "0")
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local u = first + math.random(0, n - 1)
  return wrk.format("GET", "/v1/recommend?user=" .. prefix .. u .. "&k=" .. k)
end
function done(summary, latency, requests)
  io.write(string.format('{"bench": "serve", "requests": %d, "seconds": %.2f, "requests_per_second": %.1f, ' ..
    '"p50_ms": %.3f, "p99_ms": %.3f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
