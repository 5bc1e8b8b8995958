-- expect: 1 sandbox_os.lua:2: 'os' is not available in the sandbox (run with --unsafe to allow it)
os.execute("touch /tmp/stratsim-pwned")
return nil
