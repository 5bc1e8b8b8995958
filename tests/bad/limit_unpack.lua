-- unpacking 1e8 values (CVE-2025-46817)
-- expect: 1 limit_unpack.lua:3: too many results to unpack
return table.unpack({}, 1, 1e8)
