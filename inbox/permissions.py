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


class IsInboxAdminOrAuthorOrReadOnly(BasePermission):
    """Staff read; a row's author (`created_by`) and admins change or delete it (checked on the row: the view calls
    `check_object_permissions`)."""

    message = "Only its author or an administrator may change this."

    def has_permission(self, request, view):
        return is_inbox_staff(request.user)

    def has_object_permission(self, request, view, obj):
        if request.method in ("GET", "HEAD", "OPTIONS") or is_inbox_admin(request.user):
            return True
        return obj.created_by_id is not None and obj.created_by_id == request.user.pk


class IsInboxAdminOrReadOnly(BasePermission):
    message = "Only administrators may change this."

    def has_permission(self, request, view):
        if not is_inbox_staff(request.user):
            return False
        return request.method in ("GET", "HEAD", "OPTIONS") or is_inbox_admin(request.user)
