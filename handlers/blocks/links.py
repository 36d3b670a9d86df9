"""Links and user mentions in a draft, made honest: see `text.safe_draft`, which uses them.

Slack's `<url|label>` and Markdown's `[label](url)` are both handled, since a draft is shown
in `markdown` blocks and its beginning in mrkdwn notification text.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.slack_ids import ANGLE_TOKEN, URL_SCHEME, USER_MENTION

# A word joiner after "@" keeps the text readable but stops Slack from notifying anyone.
WORD_JOINER = "\u2060"
_WEB_SCHEMES = ("http", "https")
_SCRIPTS = ("javascript:", "data:", "vbscript:")
# Code, left as Markdown renders it, literally: closed ``` fences, and backtick spans
# within a paragraph. (Anything less certain is treated as prose, the safer reading.)
_CODE = re.compile(
    r"^[ \t]*```[^\n]*\n.*?^[ \t]*```[ \t]*$"
    r"|(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)*?(?<!`)\1(?!`)",
    re.MULTILINE | re.DOTALL,
)
FENCE_OPENS = re.compile(r"^[ \t]*```", re.MULTILINE)
FENCE_CLOSES = re.compile(r"^[ \t]*```[ \t]*$", re.MULTILINE)
# Streamed code: a line that may yet turn out to close the fence.
_MAYBE_CLOSING = re.compile(r"(?:^|(?<=\n))[ \t]*`+[ \t]*$")
# What may follow a link's destination: an optional title, then the closing parenthesis.
_TITLE_AND_CLOSE = re.compile(r"[ \t]*(?:\"[^\"]*\"|'[^']*'|\([^()]*\))?[ \t]*\)")
# A label that is itself a web address or a domain: "https://paypal.com", "www.paypal.com/x".
_DOMAIN_LABEL = re.compile(r"(?:[\w-]+\.)+[^\W\d_]{2,}\.?(?::\d+)?(?:[/?#]\S*)?")
# The end of streamed text that may be a token cut in half: `<!he`, `<https://x|la`, `@he`.
_UNFINISHED_TOKEN = re.compile(
    r"(?:<(?:[@#!][^<>\s]*(?:\|[^<>]*)?|[a-zA-Z][\w+.-]*(?::[^<>\s|]*(?:\|[^<>]*)?)?)?"
    r"|@\w*|!)$"
)


def typed_mentions(typed: str) -> set[str]:
    """The user ids a person mentioned in their own words."""
    return {match.group(1) for match in USER_MENTION.finditer(typed)}


def honest(text: str, allowed: set[str]) -> str:
    """User mentions inert but for `allowed`, non-web links as words, real hosts shown."""
    pieces: list[str] = []
    end = 0
    for code in _CODE.finditer(text):
        pieces += [_prose(text[end : code.start()], allowed), honest_code(code.group(0), allowed)]
        end = code.end()
    pieces.append(_prose(text[end:], allowed))
    return "".join(pieces)


def honest_code(code: str, allowed: set[str]) -> str:
    """`honest` for text inside a code block."""
    return ANGLE_TOKEN.sub(lambda match: _code_token(match.group(1), allowed), code)


def unfinished_token_from(text: str, start: int) -> int | None:
    """Where, at or after `start`, `text` ends in a mention or `<…>` token cut in half."""
    token = _UNFINISHED_TOKEN.search(text, start)
    return token.start() if token else None


def defused(text: str, start: int) -> str:
    """`text` with whatever is still unfinished after `start` made unable to become a live
    token or a link later: the `<` of a `<…` token written `&lt;`, a `](` pulled apart by a
    word joiner. For a stream that has held such text back for too long."""
    token = unfinished_token_from(text, start)
    if token is not None and text[token] == "<":
        text = text[:token] + "&lt;" + text[token + 1 :]
    open_link = _open_bracket(text, start)
    if open_link is not None and (split := text.find("](", open_link)) != -1:
        text = text[: split + 1] + WORD_JOINER + text[split + 1 :]
    return text


def unfinished_from(text: str, start: int, *, in_code: bool = False) -> int | None:
    """Where, at or after `start`, `text` ends in something a later piece may complete
    into a mention, a link, a code span or the end of a code block (so it must wait)."""
    closed = FENCE_CLOSES.search(text, start) if in_code else None
    if closed is not None and text[closed.end() : closed.end() + 1] == "\n":
        start, in_code = closed.end() + 1, False  # prose again after the block
    token = unfinished_token_from(text, start)
    candidates = [token] if token is not None else []
    if in_code:
        closing = _MAYBE_CLOSING.search(text, start)
        return min([*candidates, *([closing.start()] if closing else [])], default=None)
    open_link = _open_bracket(text, start)
    if open_link is not None:
        candidates.append(open_link - (1 if text[open_link - 1 : open_link] == "!" else 0))
    if (tick := _open_backtick(text, start)) is not None:
        candidates.append(tick)
    return min(candidates) if candidates else None


# ------------------------------------------------------------------ tokens and links


def _prose(text: str, allowed: set[str]) -> str:
    def tokens(text: str) -> str:
        return ANGLE_TOKEN.sub(lambda match: _angle_token(match.group(1), allowed), text)

    # Tokens again after the links: a link turned into its label may have closed a token.
    return tokens(_markdown_links(tokens(text)))


def _user(mention: re.Match[str], allowed: set[str]) -> str:
    user_id, label = mention.groups()
    return mention.group(0) if user_id in allowed else f"@{WORD_JOINER}{label or user_id}"


def _code_token(inner: str, allowed: set[str]) -> str:
    """A `<…>` in code: mentions, labelled links and script links only (`<xsl:if>` stays)."""
    scheme = URL_SCHEME.match(inner)
    if inner.startswith("@") or (scheme and ("|" in inner or scheme.group(0) in _SCRIPTS)):
        return _angle_token(inner, allowed)
    return f"<{inner}>"


def _angle_token(inner: str, allowed: set[str]) -> str:
    """One `<…>` token of Slack markup, made safe."""
    if user := USER_MENTION.fullmatch(f"<{inner}>"):
        return _user(user, allowed)
    if not URL_SCHEME.match(inner):
        return f"<{inner}>"  # channels, broadcasts (made inert later), or just text
    target, _, label = inner.partition("|")
    if _web_host(target) is None:
        return _plain_label(label, target)
    return f"<{target}|{_honest_label(label, target)}>" if label else f"<{target}>"


def _markdown_links(text: str) -> str:
    """Every `[label](destination)` in `text` (no code in it), made safe."""
    position = 0
    while (middle := text.find("](", position)) >= 0:
        start = _label_start(text, middle)
        found = _destination(text, middle + 2)
        if start is None or found is None:
            position = middle + 2
            continue
        target, end = found
        label = text[start + 1 : middle]
        if _web_host(target) is None:
            if start and text[start - 1] == "!":  # an image: its description only
                start -= 1
            replacement = _plain_label(label, target)
        else:
            replacement = f"[{_honest_label(label, target)}]({text[middle + 2 : end - 1]})"
        text = text[:start] + replacement + text[end:]
        position = start + len(replacement)
    return text


def _label_start(text: str, close: int) -> int | None:
    """Where the `[` that the `]` at `close` closes is (nested brackets allowed)."""
    depth = 0
    for index in range(close - 1, -1, -1):
        char = text[index]
        if char == "\n" and text[index - 1 : index] == "\n":
            return None  # a label never spans a paragraph break
        if char == "]":
            depth += 1
        elif char == "[":
            if depth == 0:
                return index
            depth -= 1
    return None


def _destination(text: str, start: int) -> tuple[str, int] | None:
    """A link destination starting at `start` (after `](`): (target, index after `)`)."""
    index = start
    while index < len(text) and text[index] in " \t":
        index += 1
    if text[index : index + 1] == "<":
        close = text.find(">", index)
        if close < 0 or "\n" in text[index:close]:
            return None
        target, index = text[index + 1 : close], close + 1
    else:
        depth, begin = 0, index
        while index < len(text) and not text[index].isspace():
            if text[index] == "(":
                depth += 1
            elif text[index] == ")":
                if depth == 0:
                    break
                depth -= 1
            index += 1
        target = text[begin:index]
    title = _TITLE_AND_CLOSE.match(text, index)
    return (target, title.end()) if title else None


# ------------------------------------------------------------------ hosts and labels


def _web_host(url: str) -> str | None:
    """The host of an absolute http(s) URL, in ASCII (`xn--…`), or None for anything else."""
    if "\\" in url:  # browsers read `\` as `/`: `https://evil\@paypal.com` goes to evil
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in _WEB_SCHEMES or not host:
        return None
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _honest_label(label: str, url: str) -> str:
    """`label`, followed by the link's real host unless the label already says it."""
    host = _web_host(url) or ""
    if _same_host(_label_host(label), host) or label.rstrip().endswith(f"({host})"):
        return label
    return f"{label} ({host})"


def _label_host(label: str) -> str | None:
    """The host a label that looks like an address names, as a person reads it (None
    when it names none, or hides its host behind `user@`)."""
    text = label.strip().strip("`*_<>")
    if not (URL_SCHEME.match(text) and "//" in text[:10]):
        if not _DOMAIN_LABEL.fullmatch(text):
            return None
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        return None if parts.username is not None else parts.hostname
    except ValueError:
        return None


def _same_host(shown: str | None, host: str) -> bool:
    """The label names the host itself (a look-alike in another script does not: the host
    is compared in its ASCII form)."""
    if shown is None:
        return False
    return shown.lower().removeprefix("www.").rstrip(".") == host.lower().removeprefix("www.")


def _plain_label(label: str, target: str) -> str:
    """What is left of a link that may not stay one: its words."""
    label = label.strip()
    if target.lower().startswith("mailto:"):
        address = target[len("mailto:") :].split("?", 1)[0]
        return label if address in label else f"{label} ({address})" if label else address
    return label or target.strip()


# ------------------------------------------------------------------ streaming


def _open_bracket(text: str, start: int) -> int | None:
    """The first `[` at or after `start` that may still become (part of) a link."""
    stack: list[int] = []
    index = start
    while index < len(text):
        char = text[index]
        if char == "\n" and text[index + 1 : index + 2] == "\n":
            stack.clear()  # a paragraph break ends every label
        elif char == "[":
            stack.append(index)
        elif char == "]" and stack:
            opening = stack.pop()
            if index + 1 == len(text):
                return stack[0] if stack else opening  # `(` may come next
            if text[index + 1] == "(":
                found = _destination(text, index + 2)
                if found is None:
                    return stack[0] if stack else opening  # the destination is unfinished
                index = found[1] - 1
        index += 1
    return stack[0] if stack else None


def _open_backtick(text: str, start: int) -> int | None:
    """The backticks of a code span opened at or after `start` and not yet closed."""
    index = start
    while (tick := text.find("`", index)) >= 0:
        run = len(text[tick:]) - len(text[tick:].lstrip("`"))
        closing = re.compile(rf"(?<!`){'`' * run}(?!`)").search(text, tick + run)
        if closing is None:
            return tick
        index = closing.end()
    return None
