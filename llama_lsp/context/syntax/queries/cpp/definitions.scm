; inherits: c
; Definitions for llama_lsp.context.syntax.outline (capture conventions: see outline.py).
; C's patterns come first (inherited); these add C++ names: methods (field_identifier),
; destructors, operators and out-of-class definitions qualified by up to two scopes
; (`Foo::bar`, `ns::Foo::bar`: the last scope is the parent), reference return types,
; classes, templates and `using` aliases.

(function_definition
  declarator: [
    (function_declarator
        declarator: [
          (identifier) @name
          (field_identifier) @name
          (destructor_name) @name
          (operator_name) @name
          (qualified_identifier scope: [(namespace_identifier) @parent (template_type name: (type_identifier) @parent)] name: [(identifier) (destructor_name) (operator_name)] @name)
          (qualified_identifier
            name: (qualified_identifier scope: [(namespace_identifier) @parent (template_type name: (type_identifier) @parent)] name: [(identifier) (destructor_name) (operator_name)] @name))
        ]
        parameters: (parameter_list) @parameters)
    (_ declarator: (function_declarator
        declarator: [
          (identifier) @name
          (field_identifier) @name
          (destructor_name) @name
          (operator_name) @name
          (qualified_identifier scope: [(namespace_identifier) @parent (template_type name: (type_identifier) @parent)] name: [(identifier) (destructor_name) (operator_name)] @name)
          (qualified_identifier
            name: (qualified_identifier scope: [(namespace_identifier) @parent (template_type name: (type_identifier) @parent)] name: [(identifier) (destructor_name) (operator_name)] @name))
        ]
        parameters: (parameter_list) @parameters))
    (reference_declarator (function_declarator
        declarator: [
          (identifier) @name
          (field_identifier) @name
          (destructor_name) @name
          (operator_name) @name
          (qualified_identifier scope: [(namespace_identifier) @parent (template_type name: (type_identifier) @parent)] name: [(identifier) (destructor_name) (operator_name)] @name)
          (qualified_identifier
            name: (qualified_identifier scope: [(namespace_identifier) @parent (template_type name: (type_identifier) @parent)] name: [(identifier) (destructor_name) (operator_name)] @name))
        ]
        parameters: (parameter_list) @parameters))
  ]
  body: (_) @body) @definition.function

; Prototypes in classes and namespaces.
(field_declaration
  declarator: [
    (function_declarator
        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters)
    (_ declarator: (function_declarator
        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters))
    (reference_declarator (function_declarator
        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters))
  ]) @definition.function
(field_declaration_list
  (declaration
    declarator: [
    (function_declarator
        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters)
    (_ declarator: (function_declarator
        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters))
    (reference_declarator (function_declarator
        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters))
  ]) @definition.function)
(declaration_list
  (declaration
    declarator: [
    (function_declarator
        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters)
    (_ declarator: (function_declarator
        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters))
    (reference_declarator (function_declarator
        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters))
  ]) @definition.function)

(class_specifier name: (type_identifier) @name body: (field_declaration_list) @body) @definition.class
(class_specifier
  name: (template_type name: (type_identifier) @name)
  body: (field_declaration_list) @body) @definition.class
(struct_specifier
  name: (template_type name: (type_identifier) @name)
  body: (field_declaration_list) @body) @definition.struct
(alias_declaration name: (type_identifier) @name) @definition.type

; Parameters besides C's (inherited): references, defaults and packs.
(parameter_list
  (_ type: (_) @parameter.type
     declarator: [(reference_declarator (identifier) @parameter)
                  (identifier) @parameter
                  (_ declarator: (identifier) @parameter)
                  (_ declarator: (parenthesized_declarator (reference_declarator (identifier) @parameter)))]
     default_value: (_)? @parameter.default)) @parameters
((parameter_list
  (variadic_parameter_declaration type: (_) @parameter.type
     declarator: [(variadic_declarator (identifier) @parameter)
                  (reference_declarator (variadic_declarator (identifier) @parameter))]))
  @parameters
  (#set! parameter.kind "var_positional"))

(template_declaration (_) @wrapped .) @wrapper
(attribute_declaration) @decoration

; `static` members are not file-private (C's rule): members are public.
(field_declaration_list (function_definition) @public)
