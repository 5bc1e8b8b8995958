-- --set naming an unknown segment
-- expect: 1 --set providers.a.price.pubic: unknown segment 'pubic' (did you mean 'public'?)
-- args: --set providers.a.price.pubic=1
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
