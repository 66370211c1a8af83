-- Headless end-to-end test of the plugin in a real Neovim:
--   nvim --headless --clean -l e2e.lua PLUGIN_DIR WORK_DIR MODEL MODE [PYTHON]
-- MODE "ghost": ghost text extmarks after typing, accept word/all, :LlamaLsp prompt, :checkhealth.
-- MODE "docstring": :LlamaLsp docstring adds a docstring (exit 77 when the server lacks the command).
-- Exit code 0 on success, 1 on failure. Prints NVIM_E2E key=value figures.
local plugin_dir, work_dir, model, mode, python = unpack(_G.arg)
python = python or "python3"
local started = vim.uv.hrtime()

local function elapsed_ms(since)
  return math.floor((vim.uv.hrtime() - since) / 1e6)
end

local harness = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))
local h = harness.new("NVIM_E2E", function()
  io.stderr:write("status: " .. vim.inspect(require("llama_lsp").status()) .. "\n")
end)
local fail, check, wait = h.fail, h.check, h.wait

vim.opt.rtp:prepend(plugin_dir)
vim.cmd.runtime("plugin/llama_lsp.lua")
local llama = require("llama_lsp")
llama.setup({
  cmd = { python, "-m", "llama_lsp", "serve" },
  -- 4096: the docstring prompt (worked example + code) and its JSON answer must both fit.
  settings = { model = model ~= "" and model or nil, contextSize = 4096, threads = 1 },
  ghost_text = { debounce_ms = 30 },
})

local file = work_dir .. "/app.py"
local lines = mode == "docstring"
    and { "def add(a, b):", "    return a + b", "" }
    or { "def main():", "    value = ", "" }
vim.fn.writefile(lines, file)
vim.cmd.edit(file)
vim.bo.filetype = "python"
local bufnr = vim.api.nvim_get_current_buf()

wait(60000, function()
  return require("llama_lsp.state").client(bufnr) ~= nil and llama.status().state == "ready"
end, "the server and its model")
local client = require("llama_lsp.state").client(bufnr)
print(("NVIM_E2E ready_ms=%d encoding=%s"):format(elapsed_ms(started), client.offset_encoding))

if mode == "docstring" then
  local commands = require("llama_lsp.commands").server_commands(client)
  if not vim.tbl_contains(commands, "llama-lsp.generateDocstring") then
    print("skip: the server has no llama-lsp.generateDocstring command")
    os.exit(77)
  end
  vim.api.nvim_win_set_cursor(0, { 1, 4 })
  vim.cmd("LlamaLsp docstring")
  wait(120000, function()
    return #vim.api.nvim_buf_get_lines(bufnr, 0, -1, false) > #lines
  end, "the docstring edit")
  local text = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
  check(text:match('^def add%(a, b%):\n%s+"""') ~= nil and text:find("return a %+ b") ~= nil,
    "a docstring was inserted under the def line, the body kept:\n" .. text)
  os.exit(0)
end

-- Type: the cursor after `    value = ` and a change, as insert mode reports it; the plugin's
-- TextChangedI autocommand debounces, then asks for textDocument/inlineCompletion. (`nvim -l`
-- never enters insert mode: the script runs before the input loop.)
-- In insert mode the cursor can stand after the last character; in normal mode only with:
vim.o.virtualedit = "onemore"
vim.api.nvim_win_set_cursor(0, { 2, 12 })
local typed_at = vim.uv.hrtime()
vim.api.nvim_exec_autocmds("TextChangedI", { buffer = bufnr, modeline = false })
local ghost = require("llama_lsp.ghost")
wait(60000, function()
  return #vim.api.nvim_buf_get_extmarks(bufnr, ghost.ns, 0, -1, {}) > 0
end, "ghost text extmarks")
print(("NVIM_E2E time_to_ghost_text_ms=%d"):format(elapsed_ms(typed_at)))

local marks = vim.api.nvim_buf_get_extmarks(bufnr, ghost.ns, 0, -1, { details = true })
local row, col, details = marks[1][2], marks[1][3], marks[1][4]
local shown = details.virt_text[1][1]
check(row == 1 and col == 12, ("ghost text is at the cursor (row %d col %d)"):format(row, col))
check(shown:match("^x+$") ~= nil, ("ghost text is the model's suggestion: %q"):format(shown))
check(details.virt_text_pos == "inline" and details.virt_text[1][2] == "LlamaLspGhostText",
  "rendered inline with the LlamaLspGhostText highlight")

-- Accept a word (the constant model's "xxx…" is one word), then everything: the text lands in
-- the buffer and the cursor after it.
check(ghost.accept("word"), "accept word")
local line = vim.api.nvim_buf_get_lines(bufnr, 1, 2, false)[1]
check(line == "    value = " .. shown, ("the word was inserted: %q"):format(line))
check(vim.api.nvim_win_get_cursor(0)[2] == #line, "the cursor is after the inserted text")
check(not ghost.accept("all"), "nothing left to accept after the whole word")

-- Partial accepts of a known multi-line suggestion: the rest stays shown at the new cursor.
check(ghost.part("foo(bar)\n    baz", "word") == "foo" and ghost.part("(bar)", "word") == "("
  and ghost.part("foo(bar)\nbaz", "line") == "foo(bar)" and ghost.part("\n    baz\nq", "line") == "\n    baz",
  "accept word / line split the suggestion")
vim.api.nvim_buf_set_lines(bufnr, 1, 2, false, { "    value = " })
vim.api.nvim_win_set_cursor(0, { 2, 12 })
ghost.render(bufnr, 1, 12, "compute(a)\n    return value")
check(ghost.accept("line"), "accept line")
check(vim.api.nvim_buf_get_lines(bufnr, 1, 2, false)[1] == "    value = compute(a)"
  and ghost.current(bufnr).text == "\n    return value", "the first line was inserted, the rest is still shown")
check(#vim.api.nvim_buf_get_extmarks(bufnr, ghost.ns, 0, -1, {}) == 1, "one extmark for the rest")
check(ghost.accept("line") and vim.api.nvim_buf_get_lines(bufnr, 2, 3, false)[1] == "    return value",
  "accepting the next line adds it below")

-- Dismiss, then the keymap path: request again and accept with <Tab> (typed through feedkeys).
vim.api.nvim_buf_set_lines(bufnr, 1, 2, false, { "    value = " })
vim.api.nvim_win_set_cursor(0, { 2, 12 })
local got
ghost.request(bufnr, function(text)
  got = text or false
end)
wait(60000, function()
  return got ~= nil
end, "a second suggestion")
check(got and ghost.current(bufnr) ~= nil, "the plugin's request shows ghost text")
check(ghost.dismiss() and #vim.api.nvim_buf_get_extmarks(bufnr, ghost.ns, 0, -1, {}) == 0, "dismiss clears it")
-- An explicit request (what the suggest keymap sends: trigger kind Invoked) shows ghost text too.
got = nil
ghost.request(bufnr, function(text)
  got = text or false
end, true)
wait(60000, function()
  return got ~= nil
end, "an invoked suggestion")
check(got and ghost.current(bufnr) ~= nil, "an invoked request shows ghost text")
check(vim.fn.maparg("<M-\\>", "i") ~= "", "the suggest keymap is set")
check(ghost.dismiss(), "dismiss the invoked suggestion")
got = nil
ghost.request(bufnr, function(text)
  got = text or false
end)
wait(60000, function()
  return got ~= nil
end, "a third suggestion")
local tab = vim.fn.maparg("<Tab>", "i", false, true)
check(tab.desc == "llama-lsp ghost text" and type(tab.callback) == "function", "<Tab> is mapped in insert mode")
tab.callback()
line = vim.api.nvim_buf_get_lines(bufnr, 1, 2, false)[1]
check(line == "    value = " .. got, ("<Tab> accepted the ghost text: %q"):format(line))

-- :LlamaLsp prompt opens the exact prompt; :LlamaLsp status; :checkhealth llama_lsp.
vim.cmd("LlamaLsp prompt")
wait(30000, function()
  return vim.api.nvim_buf_get_name(0):match("llama%-lsp://prompt") ~= nil
end, "the prompt buffer")
local prompt = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
check(prompt:match("^%-%-%- prompt for ") ~= nil and prompt:find("def main():", 1, true) ~= nil,
  "the prompt buffer shows the prompt")
vim.cmd("close")
check(require("llama_lsp.commands").status_line():match("^ready") ~= nil, ":LlamaLsp status says ready")
vim.cmd("checkhealth llama_lsp")
local health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
check(health:find("OK server command found", 1, true) ~= nil and health:find("OK model loaded", 1, true) ~= nil
  and health:find("position encoding", 1, true) ~= nil, "checkhealth reports server, model and encoding")
-- :LlamaLsp restart: a new client attaches to the buffer and its model becomes ready again.
vim.cmd.buffer(bufnr)
vim.cmd("LlamaLsp restart")
wait(60000, function()
  local again = require("llama_lsp.state").client(bufnr)
  return again ~= nil and again.id ~= client.id and llama.status().state == "ready"
end, "the restarted server")
check(client:is_stopped(), ":LlamaLsp restart replaced the client")
client = require("llama_lsp.state").client(bufnr)
print(("NVIM_E2E total_ms=%d"):format(elapsed_ms(started)))
client:stop()
vim.wait(5000, function()
  return client:is_stopped()
end, 20)
os.exit(0)
