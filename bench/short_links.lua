-- wrk script of the short-link benchmark: every request visits a different /s/<code>, once.
-- Arguments (after --): <directory>. Thread i (1..n) sends GET /s/<code> for each line of
-- <directory>/<i>.req, then reports "DONE i" and stops; START/DONE/BENCH lines as in
-- webhook.lua (read by bench/wrk.py). A 302 is a good answer.

local threads = {}
local n = 0

function setup(thread)
  n = n + 1
  thread:set("id", n)
  table.insert(threads, thread)
end

local queue, reserved, issued, started, verified = {}, 0, 0, false, false
answered, ok = 0, 0

function init(args)
  local id = wrk.thread:get("id")
  for code in io.lines(args[1] .. "/" .. id .. ".req") do
    queue[#queue + 1] = wrk.format("GET", "/s/" .. code)
  end
end

function delay()
  if reserved >= #queue then return 3600000 end
  reserved = reserved + 1
  return 0
end

function request()
  if not verified and wrk.thread:get("id") == 1 then
    verified = true  -- wrk's start-up check of the script: not sent
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
  if status == 302 then ok = ok + 1 end
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
