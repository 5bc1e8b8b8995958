-- a distribution with a negative standard deviation
-- expect: 1 mc_bad_distribution.lua:10: normal(mean, sd): sd must be > 0
-- cmd: mc %f --runs 10 --seed 1 -o %o
return stratsim.scenario {
  name = "ana",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
  uncertainty = { ["segments.public.tau"] = stratsim.normal(2, -0.1) },
}
