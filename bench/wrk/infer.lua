-- wrk script: POST one image to an Open Inference Protocol (KServe v2) infer route, as
-- tritonclient.http sends it: one BYTES input in binary tensor data (a JSON header, then the
-- item after its 4-byte little-endian length), `Inference-Header-Content-Length` and no content
-- type; the outputs come back as JSON. Counts the answers by status and prints the one-line JSON
-- summary of bench/wrk/summary.lua.
--
--   wrk -c 1 -t 1 -d 10s --latency -s bench/wrk/infer.lua \
--       http://127.0.0.1:PORT/v2/models/digits-mlp/infer -- IMAGE [INPUT]
--
-- IMAGE  the file to send; default $BENCH_IMAGE
-- INPUT  the input's name; default $BENCH_INPUT or `input0` (the model's first input)

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local summary = dofile(dir .. "summary.lua")

local function little_endian_u32(n)
   return string.char(n % 256, math.floor(n / 256) % 256, math.floor(n / 65536) % 256, math.floor(n / 16777216) % 256)
end

function setup(thread)
   summary.setup(thread)
end

function init(args)
   local image = args[1] or os.getenv("BENCH_IMAGE")
   if image == nil or image == "" then
      error("infer.lua: give the image path after `--` or in BENCH_IMAGE")
   end
   local input = args[2] or os.getenv("BENCH_INPUT") or "input0"
   local content = summary.read_file(image, "infer.lua")
   local header = string.format(
      '{"inputs":[{"name":"%s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":%d}}]}',
      input, #content + 4)
   wrk.method = "POST"
   wrk.body = header .. little_endian_u32(#content) .. content
   wrk.headers["Inference-Header-Content-Length"] = string.format("%d", #header)
end

function response(status, headers, body)
   summary.count(status)
end

function done(s, latency, requests)
   summary.done(s, latency, true, 0)
end
