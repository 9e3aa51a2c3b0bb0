-- wrk driver for scripts/bench (--driver wrk): the key workloads over 10k keys.
--   wrk ... -s keys.lua URL -- MODE      MODE: write | read | read-quorum | mixed
-- Writes PUT a 256-byte value; mixed sends one write in ten. done() prints one JSON line
-- (latencies in microseconds) that scripts/benchlib/wrk.py reads.
local keys, mode, n = 10000, "read", 0
local value = "value=" .. string.rep("v", 256)
local form = {["Content-Type"] = "application/x-www-form-urlencoded"}

function init(args)
  mode = args[1] or "read"
  n = math.random(0, keys - 1)
end

function request()
  n = n + 7919
  local path = "/v2/keys/bench/k" .. (n % keys)
  if mode == "write" or (mode == "mixed" and math.random() < 0.1) then
    return wrk.format("PUT", path, form, value)
  end
  if mode == "read-quorum" then
    path = path .. "?quorum=true"
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50": %f, "p99": %f, "p999": %f, "mean": %f}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.mean))
end
