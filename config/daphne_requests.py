"""Daphne's HTTP requests without Twisted's form parsing.

Twisted's `http.Request` parses the body of every form POST it receives (`application/x-www-form-urlencoded`,
`multipart/form-data`) into `request.args`, and parses the Content-Type of every POST with the `email` package
to decide. Daphne never reads `args`: it hands the raw body to the ASGI application, and Django parses forms
itself. So that work was wasted: about a tenth of a web process's CPU on each webhook (benchmark 1,
docs/benchmarks.md), and for an uploaded transfer proof a second, `email`-module copy of an up to 8 MB body. A
malformed multipart body was also answered by Twisted's bare 400 before the app could answer it properly.

Twisted's Request takes `parsePOSTFormSubmission=False` to skip it; Daphne builds its requests from
`daphne.http_protocol.WebRequest` when a connection opens, so `install()` (called by config.asgi, which Daphne
imports before it listens) points that name at a subclass that passes the flag.
"""
from __future__ import annotations

import inspect

from daphne import http_protocol
from twisted.web import http


class WebRequest(http_protocol.WebRequest):
    def __init__(self, *args, **kwargs):
        kwargs["parsePOSTFormSubmission"] = False
        super().__init__(*args, **kwargs)


def install() -> None:
    """Only where Twisted's Request takes the flag (Twisted 25 and newer): an older one would refuse every request."""
    if "parsePOSTFormSubmission" in inspect.signature(http.Request.__init__).parameters:
        http_protocol.WebRequest = WebRequest
