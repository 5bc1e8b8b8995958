-- A variant of small.lua for `compare`: the same market, alibaba reinvests more.
return stratsim.scenario {
  name = "second",
  time = { start = 2021.75, stop = 2024.0, step = 0.25 },
  discount_rate = 0.08,
  segments = {
    { id = "public", size = 100, growth = 0.2, tau = 1.5, learning = 0.15 },
    { id = "private", size = 50, growth = 0.08 },
  },
  providers = {
    { id = "alibaba", share = { public = 0.378, private = 0.2 },
      margin = { public = 0.35, private = 0.1 },
      reinvest = stratsim.steps { { 2021.75, 0.25 }, { 2022.0, 0.4 } } },
    { id = "rival", share = { public = 0.3, private = 0.5 } },
    { id = "others", share = { public = 0.322, private = 0.3 } },
  },
}
