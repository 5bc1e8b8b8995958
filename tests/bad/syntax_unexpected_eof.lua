-- the constructor is never closed
-- expect: 1 syntax_unexpected_eof.lua:6: unexpected symbol near <eof>
return stratsim.scenario {
  name = "bad",
  time = { start = 0, stop = 1, step = 0.5 },
