-- scenarios/strategy_frontier.lua - the trade-off between value and public-cloud
-- share: for each floor on Alibaba's 2030 public-cloud share, the split of
-- post-shift investment between public cloud and AI that maximises Alibaba's
-- NPV to 2030 (stratsim's optimiser: gsl_multimin Nelder-Mead, multi-start).
--
--   stratsim run scenarios/strategy_frontier.lua     prints the frontier
--   stratsim optimize scenarios/strategy_frontier.lua  the problem with a 28% floor
--
-- Seed: the shift itself (Nov 2023: "reduce project-based sales orders, and
-- increase investment in public cloud core products" and AI). Assumptions: the
-- controls' ranges, the floors, everything inherited from ai_public_first.lua.
-- The flagship sets its new reinvestment ratio and allocation with `set`
-- events; here the same values are step schedules whose post-shift knots the
-- optimiser moves: the reinvestment ratio (#2) and the weight of public cloud
-- in the allocation (#3; AI keeps 0.25 and private 0.05 of the weights).
-- More reinvestment buys share but is expensed, so a higher share floor costs
-- NPV: that is the frontier.
local flagship = stratsim.include("ai_public_first.lua")
local t_call = 2023.87                        -- seed: the Q3 2023 call (as in ai_public_first.lua)

local sc = flagship:with {
  name = "strategy_frontier",
  replace_events = true,
  events = {
    { t = 2023 + 315 / 365, kind = "outage", provider = "alibaba", severity = 0.05 },  -- as the flagship
  },
  providers = {
    alibaba = {
      reinvest = stratsim.steps{ { 2021.75, 0.2 }, { t_call, 0.3 } },  -- as the flagship
      allocation = {
        public = stratsim.steps{ { 2021.75, 0.80 }, { 2022.17, 0.70 }, { t_call, 0.70 } },
        private = stratsim.steps{ { 2021.75, 0.15 }, { 2022.17, 0.25 }, { t_call, 0.05 } },
        ai = stratsim.steps{ { 2021.75, 0.05 }, { t_call, 0.25 } },
      },
    },
  },
  optimize = {
    objective = "npv:alibaba",
    controls = {
      ["providers.alibaba.reinvest#2"] = { lower = 0.1, upper = 0.6 },          -- assumption: range
      ["providers.alibaba.allocation.public#3"] = { lower = 0.2, upper = 2 },   -- assumption: range
    },
    constraints = { "share:alibaba:public@2030 >= 0.28" },                      -- assumption: the floor
  },
}

-- Compute and print the frontier (on standard error, like every print in a
-- scenario) whenever the file is loaded; it takes a few seconds.
do
  local floors = { 0.24, 0.26, 0.28, 0.30, 0.32, 0.34 }
  print("Alibaba NPV to 2030 against a floor on its 2030 public-cloud share")
  print(string.format("%-12s %10s %14s %12s %9s", "share floor", "reinvest", "public weight",
                      "NPV 2030", "feasible"))
  for _, floor in ipairs(floors) do
    local best = sc:optimize {
      constraints = { string.format("share:alibaba:public@2030 >= %.2f", floor) },
      starts = 2,
    }
    local c = best.controls
    print(string.format("%-12s %10.3f %14.3f %12.2f %9s", string.format(">= %.0f%%", floor * 100),
                        c["providers.alibaba.reinvest#2"], c["providers.alibaba.allocation.public#3"],
                        best.objective, tostring(best.feasible)))
  end
end
return sc
