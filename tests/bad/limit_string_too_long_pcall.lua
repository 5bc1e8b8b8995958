-- a too long string caught by pcall still ends the script
-- expect: 1 limit_string_too_long_pcall.lua:3: a string of 20000000 bytes: longer than the 16 MiB limit on strings
local ok = pcall(function() return ("x"):rep(2e7) end)
return stratsim.scenario {
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
