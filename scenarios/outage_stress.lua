-- scenarios/outage_stress.lua - the flagship under repeated outages with slow
-- recovery of customer trust.
--
-- Seed: the 3-hour outage of 12 Nov 2023 hit "almost all" Alibaba apps, and
-- the article calls reliability "the top priority" for Alibaba Cloud. This
-- scenario asks how much of the flagship's public-cloud gain survives if such
-- outages recur.
--
--   stratsim run scenarios/outage_stress.lua      two scheduled outages
--   stratsim mc scenarios/outage_stress.lua --runs 2000 --seed 1 -o out/outage_mc.csv
--                                                  plus Poisson outages (fan chart)
--
-- Everything below is an assumption (the seed gives one outage, no rates).
local flagship = stratsim.include("ai_public_first.lua")

return flagship:with {
  name = "outage_stress",
  segments = {
    public = { beta_reliability = 3 },   -- assumption: public-cloud buyers weigh reliability heavily
    ai = { beta_reliability = 2 },       -- assumption: model-API users somewhat less
  },
  providers = {
    alibaba = { recovery = 1.5 },        -- assumption: trust recovers over ~1.5 years, not 0.5
  },
  events = {                             -- appended to the flagship's events
    { t = 2024.6, kind = "outage", provider = "alibaba", severity = 0.08 },  -- assumption: a second major outage
    { t = 2025.4, kind = "outage", provider = "alibaba", severity = 0.05 },  -- assumption: and a smaller third one
  },
  -- Monte Carlo only: outages arrive as a Poisson process on top of the events
  outages = {
    alibaba = { rate = 1.0,                                -- assumption: one notable outage a year
                severity = stratsim.uniform(0.02, 0.12) }, -- assumption: 2-12% loss of reliability each
  },
  uncertainty = {
    ["providers.alibaba.recovery"] = stratsim.uniform(0.5, 2.5), -- assumption: how fast trust comes back
    ["segments.public.beta_reliability"] = stratsim.triangular(1, 3, 5),
  },
}
