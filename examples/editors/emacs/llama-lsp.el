;;; llama-lsp.el --- llama-lsp through eglot (Emacs 29+)  -*- lexical-binding: t; -*-
;; Suggestions come through `completion-at-point' (M-TAB, or corfu/company as a popup).
;; eglot runs one server per buffer: this replaces e.g. pylsp for these modes.

(require 'eglot)

(add-to-list 'eglot-server-programs
             `((python-mode python-ts-mode js-mode js-ts-mode typescript-ts-mode tsx-ts-mode
                go-mode go-ts-mode rust-mode rust-ts-mode java-mode java-ts-mode
                c-mode c-ts-mode c++-mode c++-ts-mode)
               . ("llama-lsp" "serve"
                  :initializationOptions
                  (:model ,(expand-file-name "~/models/qwen2.5-coder-1.5b-q8_0.gguf")
                   :maxTokens 64))))

;; Changed at run time with M-x eglot-signal-didChangeConfiguration (keys as above).
(setq-default eglot-workspace-configuration
              '(:llama-lsp (:maxTokens 64 :contextSize 4096)))

(add-hook 'python-ts-mode-hook #'eglot-ensure)
(add-hook 'python-mode-hook #'eglot-ensure)

(provide 'llama-lsp)
;;; llama-lsp.el ends here
