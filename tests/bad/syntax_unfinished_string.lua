-- a string that is never closed
-- expect: 1 syntax_unfinished_string.lua:4: unfinished string near '"bad,,'
return stratsim.scenario {
  name = "bad,,
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
