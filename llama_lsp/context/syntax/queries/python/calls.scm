; Calls for llama_lsp.context.callee: `@call.name` is the called name, `@call.arguments` its
; bracketed arguments; `@call.member` marks a call through an attribute (`x.f(`).

(call
  function: [(identifier) @call.name
             (attribute attribute: (identifier) @call.name) @call.member]
  arguments: (argument_list) @call.arguments)
