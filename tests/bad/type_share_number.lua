-- share must be keyed by segment
-- expect: 1 type_share_number.lua:7: providers.a.share: expected a table keyed by segment id, got number
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = 1 } },
}
