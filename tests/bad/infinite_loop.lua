-- expect: 1 instruction limit exceeded
-- args: --max-instructions 1000000
while true do end
