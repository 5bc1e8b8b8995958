-- draws that leave the parameter range (tau <= 0)
-- expect: 1 mc_out_of_range_draw.lua: scenario 'ana': run 0: segments.public.tau = -0.31
-- expect-also: must be > 0
-- cmd: mc %f --runs 50 --seed 1 -o %o
return stratsim.scenario {
  name = "ana",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
  uncertainty = { ["segments.public.tau"] = stratsim.normal(0.1, 1) },
}
