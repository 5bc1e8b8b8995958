-- loadfile
-- expect: 1 sandbox_loadfile.lua:3: 'loadfile' is not available in the sandbox (run with --unsafe to allow it)
loadfile("/etc/passwd")
