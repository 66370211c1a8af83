//! Starts `llama-lsp serve` from PATH (or `lsp.llama-lsp.binary.path` in settings.json) and
//! passes `lsp.llama-lsp.initialization_options` through.
use zed_extension_api::{self as zed, serde_json, settings::LspSettings};

struct LlamaLspExtension;

impl zed::Extension for LlamaLspExtension {
    fn new() -> Self {
        Self
    }

    fn language_server_command(
        &mut self,
        language_server_id: &zed::LanguageServerId,
        worktree: &zed::Worktree,
    ) -> zed::Result<zed::Command> {
        let configured = LspSettings::for_worktree(language_server_id.as_ref(), worktree)
            .ok()
            .and_then(|settings| settings.binary)
            .and_then(|binary| binary.path);
        let Some(path) = configured.or_else(|| worktree.which("llama-lsp")) else {
            return Err("llama-lsp is not on PATH: install it from a bundle (sh install.sh), a wheel \
                        (pip install llama_lsp-*.whl) or a checkout (pip install \".[demo]\"), or set \
                        lsp.llama-lsp.binary.path in settings.json"
                .into());
        };
        Ok(zed::Command { command: path, args: vec!["serve".into()], env: Default::default() })
    }

    fn language_server_initialization_options(
        &mut self,
        language_server_id: &zed::LanguageServerId,
        worktree: &zed::Worktree,
    ) -> zed::Result<Option<serde_json::Value>> {
        Ok(LspSettings::for_worktree(language_server_id.as_ref(), worktree)
            .ok()
            .and_then(|settings| settings.initialization_options))
    }
}

zed::register_extension!(LlamaLspExtension);
