; Identifier-like nodes for llama_lsp.context.syntax.outline.identifiers_in.
(identifier) @identifier
