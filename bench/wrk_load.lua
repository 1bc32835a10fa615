-- wrk script for bench/booking_load.py: each request takes the next line of a bodies file.
-- Usage: wrk --threads=T ... -s bench/wrk_load.lua URL -- BODIES_FILE T
-- A bodies file of "-" sends GET requests to the URL's path instead.
-- done() prints one "WRK key=value ..." line that bench/booking_load.py reads.
-- Each thread sends its own share of the lines (line n goes to thread n mod threads), so no
-- body is sent twice; when a thread runs out it wraps around (the server then answers 409,
-- which the summary counts as a non-2xx outcome).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  path = wrk.path
  local file_name = args[1]
  local thread_count = tonumber(args[2])
  if file_name == nil or file_name == "-" then
    return
  end
  local n = 0
  for line in io.lines(file_name) do
    if n % thread_count == index then
      bodies[#bodies + 1] = line
    end
    n = n + 1
  end
  position = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if #bodies == 0 then
    return wrk.format("GET", path)
  end
  position = position % #bodies + 1
  return wrk.format(nil, path, nil, bodies[position])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.0f non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
