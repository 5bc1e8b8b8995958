-- expect: 1 shares_sum.lua:6: providers.share.public: shares of segment 'public' sum to 0.9
return stratsim.scenario {
  name = "bad",
  time = { start = 0, stop = 1, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = {
    { id = "a", share = { public = 0.5 } },
    { id = "b", share = { public = 0.4 } },
  },
}
