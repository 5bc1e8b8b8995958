return stratsim.scenario {
  name = "base",
  time = { start = 0, stop = 1, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 0.6 } }, { id = "b", share = { public = 0.4 } } },
}
