--- Defaults for require("llama_lsp").setup({...}) and how options are merged.
local M = {}

M.defaults = {
  -- Command that starts the server (stdio). With a virtualenv: { "/path/venv/bin/llama-lsp", "serve" }.
  cmd = { "llama-lsp", "serve" },
  -- Filetypes the server attaches to.
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
    "go", "rust", "java", "c", "cpp", "lua", "sh",
  },
  -- Server options (keys: docs/configuration.md), sent as initializationOptions
  -- and as the "llama-lsp" section of workspace/configuration.
  settings = {},
  -- Project root markers; the file's folder when none is found.
  root_markers = { ".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml", "pom.xml" },
  ghost_text = {
    enabled = true,
    -- Wait this long after the last change in insert mode before asking the server.
    debounce_ms = 75,
    -- Highlight group of the ghost text (LlamaLspGhostText links to Comment unless you set it).
    hl_group = "LlamaLspGhostText",
    -- Use Neovim's own inline completion (vim.lsp.inline_completion, 0.12+) when it exists.
    use_builtin = true,
  },
  -- Insert-mode keymaps (false disables one).
  keymaps = {
    accept = "<Tab>",
    accept_line = "<C-l>",
    accept_word = "<C-Right>",
    dismiss = "<C-]>",
    -- Ask for a suggestion now; the server compares more candidates (a few seconds on a CPU).
    suggest = "<M-\\>",
  },
}

--- Deep-merge user options over the defaults (lists such as cmd are replaced, not merged).
---@param opts table|nil
---@return table
function M.merge(opts)
  return vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
end

return M
