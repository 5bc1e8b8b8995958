-- scenarios/ai_public_first.lua - the flagship: "AI driven, public cloud priority".
--
-- What it is: the baseline (see baseline.lua for the market, the rivals and
-- how the 2021-2023 share decline arises) plus the strategy Alibaba Cloud
-- announced on its Q3 2023 results call (seed): fewer project-based
-- (government/enterprise private cloud) orders, more investment in public-cloud
-- core products and in AI, with the 12 Nov 2023 outage and the Qwen-72B
-- open-source release on 1 Dec 2023.
--
-- From the news story (Science and Technology Innovation Board Daily, 14 Dec 2023): the strategy and
-- its direction (less private, more public and AI), its timing (Nov 2023 call,
-- t = 2023.87), the outage date (12 Nov 2023, day 316: t = 2023 + 315/365) and
-- the Qwen-72B release date (1 Dec 2023, day 335: t = 2023 + 334/365), plus all
-- seed numbers of baseline.lua. Assumptions: how large each change is (the
-- reinvestment ratio, the new allocation, how far private participation falls,
-- the outage severity, the size of the open-model effect), marked below.
--
-- The baseline comes from baseline.lua (stratsim.include); this file states
-- only what differs (`base:with{...}`).

local base = stratsim.include("baseline.lua")

local t_call = 2023.87           -- seed: "AI driven, public cloud priority" announced on the Q3 call, Nov 2023
local t_outage = 2023 + 315 / 365 -- seed: outage on the evening of 12 Nov 2023 (day 316) = 2023.863
local t_qwen = 2023 + 334 / 365   -- seed: Qwen-72B open-sourced on 1 Dec 2023 (day 335) = 2023.915

-- behaviour checks: the baseline's, plus the direction of an outage
local checks = { table.unpack(base.checks) }
checks[#checks + 1] = { name = "a more severe outage loses public share",
                        change = { ["events.1.severity"] = 0.3 },   -- events[1]: the Nov 2023 outage
                        expect = "share:alibaba:public@2024.5 < base" }

return base:with {
  name = "ai_public_first",
  checks = checks,
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
