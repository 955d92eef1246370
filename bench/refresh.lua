-- Refresh rotation: one connection per wrk thread, each following its own chain of refresh
-- tokens; every response's new token is used by the next request (reusing a spent one would
-- revoke the family). Run with as many threads as connections.
local tokens = {}
for t in string.gmatch(os.getenv("BENCH_REFRESH_TOKENS"), "%S+") do table.insert(tokens, t) end
local counter = 1

function setup(thread)
  thread:set("token", tokens[counter])
  counter = counter + 1
end

function request()
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC_APP"),
  }, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local next_token = string.match(body, '"refresh_token":"([^"]+)"')
  if next_token then token = next_token end
end
