-- --set of a share without a segment
-- expect: 1 --set providers.a.share: needs a segment: providers.a.share.<segment>
-- args: --set providers.a.share=0.5
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
