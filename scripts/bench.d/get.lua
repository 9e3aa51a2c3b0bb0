-- GET one existing key, the read hot path.
request = function()
  return wrk.format("GET", "/v2/keys/bench/read")
end
