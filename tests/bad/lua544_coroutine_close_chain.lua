-- nested coroutine.close through __close handlers overflowed the C stack and
-- crashed (Lua 5.4.4 bug, fixed in 5.4.5; the example of issue 15)
-- expect: 1 lua544_coroutine_close_chain.lua:8: C stack overflow (coroutine.close nested more than 100 deep
local c = false
for i = 1, 20000 do
  local p = c
  c = coroutine.create(function()
    local x <close> = setmetatable({}, {__close = function() if p then coroutine.close(p) end end})
    coroutine.yield()
  end)
  coroutine.resume(c)
end
coroutine.close(c)
