-- --set of a knot a constant does not have
-- expect: 1 --set providers.a.reinvest#2: the schedule has no knot 2
-- args: --set providers.a.reinvest#2=0.1
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
