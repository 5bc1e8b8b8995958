-- a link named .lua to /etc/passwd: refused before it is read (no token leaks)
-- expect: 1 sandbox_include_symlink_passwd.lua:4: stratsim.include: data/include/passwd_link.lua is outside the root
-- expect-also: widen it with --root DIR
return stratsim.include("data/include/passwd_link.lua")
