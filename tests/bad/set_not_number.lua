-- --set with a value that is not a number
-- expect: 1 --set providers.a.recovery: value 'abc' is not a finite number
-- args: --set providers.a.recovery=abc
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
