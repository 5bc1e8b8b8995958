-- io.popen
-- expect: 1 sandbox_io_popen.lua:3: 'io' is not available in the sandbox (run with --unsafe to allow it)
io.popen("touch /tmp/stratsim-pwned")
