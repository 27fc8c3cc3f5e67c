-- wrk script: POST one image to a DMS predict route as multipart/form-data, count the answers by
-- status, and print a one-line JSON summary at the end (bench/wrk/summary.lua).
--
--   wrk -c 16 -t 2 -d 20s --latency -s bench/wrk/predict.lua \
--       http://127.0.0.1:PORT/resnet18/predict -- IMAGE [DEADLINE_MS] [FIELD]
--
-- IMAGE        the file to post (content type image/png for *.png, else image/jpeg); default
--              $BENCH_IMAGE
-- DEADLINE_MS  when > 0, every request carries `X-Request-Timeout-Ms: DEADLINE_MS` and the
--              summary counts the responses that took longer; default $BENCH_DEADLINE_MS or 0
-- FIELD        the multipart field name; default $BENCH_FIELD or `data`

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local summary = dofile(dir .. "summary.lua")

local function multipart(field, path, content)
   local filename = path:match("([^/]+)$")
   local content_type = path:lower():match("%.png$") and "image/png" or "image/jpeg"
   local boundary = "dms-bench-boundary-5f0c2e91"
   while content:find(boundary, 1, true) do boundary = boundary .. "x" end
   local body = table.concat({
      "--", boundary, "\r\n",
      'Content-Disposition: form-data; name="', field, '"; filename="', filename, '"\r\n',
      "Content-Type: ", content_type, "\r\n\r\n",
      content, "\r\n--", boundary, "--\r\n",
   })
   return body, "multipart/form-data; boundary=" .. boundary
end

deadline_ms = 0  -- per thread, read back by done() through summary.thread_value

function setup(thread)
   summary.setup(thread)
end

function init(args)
   local image = args[1] or os.getenv("BENCH_IMAGE")
   if image == nil or image == "" then
      error("predict.lua: give the image path after `--` or in BENCH_IMAGE")
   end
   deadline_ms = tonumber(args[2] or os.getenv("BENCH_DEADLINE_MS") or "0") or 0
   local field = args[3] or os.getenv("BENCH_FIELD") or "data"
   local body, content_type = multipart(field, image, summary.read_file(image, "predict.lua"))
   wrk.method = "POST"
   wrk.body = body
   wrk.headers["Content-Type"] = content_type
   if deadline_ms > 0 then
      wrk.headers["X-Request-Timeout-Ms"] = string.format("%d", deadline_ms)
   end
end

function response(status, headers, body)
   summary.count(status)
end

function done(s, latency, requests)
   summary.done(s, latency, true, summary.thread_value("deadline_ms"))
end
