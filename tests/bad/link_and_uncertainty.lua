-- a link on an input that the uncertainty table also varies
-- expect: 1 link_and_uncertainty.lua:8: links.providers.a.lever.ai: uncertainty also names this input, which the link defines
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  links = { ["providers.a.lever.ai"] = function(v) return 1 end },
  uncertainty = { ["providers.a.lever.ai"] = stratsim.uniform(0.8, 1.2) },
}
