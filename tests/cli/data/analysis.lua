-- tests/cli/data/analysis.lua - fixture of the analysis verbs (mc, sens,
-- calibrate, optimize; tests/cli/test_analysis_cli.sh, docs/analysis.md).
-- Shares move (the rival cuts its public-cloud price in 2022, Alibaba's
-- capability is given, so its reinvestment matters), so tau and reinvest
-- are identifiable from the outputs.
return stratsim.scenario {
  name = "analysis",
  time = { start = 2021.75, stop = 2024.0, step = 0.25 },
  discount_rate = 0.08,
  segments = {
    { id = "public", size = 100, growth = 0.2, tau = 1.5, beta_price = 2 },
    { id = "private", size = 50, growth = 0.08, tau = 3 },
  },
  providers = {
    { id = "alibaba", share = { public = 0.378, private = 0.2 },
      margin = { public = 0.35, private = 0.1 }, reinvest = 0.25,
      capability = { public = 40, private = 10 } },
    { id = "rival", share = { public = 0.622, private = 0.8 },
      price = { public = stratsim.linear { { 2022.0, 1.0 }, { 2022.75, 0.85 } } } },
  },
  uncertainty = {
    ["segments.public.growth"] = stratsim.normal(0.2, 0.03),
    ["providers.alibaba.reinvest"] = stratsim.uniform(0.15, 0.35),
    ["segments.public.tau"] = stratsim.lognormal(0.4, 0.2),
  },
  outages = { alibaba = { rate = 0.5, severity = stratsim.uniform(0.02, 0.1) } },
  calibrate = {
    ["segments.public.tau"] = { lower = 0.1, upper = 10, start = 3 },
  },
  optimize = {
    objective = "share:alibaba:public@2024",
    controls = { ["providers.alibaba.reinvest"] = { lower = 0.1, upper = 0.4 } },
    constraints = { "operating_profit:alibaba@2024 >= 0" },
  },
}
