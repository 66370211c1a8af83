-- :LlamaLsp status|restart|docstring|docstrings|prompt|enable|disable
-- (the server itself starts with require("llama_lsp").setup({...})).
if vim.g.loaded_llama_lsp then
  return
end
vim.g.loaded_llama_lsp = true

vim.api.nvim_create_user_command("LlamaLsp", function(args)
  require("llama_lsp.commands").run(args.args)
end, {
  nargs = "?",
  desc = "llama-lsp: status, restart, docstring, docstrings, prompt, enable, disable",
  complete = function(lead)
    local names = vim.tbl_keys(require("llama_lsp.commands").subcommands)
    table.sort(names)
    return vim.tbl_filter(function(name)
      return name:sub(1, #lead) == lead
    end, names)
  end,
})
