-- expect: 1 margin_ge_1.lua:7: providers.a.margin.public: must be < 1
return stratsim.scenario {
  name = "bad",
  time = { start = 0, stop = 1, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 },
                  margin = { public = 1.2 } } },
}
