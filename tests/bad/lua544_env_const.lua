-- a <const> _ENV made Lua 5.4.4 generate wrong code (CVE-2022-28805,
-- patched in Debian's 5.4.4-2): a clean error
-- expect: 1 lua544_env_const.lua:6: attempt to index a number value
local function foo()
  local _ENV <const> = 11
  X = "hi"
end
foo()
