-- an adaptive method with tolerances so loose that a shock drives a share far above 1: a run-time error
-- expect: 1 share[a,public] = 5.9
-- expect-also: is outside [0, 1]
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, tau = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2022.5, kind = "set", provider = "b", field = "participation", value = { public = 0 } } },
  solver = { method = "rk2", rtol = 1, atol = 100, h = 1 },
}
