-- stopping the collector (CVE-2024-46981)
-- expect: 1 sandbox_collectgarbage.lua:3: collectgarbage('stop') is not available in the sandbox (only 'count')
collectgarbage("stop")
