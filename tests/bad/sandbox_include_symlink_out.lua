-- a link inside the root that points outside it
-- expect: 1 sandbox_include_symlink_out.lua:3: stratsim.include: data/include/outside_link.lua is outside the root
return stratsim.include("data/include/outside_link.lua")
