-- a --set on an input a link defines (an intervention on a linked input)
-- expect: 1 link_and_set_override.lua: scenario 'bad': link providers.a.lever.ai and an intervention
-- args: --set providers.a.lever.ai=1.2
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  links = { ["providers.a.lever.ai"] = function(v) return 1 end },
}
