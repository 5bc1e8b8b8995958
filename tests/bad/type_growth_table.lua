-- a plain table where a schedule is expected
-- expect: 1 type_growth_table.lua:6: segments.public.growth: expected a number or a schedule (stratsim.steps/stratsim.linear), got table
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = { 0.1, 0.2 } } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
