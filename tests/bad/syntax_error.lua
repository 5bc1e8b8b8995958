-- expect: 1 syntax_error.lua:4:
return stratsim.scenario {
  name = "bad",
  time = { start = 0 stop = 1, step = 0.5 },
}
