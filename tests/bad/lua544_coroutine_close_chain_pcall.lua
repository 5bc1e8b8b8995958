-- the coroutine.close chain of Lua 5.4.4 inside pcall, one level per
-- coroutine: the guard's error cannot be caught
-- expect: 1 lua544_coroutine_close_chain_pcall.lua:8: C stack overflow (coroutine.close nested
local c = false
for i = 1, 5000 do
  local p = c
  c = coroutine.create(function()
    local x <close> = setmetatable({}, {__close = function() if p then assert(coroutine.close(p)) end end})
    coroutine.yield()
  end)
  coroutine.resume(c)
end
local ok = pcall(coroutine.close, c)
return stratsim.scenario {
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
