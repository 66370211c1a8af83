-- What both headless test scripts (e2e.lua, field.lua) need: fail with a tagged message and
-- what `report` adds, check a condition, wait for one. Load with dofile next to the script.
local M = {}

--- Helpers that print "<tag> FAILED: ..." plus `report()` on stderr and exit 1 on failure.
function M.new(tag, report)
  local h = {}

  function h.fail(message)
    io.stderr:write(tag .. " FAILED: " .. message .. "\n")
    pcall(report)
    os.exit(1)
  end

  function h.check(condition, message)
    if not condition then
      h.fail(message)
    end
    print("ok: " .. message)
  end

  --- Poll `condition` every 20 ms for up to `ms`; its last truthy value.
  function h.wait(ms, condition, what)
    local value
    if not vim.wait(ms, function()
      value = condition()
      return value
    end, 20) then
      h.fail("timed out waiting for " .. what)
    end
    return value
  end

  return h
end

return M
