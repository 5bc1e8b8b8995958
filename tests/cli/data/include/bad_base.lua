return stratsim.scenario {
  name = "base",
  time = { start = 0, stop = 1, step = 0.5 },
  segments = { { id = "public", size = 100, tau = -1 } },
  providers = { { id = "a", share = { public = 1 } } },
}
