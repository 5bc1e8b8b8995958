-- a link that is a number
-- expect: 1 link_not_function.lua:8: links.providers.a.lever.ai: expected a function(v) returning the input's value, got number
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  links = { ["providers.a.lever.ai"] = 1.2 },
}
