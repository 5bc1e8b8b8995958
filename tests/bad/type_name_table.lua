-- the name is a table
-- expect: 1 type_name_table.lua:4: name: expected a string, got table
return stratsim.scenario {
  name = {},
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
