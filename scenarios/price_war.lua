-- scenarios/price_war.lua - the flagship plus a public-cloud price war: the
-- leader cuts prices, and rivals answer through a policy.
--
-- Seed: Alibaba Cloud wants "economies of scale" from standardised public cloud
-- and a stable share; rivals' 2022 price cuts are this model's explanation of
-- the 2021-2023 decline (see baseline.lua). Here Alibaba cuts its public-cloud
-- prices by 15% through 2024, and each rival cuts its own price by 5% whenever
-- its public share has fallen more than one point below its level at the start
-- of the war, down to a floor. All sizes and rules are assumptions.
--
--   stratsim compare scenarios/ai_public_first.lua scenarios/price_war.lua
local flagship = stratsim.include("ai_public_first.lua")

local war_start = 2024.0          -- assumption: the cuts start in January 2024
local rivals = { "huawei", "tencent", "others" }
local rival_floor = 0.70          -- assumption: rivals never price below 70% of 2021 list prices
local rival_start_price = 0.83    -- the rivals' public price after their 2022 cut (baseline.lua)

-- behaviour checks: the flagship's, except that a price change here deepens
-- the cut already scheduled (the second knot of Alibaba's public price)
local checks = {}
for _, c in ipairs(flagship.checks) do
  if not c.change["providers.alibaba.price.public"] then checks[#checks + 1] = c end
end
checks[#checks + 1] = { name = "a deeper public price cut gains public share",
                        change = { ["providers.alibaba.price.public#2"] = 0.75 },
                        expect = "share:alibaba:public@2028 > base" }
checks[#checks + 1] = { name = "a deeper public price cut lowers the public gross margin",
                        change = { ["providers.alibaba.price.public#2"] = 0.75 },
                        expect = "gross_margin:alibaba:public@2028 < base" }

-- policy state; reset at the first decision epoch so every run starts clean
local reference, price

return flagship:with {
  name = "price_war",
  time = { epoch = 0.25 },        -- decide every quarter
  checks = checks,
  providers = {
    alibaba = {
      price = { public = stratsim.linear{ { war_start, 1.0 },      -- assumption: list price until the war
                                          { 2025.0, 0.85 } } },    -- assumption: -15% over 2024
    },
  },
  policy = function(view)
    if view.t <= 2021.75 + 1e-9 then reference, price = {}, {} end
    if view.t < war_start then return end
    for _, r in ipairs(rivals) do
      local s = view:share(r, "public")
      reference[r] = reference[r] or s
      price[r] = price[r] or rival_start_price
      if s < reference[r] - 0.01 and price[r] * 0.95 >= rival_floor then
        price[r] = price[r] * 0.95                      -- assumption: answer with a 5% cut
        reference[r] = s                                -- and wait for the next point of loss
        view:set(r, "price", { public = price[r] })
      end
    end
  end,
  outputs = {
    alibaba_public_price = function(view) return view:get("price", "alibaba", "public") end,
    others_public_price = function(view) return view:get("price", "others", "public") end,
    rivals_public_share = function(view)
      return view:share("huawei", "public") + view:share("tencent", "public") + view:share("others", "public")
    end,
  },
}
