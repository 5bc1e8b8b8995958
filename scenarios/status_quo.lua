-- scenarios/status_quo.lua - no change of strategy: Alibaba Cloud keeps the
-- 2022-2023 course (investment tilted towards project-based private cloud)
-- through 2030, against rivals whose 2022-2023 price cuts and capacity push
-- drove its IDC public-cloud share from 37.8% to 29.9% (seed).
--
-- This is the calibrated baseline under its own name, so that a comparison
-- reads "status_quo vs ai_public_first":
--     stratsim compare scenarios/status_quo.lua scenarios/ai_public_first.lua
-- Every number (seed or assumption) is documented in baseline.lua.
return stratsim.include("baseline.lua"):with { name = "status_quo" }
