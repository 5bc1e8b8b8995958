-- tests/cli/data/stocks.lua - fixture of user stocks and links with the
-- analysis verbs (tests/cli/test_stocks.sh). A compute stock built by
-- Alibaba's investment and depreciating at 20%/year drives its lever in
-- the public segment through a link.
return stratsim.scenario {
  name = "stocks",
  time = { start = 2021.75, stop = 2024.0, step = 0.25 },
  discount_rate = 0.08,
  segments = {
    { id = "public", size = 100, growth = 0.2, tau = 1.5 },
    { id = "private", size = 50, growth = 0.08, tau = 3 },
  },
  providers = {
    { id = "alibaba", share = { public = 0.378, private = 0.2 },
      margin = { public = 0.35, private = 0.1 }, reinvest = 0.25,
      capability = { public = 40, private = 10 } },
    { id = "rival", share = { public = 0.622, private = 0.8 } },
  },
  stocks = {
    { id = "gpu", init = 10, unit = "EFLOPS",
      rate = function(v) return 0.5 * v:investment("alibaba") - 0.2 * v:stock("gpu") end },
  },
  links = {
    ["providers.alibaba.lever.public"] = function(v) return math.min(1.5, v:stock("gpu") / 10) end,
  },
  uncertainty = {
    ["segments.public.growth"] = stratsim.normal(0.2, 0.03),
    ["providers.alibaba.reinvest"] = stratsim.uniform(0.15, 0.35),
  },
  calibrate = {
    ["providers.alibaba.reinvest"] = { lower = 0.05, upper = 0.6, start = 0.3 },
  },
  optimize = {
    objective = "share:alibaba:public@2024",
    controls = { ["providers.alibaba.reinvest"] = { lower = 0.1, upper = 0.4 } },
    constraints = { "gpu@2024 <= 12" },
  },
}
