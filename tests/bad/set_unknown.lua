-- expect: 1 unknown provider 'nobody'
-- args: --set providers.nobody.reinvest=0.3
return stratsim.scenario {
  name = "ok",
  time = { start = 0, stop = 1, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
