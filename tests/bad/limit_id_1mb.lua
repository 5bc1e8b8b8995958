-- a provider id of 1 MiB
-- expect: 1 limit_id_1mb.lua:8: providers[1].id: provider id 'xxxx
-- expect-also: ...' is longer than 63 characters
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = ("x"):rep(2^20), share = { public = 1 } } },
}
