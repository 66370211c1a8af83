-- Neovim 0.11+: llama-lsp against the team's vLLM server (TEAM_LLM_KEY set in the shell).
vim.lsp.config("llama_lsp", {
  cmd = { "llama-lsp", "serve" },
  filetypes = { "python", "javascript", "typescript", "go", "rust", "java", "c", "cpp" },
  init_options = {
    backend = "openai",
    endpoint = "https://llm.corp.example:8000/v1",
    remoteModel = "Qwen/Qwen2.5-Coder-7B",
    fimTemplate = "qwen",
    apiKeyEnv = "TEAM_LLM_KEY",
    contextSize = 8192,
  },
})
vim.lsp.enable("llama_lsp")
