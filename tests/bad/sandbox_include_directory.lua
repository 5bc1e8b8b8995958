-- a directory named like a scenario file is not a regular file
-- expect: 1 sandbox_include_directory.lua:3: stratsim.include: data/dir.lua is not a regular file
return stratsim.include("data/dir.lua")
