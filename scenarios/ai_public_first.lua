-- scenarios/ai_public_first.lua - the flagship: "AI driven, public cloud priority".
--
-- What it is: the baseline (see baseline.lua for the market, the rivals and
-- how the 2021-2023 share decline arises) plus the strategy Alibaba Cloud
-- announced on its Q3 2023 results call (seed): fewer project-based
-- (government/enterprise private cloud) orders, more investment in public-cloud
-- core products and in AI, with the 12 Nov 2023 outage and the Qwen-72B
-- open-source release on 1 Dec 2023.
--
-- From the seed (shared/seed/alibaba-cloud-2023-article.txt): the strategy and
-- its direction (less private, more public and AI), its timing (Nov 2023 call,
-- t = 2023.87), the outage date (12 Nov 2023, day 316: t = 2023 + 315/365) and
-- the Qwen-72B release date (1 Dec 2023, day 335: t = 2023 + 334/365), plus all
-- seed numbers of baseline.lua. Assumptions: how large each change is (the
-- reinvestment ratio, the new allocation, how far private participation falls,
-- the outage severity, the size of the open-model effect), marked below.
--
-- The sandbox has no dofile/require, so the baseline is restated here.
-- `base` is kept identical to baseline.lua; a test checks this. The variant
-- (`base:with{...}`) states only what differs.

local function rival(id, share)
  return {
    id = id,
    share = share,
    margin = { public = 0.30, private = 0.10, ai = 0.20 }, -- assumption: as baseline.lua
    price = { public = stratsim.linear{ { 2021.75, 1.0 },      -- assumption: parity at the start
                                        { 2022.25, 0.83 } } }, -- assumption: 17% price cut in H1 2022
    reinvest = stratsim.steps{ { 2021.75, 0.2 },  -- assumption: as Alibaba at the start
                               { 2022.0, 0.4 },   -- assumption: 2022-2023 capacity build-out
                               { 2024.0, 0.2 } }, -- assumption: back to normal
  }
end

local base = stratsim.scenario {
  name = "baseline",
  time = { start = 2021.75, stop = 2030.0, step = 0.25 }, -- seed: H2 2021 start; assumption: horizon, quarterly output
  discount_rate = 0.08,                                   -- assumption: cost of capital
  segments = {
    { id = "public", size = 220, growth = 0.20,          -- assumption: CNY bn/yr in 2021, ~20%/yr
      tau = 1.0, beta_capability = 0.5, beta_price = 2,  -- assumption: fast switching, diminishing returns, price-sensitive
      learning = 0.10, depreciation = 0.33 },            -- assumption: scale economies, ~3-year assets
    { id = "private", size = 105, growth = 0.08,         -- assumption: CNY bn/yr in 2021, slower growth
      tau = 3.0, beta_capability = 0.5 },                -- assumption: slow project cycles, diminishing returns
    { id = "ai", size = 5,                               -- assumption: tiny in 2021
      bass = { p = 0.002, q = 0.5, potential = 300 },    -- assumption: imitation-driven adoption to CNY 300 bn/yr
      tau = 1.5, beta_capability = 0.5,                  -- assumption: young market, diminishing returns
      learning = 0.15, depreciation = 0.33 },            -- assumption: falling inference cost, ~3-year GPUs
  },
  providers = {
    { id = "alibaba",
      share = { public = 0.378, private = 0.10, ai = 0.20 },  -- seed: 37.8% public (IDC H2 2021); assumption: private, ai
      margin = { public = 0.35, private = 0.10, ai = 0.20 },  -- assumption: public > private (seed: higher margin)
      opex = { public = 0.10, private = 0.05, ai = 0.15 },    -- assumption: sales/admin, delivery, model R&D
      reinvest = 0.2,                                         -- assumption: 20% of revenue
      allocation = {
        public = stratsim.steps{ { 2021.75, 0.80 }, { 2022.17, 0.70 } },  -- seed: Mar 2022 gov/enterprise push; sizes assumed
        private = stratsim.steps{ { 2021.75, 0.15 }, { 2022.17, 0.25 } }, -- seed: the same push; sizes assumed
        ai = 0.05 },                                                      -- assumption: small AI investment
    },
    rival("huawei",  { public = 0.110, private = 0.30, ai = 0.15 }), -- assumption: strong in private cloud
    rival("tencent", { public = 0.110, private = 0.10, ai = 0.15 }), -- assumption
    rival("others",  { public = 0.402, private = 0.50, ai = 0.50 }), -- assumption: the rest (shares sum to 1)
  },
  events = {},
}

local t_call = 2023.87           -- seed: "AI driven, public cloud priority" announced on the Q3 call, Nov 2023
local t_outage = 2023 + 315 / 365 -- seed: outage on the evening of 12 Nov 2023 (day 316) = 2023.863
local t_qwen = 2023 + 334 / 365   -- seed: Qwen-72B open-sourced on 1 Dec 2023 (day 335) = 2023.915

return base:with {
  name = "ai_public_first",
  providers = {
    alibaba = {
      -- "reduce project-based sales orders": Alibaba bids for fewer private
      -- projects; the pipeline winds down over about eight months.
      participation = { private = stratsim.linear{ { t_call, 1.0 },  -- assumption: full participation until the call
                                                   { 2024.5, 0.5 } } }, -- assumption: half of the projects by mid-2024
      -- Qwen open models make Alibaba's AI services more attractive as the
      -- ecosystem forms (a free attractiveness multiplier).
      lever = { ai = stratsim.linear{ { t_qwen, 1.0 },  -- seed: release date; 1.0 = no effect yet
                                      { 2025.0, 1.5 } } }, -- assumption: +50% attractiveness after a year of ecosystem growth
    },
  },
  events = {
    { t = t_outage, kind = "outage", provider = "alibaba",
      severity = 0.05 },            -- assumption: a 3-hour outage (seed) costs 5% reliability, recovered in ~0.5 y
    { t = t_call, kind = "set", provider = "alibaba", field = "reinvest",
      value = 0.3 },                -- assumption: "increase investment" (seed): 20% -> 30% of revenue
    { t = t_call, kind = "set", provider = "alibaba", field = "allocation",
      value = { public = 0.70,      -- assumption: public-cloud core products stay the main target (seed: priority)
                private = 0.05,     -- assumption: only maintenance of existing private-cloud customers
                ai = 0.25 } },      -- assumption: AI gets a quarter of the investment (seed: "AI driven")
  },
}
