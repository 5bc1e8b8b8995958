-- removing the protection of the environment
-- expect: 1 sandbox_setmetatable_G.lua:3: cannot change a protected metatable
setmetatable(_G, nil)
return os
