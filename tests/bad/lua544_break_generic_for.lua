-- Lua 5.4.4 miscompiles 'break' out of a generic for whose body makes a
-- closure: the loop's closing value stayed open, and the next to-be-closed
-- variable below it made Lua write out of bounds (a crash). stratsim
-- corrects the compiled code: the value is closed at the break, as in 5.4.5.
-- expect: 1 lua544_break_generic_for.lua:19: closed at the break: yes
local closed = false
local o1 = setmetatable({}, {__close = function() closed = true end})
local o2 = setmetatable({}, {__close = function() end})
local function test()
  for k, v in next, {1}, nil, o1 do
    local function f() return k end
    break
  end
  local was = closed
  local z <close> = o2
  return was
end
local was = test()
error("closed at the break: " .. (was and "yes" or "no"))
