-- a fixed step count just above solver.max_steps
-- expect: 1 t=2022: 5001 fixed steps of solver.h = 9.999e-05 exceed solver.max_steps = 5000
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { method = "euler", h = 9.999e-5, max_steps = 5000 },
}
