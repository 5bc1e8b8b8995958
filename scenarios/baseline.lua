-- scenarios/baseline.lua - the "status quo" scenario for Alibaba Cloud in China.
--
-- What it is: Alibaba and three rival groups (Huawei, Tencent, all others) in
-- three segments: standardised public cloud IaaS/PaaS (`public`), project-based
-- government/enterprise private cloud (`private`) and AI model services (`ai`),
-- from H2 2021 to 2030, with no change of strategy by Alibaba after 2022.
-- ai_public_first.lua derives the "AI driven, public cloud priority" variant
-- from an identical copy of this definition.
--
-- From the news story (Science and Technology Innovation Board Daily, 14 Dec 2023):
--   * Alibaba's public-cloud IaaS share 37.8% in H2 2021 (IDC): the start value;
--   * 32.6% in H2 2022 and 29.9% in H1 2023 (IDC): the targets this scenario is
--     tuned to reproduce (2022.75 and 2023.25); they are outputs, not inputs;
--   * public cloud is standardised and higher-margin, private cloud is custom
--     and lower-margin: public margin > private margin, lower switching
--     friction (tau) in public;
--   * Cai Yinghua joined in March 2022 to win government/enterprise clients:
--     Alibaba tilts its investment towards private cloud from 2022.17.
-- Everything else is an assumption, marked "-- assumption:" with its reason.
-- Money is in CNY billions per year (assumption: order of magnitude only).
-- Half-years are placed at their mid-points: H2 2021 = 2021.75, H2 2022 =
-- 2022.75, H1 2023 = 2023.25.
--
-- Calibration (`stratsim calibrate scenarios/baseline.lua --data
-- scenarios/data/china_public_cloud_iaas.csv`, the `calibrate` table below;
-- re-run it after changing any assumption and paste the new value):
--   segments.public.beta_price = 2.0590441227  +- 0.0116 (1 se)
--   3 observations (the first is the start value, met by construction, so
--   not a degree of freedom), dof 1, RMSE 0.00022 (0.02 pp), converged in
--   4 iterations.
-- Fitting tau as well reproduces the three points exactly, but beta_price and
-- tau then correlate at 0.999: three points cannot tell a strong price effect
-- with slow switching from a weaker one with fast switching. The fit is an
-- illustration of the mechanism, not an identification; tau stays an assumption.
--
-- How the decline arises: rivals cut public-cloud prices (H1 2022) and double
-- their reinvestment ratio for two years (2022-2023), while Alibaba moves some
-- investment to private cloud. Their attractiveness (price^-2 * capability^0.5)
-- rises, so Alibaba's target share falls and its share follows with tau = 1 y.
-- With beta_capability = 0.5 (< 1) shares settle instead of drifting to a
-- monopoly, so after the rivals' push ends the share levels off near 24%.

-- A rival group: identical behaviour, only the shares differ.
local function rival(id, share)
  return {
    id = id,
    share = share,
    margin = { public = 0.30, private = 0.10, ai = 0.20 }, -- assumption: a little below Alibaba's public margin (price war), same private/ai margins
    price = { public = stratsim.linear{ { 2021.75, 1.0 },   -- assumption: list-price parity at the start
                                        { 2022.25, 0.83 } } }, -- assumption: 17% public price cut over H1 2022 (tuned to the IDC points)
    reinvest = stratsim.steps{ { 2021.75, 0.2 },  -- assumption: same reinvestment ratio as Alibaba at the start
                               { 2022.0, 0.4 },   -- assumption: capacity build-out doubles reinvestment in 2022-2023 (tuned)
                               { 2024.0, 0.2 } }, -- assumption: back to the usual ratio once capacity is built
  }
end

return stratsim.scenario {
  name = "baseline",
  time = { start = 2021.75,  -- seed: first IDC point, H2 2021 (mid-point)
           stop = 2030.0,    -- assumption: end-2029 horizon, long enough to see the segments diverge
           step = 0.25 },    -- assumption: quarterly output
  discount_rate = 0.08,      -- assumption: a typical cost of capital for a large Chinese tech firm

  segments = {
    { id = "public",
      size = 220,             -- assumption: ~CNY 220 bn/yr public cloud in 2021 (order of magnitude)
      growth = 0.20,          -- assumption: ~20%/yr continuous growth
      tau = 1.0,              -- assumption: standardised products (seed) switch fast; 1 y fits the IDC decline
      beta_capability = 0.5,  -- assumption: diminishing returns to capability; keeps shares from tipping
      beta_price = 2.0590441227, -- fitted: see the calibration block below (elasticity of attractiveness to price)
      learning = 0.10,        -- assumption: scale economies of standardised cloud ("economies of scale", seed quote)
      depreciation = 0.33 },  -- assumption: servers and software age out in ~3 years
    { id = "private",
      size = 105,             -- assumption: ~CNY 105 bn/yr private cloud in 2021 (order of magnitude)
      growth = 0.08,          -- assumption: slower than public cloud
      tau = 3.0,              -- assumption: multi-year government/enterprise projects switch slowly
      beta_capability = 0.5 },-- assumption: as public; learning 0 (custom work) and depreciation 0.2 by default
    { id = "ai",
      size = 5,               -- assumption: AI model services were tiny in 2021
      bass = { p = 0.002,     -- assumption: little spontaneous adoption
               q = 0.5,       -- assumption: strong imitation; initial growth ~60%/yr
               potential = 300 }, -- assumption: CNY 300 bn/yr when fully adopted
      tau = 1.5,              -- assumption: young market, users switch models readily
      beta_capability = 0.5,  -- assumption: as public
      learning = 0.15,        -- assumption: inference costs fall fast with volume
      depreciation = 0.33 },  -- assumption: GPU generations last ~3 years
  },

  providers = {
    { id = "alibaba",
      share = { public = 0.378,   -- seed: IDC, H2 2021
                private = 0.10,   -- assumption: a minor player in government private cloud
                ai = 0.20 },      -- assumption: among the leaders in early model services
      margin = { public = 0.35,   -- assumption: higher than private (seed: public cloud has higher margins)
                 private = 0.10,  -- assumption: custom, project-based work is low-margin (seed)
                 ai = 0.20 },     -- assumption: GPU-heavy, modest at first
      opex = { public = 0.10,     -- assumption: sales and admin, % of revenue
               private = 0.05,    -- assumption: delivery cost is already in the low gross margin
               ai = 0.15 },       -- assumption: model R&D
      reinvest = 0.2,             -- assumption: 20% of revenue reinvested (the documented default)
      allocation = {
        public = stratsim.steps{ { 2021.75, 0.80 },   -- assumption: investment mostly in public cloud
                                 { 2022.17, 0.70 } }, -- seed: Cai Yinghua joins (Mar 2022) to win gov/enterprise clients; size assumed
        private = stratsim.steps{ { 2021.75, 0.15 },  -- assumption
                                  { 2022.17, 0.25 } }, -- seed: the same push, towards private cloud; size assumed
        ai = 0.05 },              -- assumption: small AI investment before 2023
    },
    rival("huawei",  { public = 0.110,   -- assumption: Huawei Cloud, roughly IDC's order of magnitude
                       private = 0.30,   -- assumption: strong in government/enterprise projects
                       ai = 0.15 }),     -- assumption
    rival("tencent", { public = 0.110,   -- assumption
                       private = 0.10,   -- assumption
                       ai = 0.15 }),     -- assumption
    rival("others",  { public = 0.402,   -- assumption: the rest, so public shares sum to 1
                       private = 0.50,   -- assumption: telecom clouds, system integrators, ...
                       ai = 0.50 }),     -- assumption: Baidu and the rest
  },

  events = {},

  -- behaviour checks (`stratsim check --behaviour`): the directions the model
  -- is meant to have. Each applies its change (a decision input acts from the
  -- start on, on top of this scenario) and compares with the scenario itself.
  checks = {
    { name = "more reinvestment gains public share",
      change = { ["providers.alibaba.reinvest"] = 0.35 },
      expect = "share:alibaba:public@2028 > base" },
    { name = "a lower public price gains public share",
      change = { ["providers.alibaba.price.public"] = 0.9 },
      expect = "share:alibaba:public@2028 > base" },
    { name = "a lower public price lowers the public gross margin",
      change = { ["providers.alibaba.price.public"] = 0.9 },
      expect = "gross_margin:alibaba:public@2028 < base" },
    { name = "allocating more to AI gains AI share",
      change = { ["providers.alibaba.allocation.ai"] = 0.5 },
      expect = "share:alibaba:ai@2028 > base" },
    { name = "allocating more to AI loses public share",
      change = { ["providers.alibaba.allocation.ai"] = 0.5 },
      expect = "share:alibaba:public@2028 < base" },
  },

  -- what `stratsim calibrate` fits (bounds and start value)
  calibrate = {
    ["segments.public.beta_price"] = { lower = 0.1, upper = 10, start = 1 },
  },

  -- what `stratsim mc` and `stratsim sens` vary (all assumptions: plausible
  -- ranges around the values above)
  uncertainty = {
    ["segments.public.growth"] = stratsim.normal(0.20, 0.03),
    ["segments.private.growth"] = stratsim.normal(0.08, 0.02),
    ["segments.ai.bass.q"] = stratsim.triangular(0.3, 0.5, 0.8),
    ["segments.public.beta_price"] = stratsim.normal(2.059, 0.2),
    ["segments.public.tau"] = stratsim.lognormal(0, 0.25),
  },
}
