-- stratsim.include of an absolute path outside the root (through /proc)
-- expect: 1 sandbox_include_absolute.lua:3: stratsim.include: /proc/self/cwd/../../scenarios/baseline.lua is outside the root
return stratsim.include("/proc/self/cwd/../../scenarios/baseline.lua")
