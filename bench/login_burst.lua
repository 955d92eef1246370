-- A sign-in burst like the security review's (issue 10, finding 1): every request a made-up
-- username from one of BURST_ADDRESSES client addresses (the first 20,000 are IPv6 /64s of one
-- /48, the rest IPv4; BURST_OFFSET skips that many), BURST_PER_ADDRESS requests each, `X-Forwarded-For` naming the address
-- (the server trusts 127.0.0.1 as its proxy). BURST_PASSWORD is the password sent (129 "x" for
-- the review's oversized ones). Each thread stops after its share; done() prints the statuses.
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  sent = 0
  seen = 0
  statuses = {}
  stride = tonumber(os.getenv("BURST_THREADS"))
  addresses = tonumber(os.getenv("BURST_ADDRESSES"))
  per_address = tonumber(os.getenv("BURST_PER_ADDRESS"))
  share = math.ceil(addresses * per_address / stride)
  basic = "Basic " .. os.getenv("BENCH_BASIC_APP")
  password = os.getenv("BURST_PASSWORD")
  offset = tonumber(os.getenv("BURST_OFFSET") or "0")
end

local function address(i)
  if i < 20000 then
    return string.format("2001:db8:1:%x::1", i)
  end
  local j = i - 20000
  return string.format("10.%d.%d.%d", math.floor(j / 62500) % 250, math.floor(j / 250) % 250, j % 250 + 1)
end

function request()
  -- Request k of the whole burst: addresses are taken in turn, so each one's requests spread
  -- over the run as a distributed attacker's would.
  local k = sent * stride + id
  sent = sent + 1
  local a = offset + k % addresses
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = basic,
    ["X-Forwarded-For"] = address(a),
  }, "grant_type=password&username=u" .. k .. "%40burst.test&password=" .. password)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  seen = seen + 1
  if seen == share then
    -- This thread's share is answered: say so (the script sends wrk SIGINT once every thread
    -- has, since wrk itself waits out its -d duration).
    local f = io.open(os.getenv("BURST_DONE_DIR") .. "/done." .. id, "w")
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d: %d\n", status, n))
  end
end
