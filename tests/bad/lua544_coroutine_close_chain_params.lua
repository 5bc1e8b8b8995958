-- the coroutine.close chain of Lua 5.4.4 in a --params file
-- expect: 1 lua544_coroutine_close_chain_params.lua:9: C stack overflow (coroutine.close nested
-- cmd: check ../../scenarios/baseline.lua --params %f
local c = false
for i = 1, 20000 do
  local p = c
  c = coroutine.create(function()
    local x <close> = setmetatable({}, {__close = function()
      if p then coroutine.close(p) end end})
    coroutine.yield()
  end)
  coroutine.resume(c)
end
coroutine.close(c)
return {}
