-- Shared by bench/wrk/predict.lua, infer.lua and ping.lua (loaded with dofile): per-thread status
-- counters and the one-line JSON summary that bench/run.sh reads from wrk's output, and reading
-- the file a script sends.
--
-- Every wrk thread runs the script in a Lua state of its own; response() counts statuses into
-- that state's `counts`, and done() (main state) sums them through the thread objects that
-- setup() kept: the setup(thread) / thread:get() pattern of wrk's scripting API.

local summary = {}

local threads = {}

-- Per-thread state (a global, so thread:get("counts") can copy it).
counts = { ["2xx"] = 0, ["503"] = 0, ["504"] = 0, ["5xx_other"] = 0, other = 0 }

-- The bytes of the file at `path`; `who` names the script in the error.
function summary.read_file(path, who)
   local file, err = io.open(path, "rb")
   if not file then error(who .. ": cannot read " .. path .. ": " .. tostring(err)) end
   local data = file:read("*a")
   file:close()
   return data
end

function summary.setup(thread)
   table.insert(threads, thread)
end

function summary.count(status)
   local key
   if status >= 200 and status < 300 then
      key = "2xx"
   elseif status == 503 or status == 504 then
      key = tostring(status)
   elseif status >= 500 and status < 600 then
      key = "5xx_other"
   else
      key = "other"
   end
   counts[key] = counts[key] + 1
end

-- The first thread's value of a global set in init() (the main state never sees wrk's script
-- arguments: only the threads' init(args) does).
function summary.thread_value(name)
   local thread = threads[1]
   if thread == nil then return nil end
   return thread:get(name)
end

local function number(value)
   if value ~= value or value == math.huge or value == -math.huge then return "null" end
   if value == math.floor(value) and math.abs(value) < 2^53 then
      return string.format("%d", value)
   end
   return string.format("%.3f", value)
end

-- Writes one JSON object on a line of its own.
--   counted      true when response() counted statuses (else only wrk's errors.status is known)
--   deadline_ms  when > 0, also counts the responses slower than it (from the latency histogram)
function summary.done(s, latency, counted, deadline_ms)
   local e = s.errors
   local seconds = s.duration / 1e6
   local fields = {
      { "requests", number(s.requests) },
      { "duration_s", number(seconds) },
      { "requests_per_s", number(seconds > 0 and s.requests / seconds or 0) },
      { "bytes", number(s.bytes) },
      { "mean_ms", number(latency.mean / 1000) },
      { "p50_ms", number(latency:percentile(50) / 1000) },
      { "p90_ms", number(latency:percentile(90) / 1000) },
      { "p99_ms", number(latency:percentile(99) / 1000) },
      { "max_ms", number(latency.max / 1000) },
   }
   local socket_errors = e.connect + e.read + e.write + e.timeout
   local non_2xx
   if counted then
      local total = { ["2xx"] = 0, ["503"] = 0, ["504"] = 0, ["5xx_other"] = 0, other = 0 }
      for _, thread in ipairs(threads) do
         local mine = thread:get("counts")
         for key, value in pairs(mine) do total[key] = total[key] + value end
      end
      non_2xx = s.requests - total["2xx"]
      table.insert(fields, { "status", string.format(
         '{"2xx": %s, "503": %s, "504": %s, "5xx_other": %s, "other": %s}',
         number(total["2xx"]), number(total["503"]), number(total["504"]),
         number(total["5xx_other"]), number(total.other)) })
   else
      non_2xx = e.status  -- wrk's own count: statuses above 399
      table.insert(fields, { "status", "null" })
   end
   table.insert(fields, { "non_2xx", number(non_2xx) })
   table.insert(fields, { "socket_errors", string.format(
      '{"connect": %s, "read": %s, "write": %s, "timeout": %s}',
      number(e.connect), number(e.read), number(e.write), number(e.timeout)) })
   table.insert(fields, { "errors", number(socket_errors + non_2xx) })
   if deadline_ms and deadline_ms > 0 then
      -- latency(i) is the i-th distinct recorded value (microseconds) and its count.
      local limit, late = deadline_ms * 1000, 0
      if latency.max > limit then
         for i = 1, #latency do
            local value, count = latency(i)
            if value > limit then late = late + count end
         end
      end
      table.insert(fields, { "deadline_ms", number(deadline_ms) })
      table.insert(fields, { "later_than_deadline", number(late) })
   end
   local parts = {}
   for _, field in ipairs(fields) do
      table.insert(parts, string.format('"%s": %s', field[1], field[2]))
   end
   io.write("{", table.concat(parts, ", "), "}\n")
end

return summary
