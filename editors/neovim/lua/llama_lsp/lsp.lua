--- Starting the llama-lsp language server: vim.lsp.config/enable on 0.11+, vim.lsp.start before.
local state = require("llama_lsp.state")

local M = {}

local STATUS = "$/llama-lsp/status"
local SUGGESTION_READY = "$/llama-lsp/suggestionReady"

--- `settings` as a JSON object: an empty Lua table would be sent as `[]`.
---@param settings table|nil
---@return table
function M.as_object(settings)
  if settings == nil or next(settings) == nil then
    return vim.empty_dict()
  end
  return settings
end

--- Redraw every statusline now (they may show require("llama_lsp").statusline()); without this
--- a new status shows only after the next key.
local function redraw_status()
  pcall(vim.cmd, "redrawstatus!")
end

local function on_status(_, result)
  if type(result) ~= "table" then
    return
  end
  local was = state.status.state
  state.status = vim.tbl_extend("force", state.status, result)
  redraw_status()
  vim.api.nvim_exec_autocmds("User", { pattern = "LlamaLspStatus", modeline = false, data = state.status })
  if state.status.state == "ready" and was ~= "ready" then
    -- Whatever was typed while the model loaded got no suggestion: ask again now.
    require("llama_lsp.ghost").on_ready()
  end
end

local function on_suggestion_ready(_, result)
  if type(result) == "table" then
    require("llama_lsp.ghost").on_suggestion_ready(result)
  end
end

--- The client configuration for vim.lsp.config / vim.lsp.start.
---@param options table
---@return table
function M.client_config(options)
  local settings = M.as_object(options.settings)
  return {
    name = state.CLIENT_NAME,
    cmd = options.cmd,
    filetypes = options.filetypes,
    root_markers = options.root_markers,
    init_options = settings,
    settings = { ["llama-lsp"] = settings },
    handlers = { [STATUS] = on_status, [SUGGESTION_READY] = on_suggestion_ready },
    on_exit = function(code, signal)
      state.status = { state = "stopped", detail = ("server exited (code %s, signal %s)"):format(code, signal) }
      vim.schedule(redraw_status)
    end,
  }
end

local function root_dir(bufnr, markers)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local found = vim.fs.find(markers, { path = vim.fs.dirname(name), upward = true })[1]
  return found and vim.fs.dirname(found) or vim.fs.dirname(name)
end

--- Register and enable the server for options.filetypes.
---@param options table
function M.enable(options)
  local config = M.client_config(options)
  state.status = { state = "starting" }
  redraw_status()
  if vim.lsp.config and vim.lsp.enable then
    vim.lsp.config(state.CLIENT_NAME, config)
    vim.lsp.enable(state.CLIENT_NAME)
    return
  end
  local group = vim.api.nvim_create_augroup("llama_lsp_start", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = options.filetypes,
    callback = function(args)
      local start = vim.tbl_extend("force", config, { root_dir = root_dir(args.buf, options.root_markers) })
      start.filetypes, start.root_markers = nil, nil
      vim.lsp.start(start, { bufnr = args.buf })
    end,
  })
end

--- Stop every llama-lsp client and start it again on the open buffers.
function M.restart()
  local buffers = {}
  for _, client in ipairs(vim.lsp.get_clients({ name = state.CLIENT_NAME })) do
    for bufnr in pairs(client.attached_buffers) do
      buffers[#buffers + 1] = bufnr
    end
    state.call(client, "stop", true)
  end
  state.status = { state = "starting" }
  redraw_status()
  vim.defer_fn(function()
    for _, bufnr in ipairs(buffers) do
      if vim.api.nvim_buf_is_valid(bufnr) then
        vim.api.nvim_exec_autocmds("FileType", { buffer = bufnr, modeline = false })
      end
    end
  end, 500)
end

--- Push new settings to the running server (workspace/didChangeConfiguration).
---@param settings table
function M.update_settings(settings)
  settings = M.as_object(settings)
  for _, client in ipairs(vim.lsp.get_clients({ name = state.CLIENT_NAME })) do
    client.settings = { ["llama-lsp"] = settings }
    state.call(client, "notify", "workspace/didChangeConfiguration", { settings = { ["llama-lsp"] = settings } })
  end
end

return M
