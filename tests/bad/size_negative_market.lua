-- Euler with a large step on a fast-shrinking segment: a negative size is a run-time error
-- expect: 1 size[public] = -
-- expect-also: is negative
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = -3 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { method = "euler", h = 0.5 },
}
