-- a negative share
-- expect: 1 share_negative.lua:7: providers.a.share.public: must be >= 0, got -0.1
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = -0.1 } },
                { id = "b", share = { public = 1.1 } } },
}
