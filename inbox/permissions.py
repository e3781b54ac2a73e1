"""The two staff roles. Admins manage channels, staff, saved replies and settings; agents answer chats.

An admin is a superuser or a member of the `admins` group; an agent is a member of `agents`.
"""
from __future__ import annotations

from rest_framework.permissions import BasePermission

ADMINS = "admins"
AGENTS = "agents"


def is_inbox_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or _in_group(user, ADMINS)))


def is_inbox_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (is_inbox_admin(user) or _in_group(user, AGENTS)))


def _in_group(user, name: str) -> bool:
    cache = getattr(user, "_inbox_groups", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._inbox_groups = cache
    return name in cache


class IsInboxStaff(BasePermission):
    message = "Only shop staff may use the inbox."

    def has_permission(self, request, view):
        return is_inbox_staff(request.user)


class IsInboxAdminOrReadOnly(BasePermission):
    message = "Only administrators may change this."

    def has_permission(self, request, view):
        if not is_inbox_staff(request.user):
            return False
        return request.method in ("GET", "HEAD", "OPTIONS") or is_inbox_admin(request.user)
