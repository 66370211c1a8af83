;;; field-init.el --- the Emacs of tests/test_emacs_e2e.py  -*- lexical-binding: t; -*-
;; emacs -nw -q -l field-init.el FILE, in tmux. Loads the example users copy
;; (examples/editors/emacs/llama-lsp.el), then starts the server from this checkout with the
;; default settings (the demo model) behind tests/lsp_tap.py, and an Emacs server for emacsclient.

(setq inhibit-startup-screen t)
(load (getenv "LLAMA_LSP_FIELD_EXAMPLE") nil t)

(let ((python (getenv "LLAMA_LSP_FIELD_PYTHON")))
  (add-to-list 'eglot-server-programs
               `((python-mode python-ts-mode)
                 . (,python ,(getenv "LLAMA_LSP_FIELD_TAP") ,(getenv "LLAMA_LSP_FIELD_TAP_LOG")
                            "--" ,python "-m" "llama_lsp" "serve"))))
;; Default settings: no workspace configuration either.
(setq-default eglot-workspace-configuration nil)

(require 'server)
(setq server-socket-dir (getenv "LLAMA_LSP_FIELD_SOCKET_DIR"))
(server-start)

;;; field-init.el ends here
