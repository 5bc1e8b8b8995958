-- long-string comparisons in a coroutine under pcall
-- expect: 1 limit_string_compare_pcall.lua:7: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local co = coroutine.wrap(function()
  local s, t = ("c"):rep(4e6), ("c"):rep(4e6)
  while true do local x = s < t end
end)
while true do pcall(co) end
