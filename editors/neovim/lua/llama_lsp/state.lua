--- What the plugin knows at run time: options, the last server status.
local M = {
  ---@type table|nil options after setup()
  options = nil,
  ---@type table last $/llama-lsp/status payload (merged: latency fields persist)
  status = { state = "not-started" },
}

M.CLIENT_NAME = "llama_lsp"

--- The llama-lsp client attached to a buffer (or any llama-lsp client when bufnr is nil).
---@param bufnr integer|nil
---@return vim.lsp.Client|nil
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = M.CLIENT_NAME, bufnr = bufnr })
  return clients[1]
end

local method_calls = vim.fn.has("nvim-0.11") == 1

--- Call a client method: `client:name(...)` on 0.11+, `client.name(...)` on 0.10.
---@param client vim.lsp.Client
---@param name "request"|"notify"|"cancel_request"|"stop"|"is_stopped"
function M.call(client, name, ...)
  if method_calls then
    return client[name](client, ...)
  end
  return client[name](...)
end

return M
