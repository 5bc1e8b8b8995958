-- a fixed step whose step count overflows every integer (was silently one step per interval)
-- expect: 1 solver_h_tiny.lua: scenario 'bad': t=2022: 5e+299 fixed steps of solver.h = 1e-300 exceed solver.max_steps = 1000000
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { method = "euler", h = 1e-300 },
}
