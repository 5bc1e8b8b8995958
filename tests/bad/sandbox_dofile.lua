-- dofile
-- expect: 1 sandbox_dofile.lua:3: 'dofile' is not available in the sandbox (run with --unsafe to allow it)
dofile("/etc/passwd")
