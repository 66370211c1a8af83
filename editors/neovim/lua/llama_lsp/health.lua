--- :checkhealth llama_lsp: the server command, the client, the model, the position encoding.
local state = require("llama_lsp.state")

local M = {}

function M.check()
  local health = vim.health
  health.start("llama_lsp")
  if vim.fn.has("nvim-0.10") == 0 then
    health.error("Neovim 0.10 or newer is needed (inline virtual text)")
  elseif vim.fn.has("nvim-0.11") == 0 then
    health.warn("Neovim 0.10: the server is started with vim.lsp.start (0.11+ uses vim.lsp.config)")
  else
    health.ok(("Neovim %s"):format(tostring(vim.version())))
  end
  local options = state.options
  if not options then
    health.warn("setup() was not called", { "require('llama_lsp').setup({})" })
    options = require("llama_lsp.config").merge({})
  end
  local executable = options.cmd[1]
  if vim.fn.executable(executable) == 1 then
    health.ok(("server command found: %s"):format(table.concat(options.cmd, " ")))
  else
    health.error(("server command not found: %s"):format(executable), {
      "install llama-lsp from an offline bundle (sh install.sh), a wheel "
        .. "(python3 -m pip install llama_lsp-*.whl) or a checkout (python3 -m pip install \".[demo]\" in its folder)",
      "or setup({ cmd = { '/path/to/venv/bin/llama-lsp', 'serve' } })",
    })
  end
  local ghost = require("llama_lsp.ghost")
  health.info(ghost.builtin and "ghost text: vim.lsp.inline_completion (built in)"
    or "ghost text: llama_lsp extmarks")
  local client = state.client()
  if not client then
    health.warn("no llama-lsp client is running: open a file of one of: " .. table.concat(options.filetypes, ", "))
    return
  end
  health.ok(("client %d running, position encoding %s"):format(client.id, client.offset_encoding))
  local status = state.status
  if status.state == "ready" then
    health.ok("model loaded: " .. (status.detail or "?"))
  elseif status.state == "failed" then
    health.error("model failed to load: " .. (status.detail or "?"), { "set settings.model to a .gguf file" })
  else
    health.info("model: " .. (status.state or "unknown") .. " " .. (status.detail or ""))
  end
  local commands = require("llama_lsp.commands").server_commands(client)
  health.info("server commands: " .. (#commands > 0 and table.concat(commands, ", ") or "none"))
end

return M
