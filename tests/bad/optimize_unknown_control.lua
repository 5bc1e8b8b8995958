-- an optimisation control naming an unknown parameter
-- expect: 1 unknown provider field 'reinvst' (did you mean 'reinvest'?)
-- expect-also: optimize_unknown_control.lua:11: optimize.controls
-- cmd: optimize %f -o %o
return stratsim.scenario {
  name = "ana",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
  optimize = { objective = "npv:a", controls = { ["providers.a.reinvst"] = { lower = 0, upper = 1 } } },
}
