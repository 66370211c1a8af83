-- init.lua of the Neovim that field.lua drives (nvim --embed --headless --clean -u field_init.lua).
-- The documented minimal setup (no settings: the demo model, the default time budget), the
-- server started through the tap (tests/lsp_tap.py), and a statusline that records what it shows.
local env = vim.env
vim.opt.rtp:prepend(env.LLAMA_LSP_FIELD_PLUGIN)
vim.cmd.runtime("plugin/llama_lsp.lua")

_G.field = { statuslines = {}, statuses = {} }

--- The statusline: llama-lsp's status, recorded each time Neovim draws it.
function _G.field.statusline()
  local text = require("llama_lsp").statusline()
  local seen = _G.field.statuslines
  if seen[#seen] ~= text then
    seen[#seen + 1] = text
  end
  return text
end

vim.o.laststatus = 2
vim.o.statusline = "%{v:lua.field.statusline()}"
vim.api.nvim_create_autocmd("User", {
  pattern = "LlamaLspStatus",
  callback = function(args)
    table.insert(_G.field.statuses, args.data and args.data.state or "?")
  end,
})

local python = env.LLAMA_LSP_FIELD_PYTHON
require("llama_lsp").setup({
  cmd = { python, env.LLAMA_LSP_FIELD_TAP, env.LLAMA_LSP_FIELD_TAP_LOG, "--", python, "-m", "llama_lsp", "serve" },
})

--- The ghost text shown in the current buffer ("" when none), all lines joined by "\n".
function _G.field.ghost()
  local ns = require("llama_lsp.ghost").ns
  local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
  if #marks == 0 then
    return ""
  end
  local details = marks[1][4]
  local lines = { table.concat(vim.tbl_map(function(chunk) return chunk[1] end, details.virt_text or {})) }
  for _, line in ipairs(details.virt_lines or {}) do
    lines[#lines + 1] = table.concat(vim.tbl_map(function(chunk) return chunk[1] end, line))
  end
  return table.concat(lines, "\n")
end
