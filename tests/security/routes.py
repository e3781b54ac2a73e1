"""Every HTTP route the project serves, read from the URL resolver, as a concrete sample path.

New routes (any app's) appear here by themselves, so the permission matrix and the malformed-input tests
cover them without being told.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

_CONVERTER = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>(?:[^()]|\([^()]*\))*)\)")


@dataclass(frozen=True)
class Route:
    pattern: str  # the joined pattern text, e.g. "api/v1/conversations/<int:conversation_id>/"
    name: str  # "namespace:name" when named
    callback: object
    arguments: tuple[str, ...]  # the names of the path arguments, in order

    def path(self, samples: dict[str, str]) -> str:
        """The pattern with each argument replaced by `samples[name]` (or a harmless default)."""
        text = self.pattern

        def converter(match: re.Match) -> str:
            return samples.get(match["name"], "1" if match["conv"] == "int" else "x")

        def group(match: re.Match) -> str:
            if match["name"] in samples:
                return samples[match["name"]]
            first = match["body"].split("|")[0]
            return first if re.fullmatch(r"[\w-]+", first) else "x"

        text = _GROUP.sub(group, text)  # first: a group's `(?P<name>` would look like a converter
        text = _CONVERTER.sub(converter, text)
        text = text.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/").replace("\\", "")
        return "/" + text


def all_routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for entry in patterns:
            text = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                ns = entry.namespace or ""
                walk(entry.url_patterns, text, f"{namespace}{ns}:" if ns else namespace)
            elif isinstance(entry, URLPattern):
                names = tuple(m["name"] for m in _GROUP.finditer(text))
                names += tuple(m["name"] for m in _CONVERTER.finditer(_GROUP.sub("", text)))
                found.append(Route(text, f"{namespace}{entry.name or ''}", entry.callback, names))

    walk(get_resolver().url_patterns, "", "")
    return found
