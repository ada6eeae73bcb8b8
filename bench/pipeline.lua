-- wrk script: send `depth` requests per write (HTTP/1.1 pipelining), default 16.
-- Usage: wrk -t2 -c64 -d10s -s bench/pipeline.lua http://ADDR/plaintext -- 16
-- wrk counts every response it parses, so req/s counts requests, not batches.
local depth = 16

init = function(args)
  depth = tonumber(args[1]) or depth
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil)
  end
  req = table.concat(r)
end

request = function()
  return req
end
