-- sensitivity analysis of a scenario without uncertainty
-- expect: 1 sens_nothing_uncertain.lua: scenario 'ana': nothing to vary
-- cmd: sens %f -o %o
return stratsim.scenario {
  name = "ana",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
}
