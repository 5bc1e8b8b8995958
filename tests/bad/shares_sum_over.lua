-- shares sum to more than 1
-- expect: 1 shares_sum_over.lua:7: providers.share.public: shares of segment 'public' sum to 1.3, expected 1 (within 1e-6)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.7 } },
                { id = "b", share = { public = 0.6 } } },
}
