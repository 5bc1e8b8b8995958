-- stratsim.include outside the scenario directory
-- expect: 1 sandbox_include_escape.lua:3: bad argument #1 to 'include' (expected the name of a .lua scenario file)
return stratsim.include("/etc/passwd")
