-- --set with a misspelt field
-- expect: 1 --set segments.public.tua: unknown segment field 'tua' (did you mean 'tau'?)
-- args: --set segments.public.tua=1
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
