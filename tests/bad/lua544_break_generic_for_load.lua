-- the 'break' out of a generic for of Lua 5.4.4 in a chunk made by load(),
-- with a goto instead of break; the corrected chunk keeps the sandbox as _ENV
-- expect: 1 lua544_break_generic_for_load.lua:15: closed: yes; os: 'os' is not available in the sandbox
local f = load([[
  local closed = false
  local o1 = setmetatable({}, {__close = function() closed = true end})
  for k in next, {1, 2}, nil, o1 do
    do local function g() return k end goto out end
  end
  ::out::
  local z <close> = setmetatable({}, {__close = function() end})
  return closed, pcall(function() return os end)
]])
local closed, ok, msg = f()
error("closed: " .. (closed and "yes" or "no") .. "; os: " .. tostring(msg):gsub("^.-:%d+: ", ""))
