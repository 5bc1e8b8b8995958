-- a link and a set event on the same input
-- expect: 1 link_and_set.lua:9: links.providers.a.lever.ai: the link on providers.a.lever.ai and the set event events[1] (t=2023, line 8) both set this input: an
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  events = { { t = 2023, kind = "set", provider = "a", field = "lever", value = { ai = 1.2 } } },
  links = { ["providers.a.lever.ai"] = function(v) return 1 end },
}
