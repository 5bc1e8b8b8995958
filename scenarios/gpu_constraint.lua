-- scenarios/gpu_constraint.lua - the AI push of ai_public_first.lua, limited
-- by the supply of AI accelerators (a user stock and a link; docs/lua-api.md
-- section 8, "Adding a mechanism" in README.md).
--
-- What it is: the baseline (baseline.lua: the market, the rivals, the
-- 2021-2023 share decline) with the Nov 2023 strategy of the flagship (more
-- reinvestment, a quarter of it to AI), plus one mechanism the core model
-- lacks: Alibaba's AI compute is a stock, built by its AI investment,
-- depreciated as GPU generations age, and its build-out is capped by an
-- exogenous supply of accelerators (US export controls from Oct 2022, read
-- from scenarios/data/gpu_supply_cap.csv with stratsim.series). The compute
-- stock sets Alibaba's AI attractiveness lever through a link, so the AI
-- segment responds to compute, not to a schedule written by hand.
--
-- From the news story (Science and Technology Innovation Board Daily, 14 Dec 2023): the strategy's
-- timing and direction (more investment, AI-driven, t = 2023.87), as in
-- ai_public_first.lua. Sourced outside the seed: the dates of the US export
-- rules (7 Oct 2022, 17 Oct 2023; see the data file). Every other number is
-- an assumption, marked "-- assumption:" with its reason.

local base = stratsim.include("baseline.lua")

local t_call = 2023.87            -- seed: "AI driven, public cloud priority" announced on the Q3 call, Nov 2023
local cost = 0.5                  -- assumption: CNY 0.5 bn buys and houses 1 EFLOPS (FP16) of accelerators
local depreciation = 0.33         -- assumption: GPU generations last ~3 years (as baseline's ai depreciation)
local parity = 10                 -- assumption: the 2021 compute is what the baseline's AI attractiveness (lever 1) reflects

-- the supply cap, EFLOPS per year (steps at the rule dates; see the file)
local cap = stratsim.series { file = "data/gpu_supply_cap.csv", time = "time", value = "cap", kind = "steps" }

-- Alibaba's normalised allocation to AI (allocation is given raw: view:get)
local function ai_share(v)
  local a = v:get("allocation", "alibaba", "ai")
  return a / (a + v:get("allocation", "alibaba", "public") + v:get("allocation", "alibaba", "private"))
end

return base:with {
  name = "gpu_constraint",
  events = {
    { t = t_call, kind = "set", provider = "alibaba", field = "reinvest",
      value = 0.3 },                -- assumption: "increase investment" (seed): 20% -> 30% of revenue (as the flagship)
    { t = t_call, kind = "set", provider = "alibaba", field = "allocation",
      value = { public = 0.70,      -- assumption: as the flagship
                private = 0.05,     -- assumption: as the flagship
                ai = 0.25 } },      -- assumption: as the flagship ("AI driven", seed)
  },
  stocks = {
    { id = "gpu", unit = "EFLOPS",
      init = 10,                    -- assumption: ~10 EFLOPS of accelerators in H2 2021
      rate = function(v)
        -- what the AI budget would buy, limited by what can be bought
        local wanted = v:investment("alibaba") * ai_share(v) / cost
        return math.min(wanted, cap(v.t)) - depreciation * v:stock("gpu")
      end },
  },
  links = {
    -- compute sets Alibaba's AI attractiveness, between 0.5 and 1.5
    ["providers.alibaba.lever.ai"] = function(v)
      return math.max(0.5, math.min(1.5, v:stock("gpu") / parity))  -- assumption: bounds of the effect
    end,
  },
  outputs = {
    -- the share of the wanted build-out that the cap lets through (1 = not binding)
    gpu_fill = function(v)
      local wanted = v:investment("alibaba") * ai_share(v) / cost
      return math.min(1, cap(v.t) / wanted)
    end,
  },
}
