"""Numbered pages for the back office's lists (customers, orders)."""
from __future__ import annotations

from django.core.paginator import Page, Paginator


def page_of(request, rows, size: int) -> tuple[Page, str]:
    """The page of `rows` the request's `page` parameter asks for (the last one past the end, the first for
    junk), and the request's other parameters, URL-encoded, for the pager's links (templates/_pager.html)."""
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
