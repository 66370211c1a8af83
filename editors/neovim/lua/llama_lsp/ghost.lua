--- Ghost text: textDocument/inlineCompletion after a debounce, shown as extmarks, accepted by keys.
--- Neovim 0.12+ has vim.lsp.inline_completion; then that is used instead (see setup()).
local state = require("llama_lsp.state")

local M = {}

M.ns = vim.api.nvim_create_namespace("llama_lsp_ghost")
---@type table<integer, {row: integer, col: integer, text: string, tick: integer}>
local shown = {}
---@type table<integer, uv.uv_timer_t>
local timers = {}
---@type table<integer, {client: vim.lsp.Client, id: integer}>
local pending = {}
local options = { debounce_ms = 75, hl_group = "LlamaLspGhostText" }

--- True when Neovim's own inline completion is used instead of this module's ghost text.
M.builtin = false

--- Remove the ghost text of a buffer.
---@param bufnr integer|nil
function M.clear(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
  shown[bufnr] = nil
end

--- Show `text` as ghost text at (row, col) (0-based row, byte column).
function M.render(bufnr, row, col, text)
  M.clear(bufnr)
  if text == "" then
    return
  end
  local lines = vim.split(text, "\n", { plain = true })
  local mark = {
    virt_text = { { lines[1], options.hl_group } },
    virt_text_pos = "inline",
    hl_mode = "combine",
  }
  if #lines > 1 then
    mark.virt_lines = vim.tbl_map(function(line)
      return { { line, options.hl_group } }
    end, vim.list_slice(lines, 2))
  end
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, row, col, mark)
  shown[bufnr] = { row = row, col = col, text = text, tick = vim.api.nvim_buf_get_changedtick(bufnr) }
end

--- The ghost text shown in a buffer, if it is still where the cursor is.
---@param bufnr integer|nil
---@return {row: integer, col: integer, text: string, tick: integer}|nil
function M.current(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local ghost = shown[bufnr]
  if not ghost or ghost.tick ~= vim.api.nvim_buf_get_changedtick(bufnr) then
    return nil
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  if cursor[1] - 1 ~= ghost.row or cursor[2] ~= ghost.col then
    return nil
  end
  return ghost
end

local function byte_column(line, character, encoding)
  local ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  if ok then
    return col
  end
  return vim.str_byteindex(line, character, encoding == "utf-16")
end

--- The text to show after the cursor for one inline completion item (nil when it does not fit).
local function text_after_cursor(item, line, col, encoding)
  local text = item.insertText
  if type(text) == "table" then
    text = text.value -- a snippet: shown as is
  end
  if type(text) ~= "string" then
    return nil
  end
  local range = item.range
  if range and range.start.line == range["end"].line and range.start.character ~= range["end"].character then
    local start = byte_column(line, range.start.character, encoding)
    local typed = line:sub(start + 1, col)
    if text:sub(1, #typed) ~= typed then
      return nil
    end
    text = text:sub(#typed + 1)
  end
  return text
end

--- Cancel the buffer's request in flight, if any.
---@param bufnr integer
local function cancel_pending(bufnr)
  local previous = pending[bufnr]
  if previous then
    state.call(previous.client, "cancel_request", previous.id)
    pending[bufnr] = nil
  end
end

--- Ask the server for ghost text at the cursor of the current window (no debounce).
---@param bufnr integer|nil
---@param on_done fun(text: string|nil)|nil called with what was shown (nil: nothing)
---@param invoked boolean|nil the user asked explicitly: the server compares more candidates
function M.request(bufnr, on_done, invoked)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = state.client(bufnr)
  if not client then
    return on_done and on_done(nil)
  end
  cancel_pending(bufnr)
  local win = vim.api.nvim_get_current_win()
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  params.context = { triggerKind = invoked and 1 or 2 } -- Invoked or Automatic
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local cursor = vim.api.nvim_win_get_cursor(win)
  local ok, id = state.call(client, "request", "textDocument/inlineCompletion", params, function(err, result)
    pending[bufnr] = nil
    local still_here = vim.api.nvim_buf_is_valid(bufnr)
      and vim.api.nvim_buf_get_changedtick(bufnr) == tick
      and vim.api.nvim_get_current_buf() == bufnr
      and vim.deep_equal(vim.api.nvim_win_get_cursor(0), cursor)
    if err or not result or not still_here then
      return on_done and on_done(nil)
    end
    local items = result.items or result
    local line = vim.api.nvim_buf_get_lines(bufnr, cursor[1] - 1, cursor[1], false)[1] or ""
    local text = items[1] and text_after_cursor(items[1], line, cursor[2], client.offset_encoding)
    if text and text ~= "" then
      M.render(bufnr, cursor[1] - 1, cursor[2], text)
    else
      M.clear(bufnr)
      text = nil
    end
    return on_done and on_done(text)
  end, bufnr)
  if ok and id then
    pending[bufnr] = { client = client, id = id }
  end
end

--- Request ghost text once typing pauses for debounce_ms (called on TextChangedI).
---@param bufnr integer
function M.schedule(bufnr)
  M.clear(bufnr)
  local timer = timers[bufnr]
  if not timer then
    timer = assert(vim.uv.new_timer())
    timers[bufnr] = timer
  end
  timer:stop()
  timer:start(options.debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_get_current_buf() == bufnr then
      M.request(bufnr)
    end
  end))
end

--- Stop a scheduled request and cancel the one in flight (leaving insert mode or the buffer).
---@param bufnr integer
function M.cancel(bufnr)
  if timers[bufnr] then
    timers[bufnr]:stop()
  end
  cancel_pending(bufnr)
end

local function in_insert_mode()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == "i"
end

--- True when this module asks for ghost text (not the built-in inline completion, not disabled).
local function asking()
  local settings = state.options and state.options.settings or {}
  return options.enabled and not M.builtin and settings.enabled ~= false
end

--- The model became ready: in insert mode, ask for the suggestion that typing during the load
--- could not get.
function M.on_ready()
  local bufnr = vim.api.nvim_get_current_buf()
  if asking() and in_insert_mode() and state.client(bufnr) and not M.current(bufnr) then
    M.request(bufnr)
  end
end

--- True when `params` ($/llama-lsp/suggestionReady: uri, version, position) names the current
--- buffer's version and the cursor of the current window.
---@param params {uri: string, version: integer, position: {line: integer, character: integer}}
---@param bufnr integer
---@param client vim.lsp.Client
---@return boolean
function M.is_here(params, bufnr, client)
  if type(params.uri) ~= "string" or type(params.position) ~= "table" then
    return false
  end
  if vim.uri_to_fname(params.uri) ~= vim.uri_to_fname(vim.uri_from_bufnr(bufnr)) then
    return false
  end
  local version = vim.lsp.util.buf_versions[bufnr]
  if version == nil or params.version ~= version then
    return false
  end
  local position = vim.lsp.util.make_position_params(0, client.offset_encoding).position
  return position.line == params.position.line and position.character == params.position.character
end

--- The server finished in the background a suggestion it could not give in time: when the
--- cursor is still there (same document version and position), ask again and show it.
---@param params table
function M.on_suggestion_ready(params)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = state.client(bufnr)
  if asking() and client and in_insert_mode() and not M.current(bufnr) and M.is_here(params, bufnr, client) then
    M.request(bufnr)
  end
end

--- The part of `text` that one accept of `kind` inserts ("all", "line" or "word").
---@param text string
---@param kind "all"|"line"|"word"
---@return string
function M.part(text, kind)
  if kind == "line" then
    local first = text:match("^[^\n]+")
    if first then
      return first
    end
    return text:match("^\n[^\n]*") or text
  elseif kind == "word" then
    return text:match("^%s*[%w_]+") or text:match("^%s*[^%w_%s]+") or text:match("^%s+") or text
  end
  return text
end

--- Insert all of the ghost text, its first line or its first word; the rest stays shown.
---@param kind "all"|"line"|"word"|nil
---@return boolean accepted false when no ghost text is at the cursor
function M.accept(kind)
  local bufnr = vim.api.nvim_get_current_buf()
  local ghost = M.current(bufnr)
  if not ghost then
    return false
  end
  local part = M.part(ghost.text, kind or "all")
  local lines = vim.split(part, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, ghost.row, ghost.col, ghost.row, ghost.col, lines)
  local row = ghost.row + #lines - 1
  local col = #lines == 1 and ghost.col + #lines[1] or #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  local rest = ghost.text:sub(#part + 1)
  if rest ~= "" then
    M.render(bufnr, row, col, rest)
  else
    M.clear(bufnr)
  end
  return true
end

--- Dismiss the ghost text; false when there was none.
---@return boolean
function M.dismiss()
  local bufnr = vim.api.nvim_get_current_buf()
  local had = shown[bufnr] ~= nil
  M.clear(bufnr)
  return had
end

local function map(lhs, action)
  if not lhs then
    return
  end
  vim.keymap.set("i", lhs, function()
    if not action() then
      vim.api.nvim_feedkeys(vim.keycode(lhs), "n", false)
    end
  end, { desc = "llama-lsp ghost text" })
end

local function setup_builtin(keymaps)
  M.builtin = true
  vim.lsp.inline_completion.enable(true)
  map(keymaps.accept, function()
    return vim.lsp.inline_completion.get() and true or false
  end)
end

--- Autocommands and keymaps for ghost text.
---@param opts table the plugin's options (ghost_text and keymaps)
function M.setup(opts)
  options = vim.tbl_extend("force", options, opts.ghost_text or {})
  vim.api.nvim_set_hl(0, "LlamaLspGhostText", { link = "Comment", default = true })
  if not options.enabled then
    return
  end
  if options.use_builtin and vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    return setup_builtin(opts.keymaps or {})
  end
  local group = vim.api.nvim_create_augroup("llama_lsp_ghost", { clear = true })
  vim.api.nvim_create_autocmd("TextChangedI", {
    group = group,
    callback = function(args)
      -- After a partial accept the rest is already shown at the cursor: keep it.
      if state.client(args.buf) and not M.current(args.buf) then
        M.schedule(args.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    callback = function(args)
      M.cancel(args.buf)
      M.clear(args.buf)
    end,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    callback = function(args)
      if shown[args.buf] and not M.current(args.buf) then
        M.clear(args.buf)
      end
    end,
  })
  local keymaps = opts.keymaps or {}
  map(keymaps.accept, function() return M.accept("all") end)
  map(keymaps.accept_line, function() return M.accept("line") end)
  map(keymaps.accept_word, function() return M.accept("word") end)
  map(keymaps.dismiss, M.dismiss)
  map(keymaps.suggest, function()
    M.cancel(vim.api.nvim_get_current_buf())
    M.request(nil, nil, true)
    return true
  end)
end

return M
