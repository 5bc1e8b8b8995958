-- --set without =
-- expect: 2 run: --set 'providers.a.reinvest': expected PATH=VALUE
-- args: --set providers.a.reinvest
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
