-- scenarios/adaptive_policy.lua - an adaptive strategy: the baseline market,
-- with Alibaba reacting to its own public-cloud share instead of following a
-- fixed plan.
--
-- What it demonstrates: a `policy` function (called at every decision epoch,
-- here every quarter) that reads the state through its view and changes
-- schedules with view:set, and `outputs` (derived metrics) that add columns
-- to the CSV and rows to the summary.
--
-- The rule: "if our public-cloud share falls below 28%, move 10 points of
-- allocation from private to public and cut the public price by 5%" - once.
-- (assumption: the 28% trigger, the 10 points and the 5% cut are illustrative
-- sizes, not from the seed.)
--
-- The policy is stateless on purpose: "once" is read from the schedule
-- itself (the public price is still the baseline's 1.0), not kept in a Lua
-- variable, because a scenario may be run many times (Monte Carlo, the REPL)
-- and an upvalue would remember the first run.
--
-- The market is baseline.lua's (stratsim.include); this file states only
-- what differs, and a test checks that it equals the baseline until the
-- policy fires.

local base = stratsim.include("baseline.lua")

local TRIGGER = 0.28   -- assumption: the share at which management reacts
local SHIFT = 0.10     -- assumption: 10 points of allocation, private -> public
local PRICE_CUT = 0.95 -- assumption: a 5% public price cut

-- Called every quarter (time.epoch defaults to time.step) after that
-- quarter's events, before its outputs are recorded.
local function react(view)
  local price = view:get("price", "alibaba", "public")
  if price < 1 or view:share("alibaba", "public") >= TRIGGER then
    return -- already reacted, or no need to
  end
  local pub = view:get("allocation", "alibaba", "public")
  local priv = view:get("allocation", "alibaba", "private")
  local moved = math.min(SHIFT, priv)
  view:set("alibaba", "allocation", { public = pub + moved, private = priv - moved })
  view:set("alibaba", "price", { public = price * PRICE_CUT })
end

return base:with {
  name = "adaptive_policy",
  policy = react,
  outputs = {
    -- Alibaba's share of the whole cloud market (all three segments)
    alibaba_total_share = function(view)
      local total = view:size("public") + view:size("private") + view:size("ai")
      return view:revenue("alibaba") / total
    end,
    -- Alibaba's public list price: 1 until the policy fires, then 0.95
    alibaba_public_price = function(view)
      return view:get("price", "alibaba", "public")
    end,
  },
}
