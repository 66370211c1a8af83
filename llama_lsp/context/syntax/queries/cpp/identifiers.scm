; inherits: c
; Identifier-like nodes for llama_lsp.context.syntax.outline.identifiers_in.
(namespace_identifier) @identifier
