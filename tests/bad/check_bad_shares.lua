-- `check` of a scenario whose shares do not sum to 1
-- expect: 1 check_bad_shares.lua:8: providers.share.public: shares of segment 'public' sum to 0.9
-- cmd: check %f
return stratsim.scenario {
  name = "ana",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.3 } } },
}
