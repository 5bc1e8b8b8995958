-- A small scenario for the CLI tests: two segments, three providers, one of
-- each event kind, a steps and a linear schedule.
return stratsim.scenario {
  name = "small",
  time = { start = 2021.75, stop = 2024.0, step = 0.25 },
  discount_rate = 0.08,
  segments = {
    { id = "public", size = 100, growth = 0.2, tau = 1.5, learning = 0.15 },
    { id = "private", size = 50, growth = 0.08 },
  },
  providers = {
    { id = "alibaba", share = { public = 0.378, private = 0.2 },
      margin = { public = 0.35, private = 0.1 }, reinvest = 0.25 },
    { id = "rival", share = { public = 0.3, private = 0.5 },
      reinvest = stratsim.steps { { 2021.75, 0.2 }, { 2022.5, 0.3 } } },
    { id = "others", share = { public = 0.322, private = 0.3 },
      price = { public = stratsim.linear { { 2022.0, 1.0 }, { 2023.0, 0.9 } } } },
  },
  events = {
    { t = 2023.87, kind = "outage", provider = "alibaba", severity = 0.1 },
    { t = 2023.0, kind = "set", provider = "alibaba", field = "allocation",
      value = { public = 0.9, private = 0.1 } },
    { t = 2022.0, kind = "market", segment = "private", factor = 0.9 },
  },
}
