--- llama-lsp for Neovim: starts the llama-lsp language server and shows its ghost text.
---
--- require("llama_lsp").setup({
---   cmd = { "llama-lsp", "serve" },
---   settings = { model = "~/models/qwen2.5-coder-1.5b-q8_0.gguf" },
--- })
local M = {}

--- Start the server for the configured filetypes and set up ghost text and keymaps.
---@param opts table|nil see lua/llama_lsp/config.lua for the defaults
---@return table the options in effect
function M.setup(opts)
  local state = require("llama_lsp.state")
  local options = require("llama_lsp.config").merge(opts)
  if options.settings.model then
    options.settings.model = vim.fn.expand(options.settings.model)
  end
  state.options = options
  require("llama_lsp.lsp").enable(options)
  require("llama_lsp.ghost").setup(options)
  return options
end

--- The last $/llama-lsp/status from the server ({state, detail, latencyMs, tokensPerSecond, ...}).
---@return table
function M.status()
  return require("llama_lsp.state").status
end

--- A short status for a statusline: "llama-lsp: ready · 120 ms".
---@return string
function M.statusline()
  return "llama-lsp: " .. require("llama_lsp.commands").status_line()
end

return M
