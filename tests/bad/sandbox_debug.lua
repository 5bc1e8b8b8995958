-- the debug library
-- expect: 1 sandbox_debug.lua:3: 'debug' is not available in the sandbox (run with --unsafe to allow it)
debug.sethook()
