"""Connecting channels (Facebook Pages and LINE Official Accounts)."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from integrations.base import Platform
from integrations.models import Channel


class ChannelError(Exception):
    pass


def messenger_channel_add(
    *, name: str, page_id: str, app_secret: str, verify_token: str, access_token: str, secondary: bool = False, app_id: str = ""
) -> Channel:
    """Connect a Facebook Page: one primary, up to nine secondaries (ten pages in all), in the order added."""
    if not (page_id and app_secret and verify_token and access_token):
        raise ChannelError(_("A page needs its id, app secret, verify token and access token."))
    with transaction.atomic():
        pages = Channel.objects.select_for_update().filter(platform=Platform.MESSENGER)
        if pages.filter(external_id=page_id).exists():
            raise ChannelError(_("Page %(id)s is already connected.") % {"id": page_id})
        if pages.count() >= settings.MAX_FACEBOOK_PAGES:
            raise ChannelError(
                _("At most %(n)d Facebook pages can be connected: 1 primary and %(s)d secondary.")
                % {"n": settings.MAX_FACEBOOK_PAGES, "s": settings.MAX_FACEBOOK_PAGES - 1}
            )
        has_primary = pages.filter(is_primary=True).exists()
        if not secondary and has_primary:
            raise ChannelError(_("There is already a primary page; add this one with --secondary."))
        if secondary and not has_primary:
            raise ChannelError(_("Connect the primary page first: secondary pages are connected through it."))
        position = (pages.aggregate(m=Max("position"))["m"] or 0) + 1 if secondary else 0
        return Channel.objects.create(
            platform=Platform.MESSENGER,
            name=name,
            external_id=page_id,
            app_secret=app_secret,
            verify_token=verify_token,
            access_token=access_token,
            app_id=app_id,
            is_primary=not secondary,
            position=position,
        )


def line_channel_add(*, name: str, channel_id: str, channel_secret: str, access_token: str, destination: str = "") -> Channel:
    if not (channel_id and channel_secret and access_token):
        raise ChannelError(_("A LINE account needs its channel id, channel secret and access token."))
    with transaction.atomic():
        accounts = Channel.objects.select_for_update().filter(platform=Platform.LINE)
        if accounts.filter(external_id=channel_id).exists():
            raise ChannelError(_("LINE channel %(id)s is already connected.") % {"id": channel_id})
        position = (accounts.aggregate(m=Max("position"))["m"] or 0) + 1
        return Channel.objects.create(
            platform=Platform.LINE,
            name=name,
            external_id=channel_id,
            app_secret=channel_secret,
            access_token=access_token,
            line_destination=destination,
            position=position,
        )
