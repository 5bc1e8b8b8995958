-- package.loadlib (CVE-2022-0543)
-- expect: 1 sandbox_package_loadlib.lua:3: 'package' is not available in the sandbox (run with --unsafe to allow it)
local f = package.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system")
f("touch /tmp/stratsim-pwned")
