-- tests/cli/data/analysis_policy.lua - the analysis fixture with a policy
-- (which draws from math.random), a derived metric and a Lua objective
-- function: Monte Carlo then runs one Lua state per worker thread.
local base = stratsim.include("analysis.lua")
return base:with {
  name = "analysis_policy",
  -- once Alibaba's public share falls below 36%, cut its public price by a
  -- random 0-10% (math.random: reseeded for every Monte Carlo run)
  policy = function(view)
    if view:get("price", "alibaba", "public") >= 1 and view:share("alibaba", "public") < 0.36 then
      view:set("alibaba", "price", { public = 1 - 0.1 * math.random() })
    end
  end,
  outputs = {
    alibaba_public_price = function(view) return view:get("price", "alibaba", "public") end,
  },
  optimize = {
    -- NPV plus a bonus for public share: a Lua function of the result
    objective = function(r) return r:value("npv", "alibaba") + 100 * r:value("share", "alibaba", "public") end,
    controls = { ["providers.alibaba.reinvest"] = { lower = 0.1, upper = 0.4 } },
  },
}
