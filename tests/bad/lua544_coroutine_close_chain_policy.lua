-- the coroutine.close chain of Lua 5.4.4 built and closed by a policy
-- expect: 1 lua544_coroutine_close_chain_policy.lua:12: C stack overflow (coroutine.close nested
return stratsim.scenario {
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
  policy = function(view)
    local c = false
    for i = 1, 3000 do
      local p = c
      c = coroutine.create(function()
        local x <close> = setmetatable({}, {__close = function() if p then coroutine.close(p) end end})
        coroutine.yield()
      end)
      coroutine.resume(c)
    end
    coroutine.close(c)
  end,
}
