"""Secret values out of every prompt: the one redactor all prompt text passes through.

A secret value becomes a marker such as ``<redacted:aws-secret>``; the code around it stays,
so the model still sees that a key is assigned there. What is found:

- known token formats: AWS access key ids, GitHub, GitLab, Slack, Stripe and Google keys and
  tokens, JSON web tokens, private key blocks (``-----BEGIN ... PRIVATE KEY-----``);
- the password in a URL (``scheme://user:PASSWORD@host``);
- a literal assigned to (or compared with, or passed as) a name that ends in password,
  secret, token, api key, access key, private key, credential(s) or passphrase;
- other long literals that look random (high Shannon entropy, mixed character classes).

Why a small rule set rather than a maintained detector: ``detect-secrets`` 1.5 costs about
0.4 ms per line (median; a few ms at p95) and more than a second for a 2,000-line file,
against a budget of 1 ms per keystroke; it also depends on ``requests`` (``bench/context.py``
measures it when it is installed).

The keystroke path stays cheap: text is redacted line by line and each line's result is
cached, so a keystroke re-scans only the lines it changed. The result depends on the text
alone (same input, same output), so the prompt prefix, and the model's KV cache with it,
stays stable. Redaction changes the prompt, never the document: completions are still
inserted at the cursor of the real text.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

MARKER_START = "<redacted:"
_MARKER = re.compile(r"<redacted:([a-z0-9-]+)>")
LINE_CACHE_SIZE = 16384
"""Lines whose redaction is remembered (a few open files' worth)."""


def marker(kind: str) -> str:
    """The text that stands in a prompt for a secret of ``kind``."""
    return f"{MARKER_START}{kind}>"


@dataclass(frozen=True)
class Redacted:
    """Text with its secret values replaced, what was replaced (kind, original value) in text
    order, and how many of each kind."""

    text: str
    found: tuple[tuple[str, str], ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)


# Known token formats: (kind, pattern). The whole match is the secret.
_TOKENS: tuple[tuple[str, str], ...] = (
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    ("aws-access-key-id", r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
    ("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})"),
    ("gitlab-token", r"\bgl(?:pat|dt|rt|ptt|cbt|imt|oas|soat|ft|agent)-[A-Za-z0-9_-]{20,}"),
    ("slack-token", r"\bxox[abeposr]-[A-Za-z0-9-]{10,}"),
    ("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]+"),
    ("stripe-key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9]{16,}"),
    ("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("google-oauth", r"\bGOCSPX-[A-Za-z0-9_-]{20,}|\bya29\.[0-9A-Za-z_-]{20,}"),
)
_TOKEN_RE = re.compile("|".join(f"(?P<t{i}>{pattern})" for i, (_, pattern) in
                                 enumerate(_TOKENS)))

# Secrets inside a larger match: (kind, pattern with a group named ``secret``).
_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # scheme://user:password@host
    ("url-password", re.compile(
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@\"'`<>]*:(?P<secret>[^\s@/\"'`<>]+)@")),
    # an Authorization header's credentials
    ("bearer-token", re.compile(r"\b(?:Bearer|Basic|Token)\s+(?P<secret>[A-Za-z0-9._~+/-]{16,}=*)")),
)

# NAME (= | : | := | => | == | ( ...) VALUE, where NAME ends in a secret-bearing word.
_NAME_WORDS = (r"pass(?:word|wd|phrase)?|pwd|secret(?:[_-]?key)?|token|api[_-]?key|apikey|"
               r"access[_-]?key(?:[_-]?id)?|private[_-]?key|auth[_-]?key|credentials?")
_QUOTED = r"(?P<q>[\"'`])(?P<quoted>(?:\\.|(?!(?P=q)).){1,400}?)(?P=q)"
_UNQUOTED = r"(?P<bare>[^\s\"'`,;(){}\[\]<>#]{4,400})"
_ASSIGNMENT_RE = re.compile(  # from the name's last word on; the name is read backwards
    r"(?P<word>" + _NAME_WORDS + r")[\"']?(?![\w$-])"
    r"\s*(?P<op>:\s*[^=\n;\"'`()]{1,60}?\s*(?<![=!<>])=(?!=)|[=!]==?|:=|=>|=|:|\(|,)"
    r"\s*(?:" + _QUOTED + "|" + _UNQUOTED + ")",
    re.IGNORECASE,
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.-")
_CALL_OPEN = re.compile(r"[\w$]\(\s*[\"']$")
_NAME_HINT = re.compile(r"pass|pwd|secret|token|key|credential", re.IGNORECASE)
# A bare value in code that is an expression, not a literal: a (dotted) name, a short number.
_CODE_VALUE = re.compile(r"[A-Za-z_$][\w$.]*|\d{1,7}(?:\.\d+)?")
# A bare value in prose or configuration that is no secret.
_PROSE_VALUE = re.compile(r"true|false|null|none|nil|yes|no|on|off|required|optional|"
                          r"\d{1,7}(?:\.\d+)?|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+",
                          re.IGNORECASE)
_PLACEHOLDER = re.compile(r"<redacted:[a-z0-9-]+>|\$\{[^}]*\}|\{\{[^}]*\}\}|\*+|x+|\.+",
                          re.IGNORECASE)

# Long random-looking literals.
_CANDIDATE_RE = re.compile(r"(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{20,}")
_HEX_RE = re.compile(r"[0-9a-fA-F]{32,}")
_RUNS = ("abcdefgh", "ABCDEFGH", "0123456789")
BASE64_MIN_ENTROPY = 4.0
HEX_MIN_ENTROPY = 3.0

# Private key blocks span lines; handled on the whole text before the line pass.
_KEY_BODY = r"[A-Za-z0-9+/=\s\"'`\\,:.|+-]"
_KEY_HEADER = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_KEY_FOOTER = r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
_KEY_BLOCK_RE = re.compile(
    _KEY_HEADER + _KEY_BODY + r"{0,20000}?" + _KEY_FOOTER
    + "|" + _KEY_HEADER + r"(?:(?!-----)" + _KEY_BODY + r"){0,20000}\Z"  # cut off at the end
    + "|" + r"\A(?:(?!-----BEGIN)" + _KEY_BODY + r"){0,20000}?" + _KEY_FOOTER)  # starts inside


def _kind_of_name(name: str) -> str:
    lowered = name.lower()
    if "aws" in lowered and "secret" in lowered:
        return "aws-secret"
    for word, kind in (("private", "private-key"), ("pass", "password"), ("pwd", "password"),
                       ("secret", "secret"), ("token", "token"), ("api", "api-key"),
                       ("access", "access-key"), ("auth", "auth-key"),
                       ("credential", "credential")):
        if word in lowered:
            return kind
    return "secret"


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text`` by its own character frequencies."""
    length = len(text)
    return -sum(count / length * math.log2(count / length)
                for count in Counter(text).values())


def looks_random(token: str) -> bool:
    """A long literal that looks like a key: high entropy, with mixed character classes."""
    if _HEX_RE.fullmatch(token):
        return any(c.isdigit() for c in token) and any(c.isalpha() for c in token) and \
            shannon_entropy(token) >= HEX_MIN_ENTROPY
    core = token.rstrip("=")
    if len(core) < 20 or not (any(c.isdigit() for c in core) and any(c.islower() for c in core)
                              and any(c.isupper() for c in core)):
        return False
    if "/" in core and core.count("/") * 6 > len(core):
        return False  # a path
    if any(run in core for run in _RUNS):
        return False  # an alphabet
    return shannon_entropy(core) >= BASE64_MIN_ENTROPY


class _Line:
    """Replacements in one piece of text, applied once all rules have run; the first rule to
    claim a span keeps it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: list[tuple[int, int, str]] = []  # sorted, never overlapping

    def add(self, start: int, end: int, kind: str) -> None:
        if start >= end:
            return
        at = bisect.bisect_left(self.spans, (start, end, kind))
        if at > 0 and self.spans[at - 1][1] > start:
            return  # overlaps the span before
        if at < len(self.spans) and self.spans[at][0] < end:
            return  # overlaps the span after
        self.spans.insert(at, (start, end, kind))

    def result(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        if not self.spans:
            return self.text, ()
        out: list[str] = []
        found: list[tuple[str, str]] = []
        at = 0
        for start, end, kind in self.spans:
            out += [self.text[at:start], marker(kind)]
            found.append((kind, self.text[start:end]))
            at = end
        out.append(self.text[at:])
        return "".join(out), tuple(found)


def _scan(piece: _Line, code: bool) -> None:
    text = piece.text
    for match in _TOKEN_RE.finditer(text):
        index = int(match.lastgroup[1:])  # type: ignore[index]
        piece.add(match.start(), match.end(), _TOKENS[index][0])
    for kind, pattern in _VALUES:
        for match in pattern.finditer(text):
            piece.add(match.start("secret"), match.end("secret"), kind)
    for match in _ASSIGNMENT_RE.finditer(text) if _NAME_HINT.search(text) else ():
        start = match.start()
        while start > 0 and text[start - 1] in _NAME_CHARS and match.start() - start < 80:
            start -= 1
        name = text[start:match.end("word")].lstrip(".-")
        group = "quoted" if match.group("quoted") is not None else "bare"
        value = match.group(group)
        if _PLACEHOLDER.fullmatch(value) or value.startswith(MARKER_START):
            continue
        if match.group("op") == "(" and not name.rsplit(".", 1)[-1].lower(
                ).startswith(("set", "with")):
            continue  # a getter's argument names a secret, a setter's is one
        if match.group("op") == "," and not _CALL_OPEN.search(text, 0, start):
            continue  # a list of names, not a call that sets one (``setenv("TOKEN", "...")``)
        if group == "bare" and (match.group("op") in ("(", ",") or (
                _CODE_VALUE if code else _PROSE_VALUE).fullmatch(value)):
            continue  # an expression (a name, a dotted name), not a literal
        piece.add(match.start(group), match.end(group), _kind_of_name(name))
    if len(text) >= 20:
        for match in _CANDIDATE_RE.finditer(text):
            if looks_random(match.group()):
                piece.add(match.start(), match.end(), "high-entropy")


@lru_cache(maxsize=LINE_CACHE_SIZE)
def _redact_line(line: str, code: bool) -> tuple[str, tuple[tuple[str, str], ...]]:
    piece = _Line(line)
    _scan(piece, code)
    return piece.result()


def _redact_lines(text: str, code: bool, out: list[str],
                  found: list[tuple[str, str]]) -> None:
    lines = text.split("\n")
    redacted = []
    for line in lines:
        line_text, line_found = _redact_line(line, code)
        redacted.append(line_text)
        if line_found:
            found += line_found
    out.append("\n".join(redacted))


def redact(text: str, code: bool = True) -> Redacted:
    """``text`` with every secret value found replaced by its marker (see the module doc).

    ``code``: the text is source code, where a bare word after ``password =`` is a variable;
    in prose and configuration files (``code=False``) it is the value itself.
    """
    found: list[tuple[str, str]] = []
    out: list[str] = []
    at = 0
    if "PRIVATE KEY" in text:  # key blocks span lines
        for match in _KEY_BLOCK_RE.finditer(text):
            _redact_lines(text[at:match.start()], code, out, found)
            out.append(marker("private-key"))
            found.append(("private-key", match.group()))
            at = match.end()
    _redact_lines(text[at:], code, out, found)
    joined = "".join(out)
    if not found:
        return Redacted(joined)
    counts = Counter(kind for kind, _ in found)
    return Redacted(joined, tuple(found), dict(sorted(counts.items())))


def add_counts(*counts: Mapping[str, int]) -> dict[str, int]:
    """Redaction counts summed by kind (sorted by kind)."""
    total: Counter[str] = Counter()
    for part in counts:
        total.update(part)
    return dict(sorted(total.items()))


def has_marker(text: str) -> bool:
    """True when ``text`` holds a redaction marker (the model copied one)."""
    return MARKER_START in text


def strip_markers(text: str, instead: str = "a secret value") -> str:
    """``text`` with each redaction marker replaced by ``instead`` (for prose)."""
    return _MARKER.sub(instead, text)


def cut_at_marker(text: str) -> str:
    """``text`` up to the first redaction marker the model wrote (a completion must not insert
    one into the document)."""
    at = text.find(MARKER_START)
    return text if at < 0 else text[:at]


class RestoreError(ValueError):
    """Markers in a model's answer that cannot be mapped back to the values they hide."""


def restore(text: str, found: Iterable[tuple[str, str]]) -> str:
    """The model's ``text`` with its markers replaced by the original values, in order.

    Only when the answer keeps the prompt's markers in the same order (kind by kind) is the
    mapping certain; otherwise :class:`RestoreError`.
    """
    originals = list(found)
    markers = list(_MARKER.finditer(text))
    if not markers:
        return text
    if [m.group(1) for m in markers] != [kind for kind, _ in originals]:
        raise RestoreError("the model's answer moves or changes a redacted secret value")
    out: list[str] = []
    at = 0
    for match, (_, value) in zip(markers, originals):
        out += [text[at:match.start()], value]
        at = match.end()
    out.append(text[at:])
    return "".join(out)
