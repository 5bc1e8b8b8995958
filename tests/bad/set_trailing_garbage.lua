-- --set with trailing characters after the number
-- expect: 1 --set providers.a.reinvest: value '0.3x' is not a finite number
-- args: --set providers.a.reinvest=0.3x
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
