-- wrk script: GET the URL as fast as possible and print a one-line JSON summary at the end
-- (bench/wrk/summary.lua). No response() callback, so that wrk itself stays cheap (statuses are
-- then not counted one by one: wrk's errors.status, the answers above 399, is reported instead).
--
--   wrk -c 16 -t 2 -d 20s --latency -s bench/wrk/ping.lua http://127.0.0.1:PORT/ping

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local summary = dofile(dir .. "summary.lua")

function setup(thread)
   summary.setup(thread)
end

function done(s, latency, requests)
   summary.done(s, latency, false, 0)
end
