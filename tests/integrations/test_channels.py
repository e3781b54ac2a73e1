import pytest
from django.core.management import CommandError, call_command

from integrations.models import Channel

pytestmark = pytest.mark.django_db


def add_page(n: int, *extra: str, capsys=None):
    call_command(
        "add_channel", "messenger", "--name", f"Page {n}", "--page-id", f"10{n}", "--app-secret", "s",
        "--verify-token", f"v{n}", "--access-token", f"t{n}", *extra,
    )


class AddChannelTests:
    def test_messenger_prints_webhook_url(self, capsys):
        add_page(1)
        out = capsys.readouterr().out
        assert "/webhooks/messenger/" in out
        channel = Channel.objects.get()
        assert (channel.is_primary, channel.position) == (True, 0)

    def test_line_prints_its_own_webhook_url(self, capsys):
        call_command("add_channel", "line", "--name", "L", "--channel-id", "200", "--channel-secret", "s", "--access-token", "t")
        channel = Channel.objects.get()
        assert f"/webhooks/line/{channel.pk}/" in capsys.readouterr().out

    def test_one_primary_then_nine_secondaries_in_order(self):
        add_page(0)
        for n in range(1, 10):
            add_page(n, "--secondary")
        names = list(Channel.objects.filter(platform="messenger").order_by("position").values_list("name", flat=True))
        assert names == [f"Page {n}" for n in range(10)]
        with pytest.raises(CommandError, match="At most 10"):
            add_page(10, "--secondary")
        assert Channel.objects.count() == 10

    def test_second_primary_is_refused(self):
        add_page(0)
        with pytest.raises(CommandError, match="--secondary"):
            add_page(1)

    def test_secondary_needs_a_primary(self):
        with pytest.raises(CommandError, match="primary"):
            add_page(1, "--secondary")

    def test_same_page_twice_is_refused(self):
        add_page(0)
        with pytest.raises(CommandError, match="already connected"):
            add_page(0, "--secondary")
