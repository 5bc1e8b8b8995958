-- require
-- expect: 1 sandbox_require.lua:3: 'require' is not available in the sandbox (run with --unsafe to allow it)
local os = require("os")
os.execute("touch /tmp/stratsim-pwned")
