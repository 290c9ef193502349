-- wrk script of the webhook benchmarks: every request is a distinct, signed event.
-- Arguments (after --): <directory> <path> <bearer>. Thread i (1..n) sends the lines of
-- <directory>/<i>.req ("<signature> <body>"), each once, then reports "DONE i" and stops;
-- a connection with nothing left to send waits (delay) instead of repeating an event.
-- Thread 1's first request() call is wrk's start-up check of the script: not sent.
-- The done hook prints one "BENCH {json}" line: latency percentiles (ms) and answer counts.

local threads = {}
local n = 0

function setup(thread)
  n = n + 1
  thread:set("id", n)
  table.insert(threads, thread)
end

local queue, reserved, issued, started, verified = {}, 0, 0, false, false
answered, ok = 0, 0  -- globals: the done hook reads them with thread:get

function init(args)
  local id = wrk.thread:get("id")
  local dir, path, bearer = args[1], args[2], args[3]
  for line in io.lines(dir .. "/" .. id .. ".req") do
    local signature, body = line:match("^(%S+) (.*)$")
    queue[#queue + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. bearer,
      ["Signature"] = signature}, body)
  end
end

-- wrk calls delay() before each request() of a connection, but other connections may run
-- in between: delay() reserves the event, so no more requests start than there are events.
function delay()
  if reserved >= #queue then return 3600000 end
  reserved = reserved + 1
  return 0
end

function request()
  if not verified and wrk.thread:get("id") == 1 then
    verified = true  -- wrk's start-up check of the script calls request() once: not sent
    return queue[1]
  end
  if not started then
    started = true
    io.write("START ", wrk.thread:get("id"), "\n")
    io.flush()
  end
  issued = issued + 1
  return queue[math.min(issued, #queue)]
end

function response(status, headers, body)
  answered = answered + 1
  if status == 200 then ok = ok + 1 end
  if answered == #queue then
    io.write("DONE ", wrk.thread:get("id"), "\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local answered_all, ok_all = 0, 0
  for _, thread in ipairs(threads) do
    answered_all = answered_all + (thread:get("answered") or 0)
    ok_all = ok_all + (thread:get("ok") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"p50_ms":%.2f,"p90_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"answered":%d,"ok":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"status_errors":%d}\n',
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, answered_all, ok_all, e.connect, e.read, e.write, e.timeout, e.status))
end
