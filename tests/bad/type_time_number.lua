-- time is not a table
-- expect: 1 type_time_number.lua:5: time: expected a table {start = ..., stop = ..., step = ...}, got number
return stratsim.scenario {
  name = "bad",
  time = 2022,
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
