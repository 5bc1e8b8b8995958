-- --set with a misspelt first component
-- expect: 1 --set discount: unknown parameter 'discount' (did you mean 'discount_rate'?)
-- args: --set discount=0.1
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
