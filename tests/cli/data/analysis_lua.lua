-- tests/cli/data/analysis_lua.lua - the analysis Lua API inside a scenario
-- script (sandboxed): distributions, sc:montecarlo/sensitivity/calibrate/
-- optimize and their result objects. Run by `stratsim run`; every check is
-- an assert, and "analysis_lua: ok" on stderr says they all passed.
local sc = stratsim.include("analysis.lua")

-- distributions
local d = stratsim.normal(0.2, 0.03)
assert(tostring(d) == "normal(0.2, 0.03)", tostring(d))
assert(d.kind == "normal" and d.params[1] == 0.2 and d.params[2] == 0.03)
assert(math.abs(d:quantile(0.5) - 0.2) < 1e-15 and math.abs(d:sd() - 0.03) < 1e-15)
assert(stratsim.dist("beta(2, 3, 0, 10)") == stratsim.beta(2, 3, 0, 10))
assert(tostring(stratsim.truncnormal(0, 1, 0, math.huge)) == "truncnormal(0, 1, 0, inf)")
assert(#d:sample(100, 7) == 100 and d:sample(3, 7)[3] == d:sample(3, 7)[3])
local ok, err = pcall(stratsim.normal, 0.2, -1)
assert(not ok and err:find("sd must be > 0", 1, true), err)
ok, err = pcall(stratsim.uniform, 1)
assert(not ok and err:find("uniform takes 2 parameters", 1, true), err)

-- Monte Carlo: same seed, same numbers, whatever the thread count
local m1 = sc:montecarlo { runs = 300, seed = 11, threads = 1 }
local m2 = sc:montecarlo { runs = 300, seed = 11, threads = 3, quantiles = { 0.05, 0.5, 0.95 } }
assert(m1.runs == 300 and m1.seed == 11 and #m1.quantiles == 3 and #m1.times == 10)
assert(m1:csv() == m2:csv())
local st = m1:stats("npv:alibaba")
assert(st.min <= st.p05 and st.p05 <= st.p50 and st.p50 <= st.p95 and st.p95 <= st.max)
assert(st.mean == m1:mean("npv:alibaba") and st.sd > 0)
assert(m1:quantile("share:alibaba:public@2023", 0.95) >= m1:quantile("share:alibaba:public@2023", 0.05))
assert(#m1:mean("share:alibaba:public@each") == 10)
ok, err = pcall(m1.quantile, m1, "npv:alibaba", 0.25)
assert(not ok and err:find("p25 was not computed", 1, true), err)
ok, err = pcall(sc.montecarlo, sc, { rnus = 10 })
assert(not ok and err:find("unknown option 'rnus' (did you mean 'runs'?)", 1, true), err)
assert(tostring(m1):find("300 runs of 'analysis'", 1, true))

-- sensitivity
local t = sc:sensitivity { outputs = { "npv:alibaba" } }
assert(t.method == "tornado" and #t.rows == 3 and t.rows[1].rank == 1)
assert(t.rows[1].parameter == "providers.alibaba.reinvest", t.rows[1].parameter)
assert(t.rows[1].swing >= t.rows[2].swing and t.rows[2].swing >= t.rows[3].swing)
local s = sc:sensitivity { method = "sobol", samples = 64, bootstrap = 0, outputs = { "npv:alibaba" },
                           vary = { "providers.alibaba.reinvest", "segments.public.growth" } }
assert(s.method == "sobol" and s.evaluations == 64 * 4 and #s.rows == 2)
assert(s.rows[1].ST > s.rows[2].ST)

-- calibration: data made by the model itself at tau = 1.5 (the fixture's value)
local data = {}
for _, time in ipairs { 2022, 2022.5, 2023, 2023.5, 2024 } do
  data[#data + 1] = { time = time, provider = "alibaba", segment = "public", metric = "share",
                      value = sc:run():value("share", "alibaba", "public", time) }
end
local c = sc:calibrate { data = data }
assert(math.abs(c.values["segments.public.tau"] - 1.5) < 1e-4, c.values["segments.public.tau"])
assert(c.converged and c.rmse < 1e-6 and #c.residuals == 5 and #c.sets == 1)
assert(c:lua():find('["segments.public.tau"] = 1.', 1, true))

-- optimisation: maximise the public share; the upper bound is the optimum
local o = sc:optimize { constraints = {}, starts = 2 }
assert(math.abs(o.controls["providers.alibaba.reinvest"] - 0.4) < 1e-6, o.controls["providers.alibaba.reinvest"])
assert(o.feasible and o.objective > o.objective_initial)
local o2 = sc:optimize { starts = 2, objective = function(r) return -r:value("npv", "alibaba") end,
                         controls = { ["providers.alibaba.reinvest"] = { 0.1, 0.4 } } }
assert(o2.feasible and o2.constraints[1].holds)

-- writing files is confined in the sandbox
ok, err = pcall(o.write_csv, o, "/tmp/x.csv")
assert(not ok and err:find("relative paths", 1, true), err)

print("analysis_lua: ok")
return sc
