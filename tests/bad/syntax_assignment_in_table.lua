-- a statement where an expression is expected
-- expect: 1 syntax_assignment_in_table.lua:9: unexpected symbol near 'local'
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  discount_rate = local x,
}
