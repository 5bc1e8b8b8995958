-- a continuation byte after a complete character inside the string
-- expect: 1 lua544_utf8_codes_inner.lua:4: invalid UTF-8 code
local n = 0
for p, c in utf8.codes("ab\xe4\xb8\x80\x80\x80cd") do n = n + 1 end
