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

return M
