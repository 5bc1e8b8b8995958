-- expect: 1 sandbox_os.lua:2:
os.execute("touch /tmp/stratsim-pwned")
return nil
