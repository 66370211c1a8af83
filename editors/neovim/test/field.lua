-- Field conditions: a real Neovim (--embed --headless, field_init.lua) driven through its RPC
-- channel like a user at the keyboard. Real keys (nvim_input) from the moment the file opens,
-- while the server starts and loads the demo model, with the default time budget; then a pause.
--   nvim --headless --clean -l field.lua PLUGIN_DIR WORK_DIR PYTHON TAP TAP_LOG SOURCE LINE EXPECTED
-- SOURCE is copied to WORK_DIR with line LINE emptied after its indentation; the test types
-- `data = ` there, and the suggestion must start with EXPECTED. Exit code 0 on success. Prints NVIM_FIELD key=value figures; the caller checks
-- the tap log (every request exactly one reply).
local plugin_dir, work_dir, python, tap, tap_log, source, line_number, expected = unpack(_G.arg)
line_number = tonumber(line_number)
local TYPED = "data = "
local KEY_DELAY_MS = 60
local started = vim.uv.hrtime()
local nvim

local function elapsed_ms(since)
  return math.floor((vim.uv.hrtime() - (since or started)) / 1e6)
end

--- Run Lua in the driven Neovim and return its result.
local function lua(code, ...)
  return vim.rpcrequest(nvim, "nvim_exec_lua", code, { ... })
end

local harness = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))
local h = harness.new("NVIM_FIELD", function()
  if nvim then
    pcall(function()
      io.stderr:write("status: " .. vim.inspect(lua("return require('llama_lsp').status()")) .. "\n")
      io.stderr:write("messages: " .. vim.rpcrequest(nvim, "nvim_exec2", "messages", { output = true }).output .. "\n")
    end)
    vim.fn.jobstop(nvim)
  end
end)
local fail, check, wait = h.fail, h.check, h.wait

--- How many textDocument/inlineCompletion requests the tap has seen so far.
local function inline_requests()
  local count = 0
  for _, entry in ipairs(vim.fn.readfile(tap_log)) do
    if entry:find('"from": "client"', 1, true) and entry:find('"method": "textDocument/inlineCompletion"', 1, true) then
      count = count + 1
    end
  end
  return count
end

--- A whole suggestion, not a fragment: it starts with EXPECTED, and its first line closes every
--- bracket it opens and does not stop after an operator, a dot or a comma.
local function whole(text)
  local first = text:match("^[^\n]*")
  if first:sub(1, #expected) ~= expected or first:match("[%.,=%+%-%*/]%s*$") then
    return false
  end
  local depth = 0
  for char in first:gmatch("[%(%)%[%]{}]") do
    depth = depth + (char:match("[%(%[{]") and 1 or -1)
    if depth < 0 then
      return false
    end
  end
  return depth == 0
end

-- The file: SOURCE with line LINE emptied after its indentation.
local lines = vim.fn.readfile(source)
local indent = lines[line_number]:match("^%s*")
lines[line_number] = indent
local file = work_dir .. "/" .. vim.fs.basename(source)
vim.fn.writefile(lines, file)

nvim = vim.fn.jobstart({ vim.v.progpath, "--embed", "--headless", "--clean", "-u", plugin_dir .. "/test/field_init.lua" }, {
  rpc = true,
  cwd = work_dir,
  env = { LLAMA_LSP_FIELD_PLUGIN = plugin_dir, LLAMA_LSP_FIELD_PYTHON = python, LLAMA_LSP_FIELD_TAP = tap,
    LLAMA_LSP_FIELD_TAP_LOG = tap_log },
})
check(nvim > 0, "started Neovim")
vim.rpcrequest(nvim, "nvim_command", "edit " .. vim.fn.fnameescape(file))
check(lua("return vim.bo.filetype") == "python", "the file opened as python")

local function status()
  return lua("return require('llama_lsp').status().state")
end

local function type_keys(keys)
  for _, key in ipairs(keys) do
    vim.rpcrequest(nvim, "nvim_input", key)
    vim.wait(KEY_DELAY_MS)
  end
end

-- Type at once, key by key, as the server starts: `A` at the end of the emptied line, then TYPED
-- and rubbing it out again, until the model is loading (the server is up and answering); then
-- TYPED once more and the pause, still before the model is ready.
local typed_keys = vim.split(TYPED, "")
local rub_out = vim.split(string.rep("<BS>,", #TYPED), ",", { trimempty = true })
vim.rpcrequest(nvim, "nvim_input", line_number .. "GA")
local status_at_first_key = status()
local first_key_ms = elapsed_ms()
local rounds = 0
local round = vim.list_extend(vim.list_extend({}, typed_keys), rub_out)
while status() == "starting" and elapsed_ms() < 60000 do
  for _, key in ipairs(round) do
    type_keys({ key })
    if status() ~= "starting" then
      break
    end
  end
  rounds = rounds + 1
end
-- Back to the indentation (what is left of TYPED is rubbed out), then TYPED, in one burst: the
-- demo model loads in well under a second once its code-vocabulary copy is cached, faster than
-- 20 keys 60 ms apart, and the pause must begin while it loads.
vim.rpcrequest(nvim, "nvim_input",
  string.rep("<BS>", #lua("return vim.api.nvim_get_current_line()") - #indent) .. TYPED)
local typed_at = vim.uv.hrtime()
local status_at_pause = status()
print(("NVIM_FIELD first_key_ms=%d status_at_first_key=%s rounds=%d pause_ms=%d status_at_pause=%s"):format(
  first_key_ms, status_at_first_key, rounds, elapsed_ms(), status_at_pause))
check(status_at_first_key ~= "ready", ("typing began before the model was ready (%s)"):format(status_at_first_key))
check(status_at_pause ~= "ready", ("the pause began before the model was ready (%s)"):format(status_at_pause))
check(lua("return vim.api.nvim_get_mode().mode") == "i", "insert mode")
check(lua("return vim.api.nvim_get_current_line()") == indent .. TYPED, "the keys reached the buffer")

-- The pause: no more keys until ghost text shows. The first one shown must be whole.
local ghost = wait(180000, function()
  local text = lua("return field.ghost()")
  return text ~= "" and text
end, "ghost text after typing during the model load")
print(("NVIM_FIELD time_to_ghost_text_ms=%d ready_status=%s"):format(elapsed_ms(typed_at),
  lua("return require('llama_lsp').status().state")))
print(("NVIM_FIELD ghost=%q"):format(ghost))
check(whole(ghost), ("the first ghost text shown is a whole suggestion: %q"):format(ghost))
check(lua("return require('llama_lsp').status().state") == "ready", "the model is ready")

-- The statusline was redrawn on the status changes, without a key: it shows "ready".
local statuslines = wait(5000, function()
  local seen = lua("return field.statuslines")
  return seen[#seen] and seen[#seen]:match("^llama%-lsp: ready") and seen
end, "the statusline to show ready")
print(("NVIM_FIELD statuslines=%s"):format(table.concat(statuslines, " | ")))
check(vim.tbl_contains(lua("return field.statuses"), "ready"), "a User LlamaLspStatus autocommand said ready")

-- The minimal setup sent its (empty) settings as an object: no complaint about them.
local messages = vim.rpcrequest(nvim, "nvim_exec2", "messages", { output = true }).output
check(not messages:find("settings must be", 1, true) and not messages:find("unknown llama-lsp setting", 1, true),
  "no settings warning in :messages: " .. messages)

-- $/llama-lsp/suggestionReady (the server's notification; called here with crafted params):
-- asked again only when the cursor is still at that version and position.
vim.rpcrequest(nvim, "nvim_input", "<C-]>")
wait(5000, function() return lua("return field.ghost()") == "" end, "<C-]> to dismiss the ghost text")
local here = lua([[
  local client = require("llama_lsp.state").client(0)
  return { uri = vim.uri_from_bufnr(0), version = vim.lsp.util.buf_versions[vim.api.nvim_get_current_buf()],
    position = vim.lsp.util.make_position_params(0, client.offset_encoding).position }
]])
local function notify_ready(params)
  lua([[
    local client = require("llama_lsp.state").client(0)
    client.handlers["$/llama-lsp/suggestionReady"](nil, ..., { method = "$/llama-lsp/suggestionReady", client_id = client.id })
  ]], params)
end
local before = inline_requests()
notify_ready({ uri = here.uri, version = here.version + 1, position = here.position })
notify_ready({ uri = here.uri, version = here.version, position = { line = here.position.line, character = 0 } })
vim.wait(500)
check(inline_requests() == before and lua("return field.ghost()") == "",
  "suggestionReady for another document version or position asks nothing")
notify_ready(here)
local again = wait(60000, function()
  local text = lua("return field.ghost()")
  return text ~= "" and text
end, "ghost text after suggestionReady at the cursor")
check(whole(again) and inline_requests() == before + 1,
  ("suggestionReady at the cursor asked once and showed the suggestion again: %q"):format(again))

-- <Tab>, a real key, accepts it.
vim.rpcrequest(nvim, "nvim_input", "<Tab>")
local accepted = wait(5000, function()
  local current = lua("return vim.api.nvim_get_current_line()")
  return current ~= indent .. TYPED and current
end, "<Tab> to accept")
check(accepted == indent .. TYPED .. again:match("^[^\n]*"), ("<Tab> inserted the suggestion: %q"):format(accepted))

-- Leave: stop the client (shutdown, exit) and quit, so the tap log is complete.
vim.rpcrequest(nvim, "nvim_input", "<Esc>")
lua([[require("llama_lsp.state").client(0):stop()]])
-- The plugin's on_exit: the server process (the tap in front of it) has exited.
wait(15000, function() return status() == "stopped" end, "the server to exit")
pcall(vim.rpcrequest, nvim, "nvim_command", "qall!")
vim.fn.jobwait({ nvim }, 5000)
print(("NVIM_FIELD total_ms=%d"):format(elapsed_ms()))
os.exit(0)
