-- string.dump round trip (CVE-2022-24735)
-- expect: 1 sandbox_string_dump.lua:3: attempt to call a nil value (field 'dump')
local code = string.dump(function() return 1 end)
return load(code)()
