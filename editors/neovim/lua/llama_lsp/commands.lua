--- :LlamaLsp subcommands: status, restart, docstring, docstrings, prompt, enable, disable.
local state = require("llama_lsp.state")

local M = {}

local SHOW_PROMPT = "llama-lsp.showPrompt"
local GENERATE_DOCSTRING = "llama-lsp.generateDocstring"
local GENERATE_DOCSTRINGS = "llama-lsp.generateDocstringsForFile"

local function notify(message, level)
  vim.notify("llama-lsp: " .. message, level or vim.log.levels.INFO)
end

--- One line describing the server: state, model, last latency and speed.
---@return string
function M.status_line()
  local status = state.status
  local parts = { status.state or "unknown" }
  if status.detail and status.detail ~= "" then
    parts[#parts + 1] = status.detail
  end
  if status.latencyMs then
    parts[#parts + 1] = ("%d ms"):format(status.latencyMs)
  end
  if status.tokensPerSecond then
    parts[#parts + 1] = ("%.0f tok/s"):format(status.tokensPerSecond)
  end
  return table.concat(parts, " · ")
end

--- Commands the attached server offers through workspace/executeCommand.
---@param client vim.lsp.Client
---@return string[]
function M.server_commands(client)
  local provider = client.server_capabilities.executeCommandProvider
  return provider and provider.commands or {}
end

--- Run a server command for the current buffer; `callback(result)` on success.
---@param command string
---@param arguments table
---@param callback fun(result: any)|nil
function M.execute(command, arguments, callback)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = state.client(bufnr)
  if not client then
    return notify("no llama-lsp server is attached to this buffer (:checkhealth llama_lsp)", vim.log.levels.WARN)
  end
  if not vim.tbl_contains(M.server_commands(client), command) then
    return notify(("this server has no %s command; update llama-lsp"):format(command), vim.log.levels.WARN)
  end
  state.call(client, "request", "workspace/executeCommand", { command = command, arguments = arguments }, function(err, result)
    if err then
      return notify(err.message or tostring(err), vim.log.levels.ERROR)
    end
    if callback then
      callback(result)
    end
  end, bufnr)
end

local function cursor_arguments()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = state.client(bufnr)
  local encoding = client and client.offset_encoding or "utf-16"
  local params = vim.lsp.util.make_position_params(0, encoding)
  return { params.textDocument.uri, params.position }
end

--- Show the exact prompt for the cursor in a scratch split.
function M.prompt()
  M.execute(SHOW_PROMPT, cursor_arguments(), function(result)
    local text = type(result) == "table" and result.text or tostring(result)
    vim.cmd("botright new")
    local bufnr = vim.api.nvim_get_current_buf()
    vim.bo[bufnr].buftype = "nofile"
    vim.bo[bufnr].bufhidden = "wipe"
    vim.bo[bufnr].swapfile = false
    vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, vim.split(text, "\n", { plain = true }))
    vim.bo[bufnr].modifiable = false
    pcall(vim.api.nvim_buf_set_name, bufnr, "llama-lsp://prompt")
  end)
end

function M.docstring()
  M.execute(GENERATE_DOCSTRING, cursor_arguments())
end

function M.docstrings()
  M.execute(GENERATE_DOCSTRINGS, { vim.uri_from_bufnr(0) })
end

--- Turn completions on or off (the server's `enabled` setting).
---@param enabled boolean
function M.set_enabled(enabled)
  local options = state.options
  if not options then
    return notify("call require('llama_lsp').setup() first", vim.log.levels.WARN)
  end
  options.settings.enabled = enabled
  require("llama_lsp.lsp").update_settings(options.settings)
  if not enabled then
    require("llama_lsp.ghost").clear()
  end
  notify("completions " .. (enabled and "enabled" or "disabled"))
end

M.subcommands = {
  status = function()
    notify(M.status_line())
  end,
  restart = function()
    require("llama_lsp.lsp").restart()
  end,
  docstring = M.docstring,
  docstrings = M.docstrings,
  prompt = M.prompt,
  enable = function()
    M.set_enabled(true)
  end,
  disable = function()
    M.set_enabled(false)
  end,
}

--- Dispatch `:LlamaLsp {subcommand}`.
---@param name string
function M.run(name)
  local subcommand = M.subcommands[name ~= "" and name or "status"]
  if not subcommand then
    local names = vim.tbl_keys(M.subcommands)
    table.sort(names)
    return notify(("unknown subcommand %q; use one of: %s"):format(name, table.concat(names, ", ")), vim.log.levels.ERROR)
  end
  subcommand()
end

return M
