"""inbox.services.saved_replies: the only writer of saved replies, and its checks for any caller."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox import selectors
from inbox.errors import ApplicationError
from inbox.models import SavedReply
from inbox.services.saved_replies import saved_reply_create, saved_reply_delete, saved_reply_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def ship(db):
    return saved_reply_create(shortcut="ship", text="We ship within 2 days.")


class SavedReplyServiceTests:
    def test_create_stores_it_with_its_author(self, django_user_model):
        admin = django_user_model.objects.create_user(username="root")
        reply = saved_reply_create(shortcut="運費", text="滿千免運", created_by=admin)
        stored = SavedReply.objects.get()
        assert (stored.pk, stored.shortcut, stored.text, stored.created_by) == (reply.pk, "運費", "滿千免運", admin)

    def test_update_changes_only_what_is_given(self, ship):
        before = ship.updated_at
        saved_reply_update(reply=ship, text="Same day.")
        ship.refresh_from_db()
        assert (ship.shortcut, ship.text) == ("ship", "Same day.")
        assert ship.updated_at >= before
        saved_reply_update(reply=ship, shortcut="shipping")
        ship.refresh_from_db()
        assert (ship.shortcut, ship.text) == ("shipping", "Same day.")

    def test_keeping_its_own_shortcut_is_fine(self, ship):
        assert saved_reply_update(reply=ship, shortcut="ship", text="x").shortcut == "ship"

    def test_delete(self, ship):
        saved_reply_delete(reply=ship)
        assert not SavedReply.objects.exists()

    @pytest.mark.parametrize(
        ("shortcut", "text"),
        [("ship", "again"), ("has space", "x"), ("", "x"), ("ok", ""), ("long", "x" * 2001), ("x" * 41, "x")],
    )
    def test_invalid_replies_are_refused_and_nothing_is_stored(self, ship, shortcut, text):
        with pytest.raises(ApplicationError):
            saved_reply_create(shortcut=shortcut, text=text)
        assert list(SavedReply.objects.values_list("shortcut", flat=True)) == ["ship"]

    def test_renaming_to_a_taken_shortcut_is_refused_and_nothing_changes(self, ship):
        pay = saved_reply_create(shortcut="pay", text="Bank transfer.")
        with pytest.raises(ApplicationError, match="/ship"):
            saved_reply_update(reply=pay, shortcut="ship", text="changed")
        pay.refresh_from_db()
        assert (pay.shortcut, pay.text) == ("pay", "Bank transfer.")

    @settings(max_examples=30, deadline=None)
    @given(
        shortcut=st.from_regex(r"[a-z0-9_\-\u4e00-\u9fff]{1,40}", fullmatch=True),
        text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=200),
    )
    def test_whatever_is_stored_is_found_by_its_shortcut(self, shortcut, text):
        SavedReply.objects.all().delete()
        reply = saved_reply_create(shortcut=shortcut, text=text)
        assert SavedReply.objects.get(pk=reply.pk).text == text
        assert reply in selectors.saved_replies(q=shortcut)
