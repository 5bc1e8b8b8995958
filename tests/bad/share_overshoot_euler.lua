-- Euler inside its stability limit (h = 1.95 tau) overshoots: a share above 1 is a run-time error
-- expect: 1 t=2024: share[a,public] = 1.1185
-- expect-also: is outside [0, 1]
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 1 },
  segments = { { id = "public", size = 100, tau = 0.2 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2023, kind = "set", provider = "b", field = "participation", value = { public = 0 } } },
  solver = { method = "euler", h = 0.39 },
}
