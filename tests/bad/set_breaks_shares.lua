-- --set that breaks the share sum
-- expect: 1 set_breaks_shares.lua:8: providers.share.public: shares of segment 'public' sum to 1.3, expected 1 (within 1e-6) (after --set overrides)
-- args: --set providers.a.share.public=0.9
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
