-- PUT /v2/keys/bench/<n> with a 16-byte value; each connection walks its own keys.
counter = 0
request = function()
  counter = counter + 1
  local path = string.format("/v2/keys/bench/%d-%d", math.random(1, 1000000), counter % 1000)
  return wrk.format("PUT", path, {["Content-Type"] = "application/x-www-form-urlencoded"},
                    "value=0123456789abcdef")
end
