"""The customers API: the same rules as the services, as answers (200/201, 409 with matches, 400, 404)."""
import pytest
from rest_framework.test import APIClient

from customers import services
from customers.models import Address, ContactBinding, Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_customer, make_conversation):
    member = make_customer("陳小美", email="mei@example.com", phone="0912345678")
    address = services.add_address(customer=member, actor=None, recipient_name="Mei", street="忠孝東路 1 號")
    conversation = make_conversation("Mei FB")
    other = make_conversation("Other FB")
    services.bind_contact(contact=other.contact, customer=member, actor=None)
    return {"member": member, "address": address, "conversation": conversation, "bound": other}


def endpoints(w):
    m, a, c, b = w["member"].pk, w["address"].pk, w["conversation"].pk, w["bound"].pk
    return [
        ("get", "/api/v1/customers/?q=mei", None),
        ("post", "/api/v1/customers/", {"email": "new@x.tw"}),
        ("get", f"/api/v1/customers/{m}/", None),
        ("patch", f"/api/v1/customers/{m}/", {"notes": "n"}),
        ("get", f"/api/v1/customers/{m}/addresses/", None),
        ("post", f"/api/v1/customers/{m}/addresses/", {"recipient_name": "R", "street": "S"}),
        ("patch", f"/api/v1/customers/{m}/addresses/{a}/", {"city": "台北市"}),
        ("get", f"/api/v1/customers/{m}/credit/", None),
        ("post", f"/api/v1/conversations/{c}/bind/", {"customer": m}),
        ("post", f"/api/v1/conversations/{b}/unbind/", {}),
        ("delete", f"/api/v1/customers/{m}/addresses/{a}/", None),
    ]


class AccessTests:
    def test_anonymous_and_outsiders_are_refused(self, world, outsider_api):
        for method, path, body in endpoints(world):
            assert getattr(APIClient(), method)(path, body, format="json").status_code in (401, 403), path
            assert getattr(outsider_api, method)(path, body, format="json").status_code == 403, path

    def test_an_agent_may_do_everything_but_adjust_credit(self, world, agent_api):
        for method, path, body in endpoints(world):
            response = getattr(agent_api, method)(path, body, format="json")
            assert response.status_code < 300, (path, response.content)
        member = world["member"].pk
        assert agent_api.post(f"/api/v1/customers/{member}/credit/", {"amount": 10, "reason": "x"}, format="json").status_code == 403

    def test_an_admin_adjusts_credit_with_a_reason(self, world, admin_api, shop_admin):
        member = world["member"].pk
        response = admin_api.post(f"/api/v1/customers/{member}/credit/", {"amount": 150, "reason": "Sorry for the delay"}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["balance_after"] == 150 and response.json()["kind"] == "adjustment"
        refused = admin_api.post(f"/api/v1/customers/{member}/credit/", {"amount": -151, "reason": "too much"}, format="json")
        assert refused.status_code == 400 and "below zero" in refused.json()["detail"]
        assert admin_api.post(f"/api/v1/customers/{member}/credit/", {"amount": 5}, format="json").status_code == 400
        ledger = admin_api.get(f"/api/v1/customers/{member}/credit/").json()
        assert [(e["amount"], e["balance_after"]) for e in ledger] == [(150, 150)]


class CustomerListCreateTests:
    @pytest.mark.parametrize("q", ["0912-345-678", "+886 912 345 678", "886912345678", "MEI@example.com", "小美", "0912 34"])
    def test_find_by_phone_email_or_name(self, world, agent_api, q):
        results = agent_api.get("/api/v1/customers/", {"q": q}).json()["results"]
        assert [r["name"] for r in results] == ["陳小美"]
        assert results[0]["phone"] == "+886912345678" and results[0]["phone_display"] == "0912 345 678"
        assert results[0]["url"] == f"/customers/{world['member'].pk}/"

    def test_filters_and_bad_parameters(self, world, agent_api, tiers):
        assert agent_api.get("/api/v1/customers/", {"has_orders": "true"}).json()["results"] == []
        assert agent_api.get("/api/v1/customers/", {"tier": tiers["gold"].pk}).json()["results"] == []
        assert agent_api.get("/api/v1/customers/", {"limit": "0"}).status_code == 400
        assert agent_api.get("/api/v1/customers/", {"tier": "x"}).status_code == 400

    def test_create(self, agent_api, tiers):
        response = agent_api.post(
            "/api/v1/customers/", {"name": "Amy", "phone": "0911 222 333", "tier": tiers["gold"].pk, "tags": ["VIP"]}, format="json"
        )
        assert response.status_code == 201, response.content
        data = response.json()
        assert (data["phone"], data["tier"]["name"], data["tags"], data["orders"], data["source"]) == (
            "+886911222333", "Gold", ["VIP"], [], "back_office",
        )

    def test_a_duplicate_is_a_409_with_the_match(self, world, agent_api):
        response = agent_api.post("/api/v1/customers/", {"phone": "886912345678"}, format="json")
        assert response.status_code == 409
        data = response.json()
        assert data["outcome"] == "duplicate" and [m["id"] for m in data["matches"]] == [world["member"].pk]
        assert data["by_field"] == {"phone": world["member"].pk}

    def test_email_and_phone_of_two_members_must_be_reentered(self, world, agent_api, make_customer):
        other = make_customer("Other", phone="0911000000")
        response = agent_api.post("/api/v1/customers/", {"email": "mei@example.com", "phone": "0911000000"}, format="json")
        assert response.status_code == 409 and response.json()["outcome"] == "reenter"
        assert {m["id"] for m in response.json()["matches"]} == {world["member"].pk, other.pk}

    @pytest.mark.parametrize(
        "body",
        [{}, {"phone": "12"}, {"email": "nope"}, {"email": ["x"]}, {"phone": None}, {"tags": "VIP"}, {"tier": 999999},
         {"name": "x" * 201, "phone": "0911000009"}, {"tags": ["x" * 51], "phone": "0911000009"}, []],
    )
    def test_bad_input_is_a_400_never_a_500(self, agent_api, body):
        assert agent_api.post("/api/v1/customers/", body, format="json").status_code == 400


class CustomerDetailTests:
    def test_get_shows_the_pane_data(self, world, agent_api):
        data = agent_api.get(f"/api/v1/customers/{world['member'].pk}/").json()
        assert [a["street"] for a in data["addresses"]] == ["忠孝東路 1 號"] and data["addresses"][0]["is_default"]
        assert [c["conversation_id"] for c in data["contacts"]] == [world["bound"].pk]
        assert data["orders"] == [] and data["credit_balance"] == 0

    def test_unknown_is_404(self, agent_api):
        assert agent_api.get("/api/v1/customers/999999/").status_code == 404
        assert agent_api.patch("/api/v1/customers/999999/", {"name": "x"}, format="json").status_code == 404

    def test_the_three_outcomes_of_an_edit(self, world, agent_api, make_customer):
        member = world["member"].pk
        updated = agent_api.patch(f"/api/v1/customers/{member}/", {"phone": "0912-000-111"}, format="json")
        assert updated.status_code == 200 and updated.json()["phone"] == "+886912000111"
        other = make_customer("Other", email="other@x.tw", phone="0911000000")
        duplicate = agent_api.patch(f"/api/v1/customers/{member}/", {"phone": "+886911000000"}, format="json")
        assert duplicate.status_code == 409 and duplicate.json()["outcome"] == "duplicate"
        assert duplicate.json()["matches"][0]["id"] == other.pk
        third = make_customer("Third", phone="0922000000")
        reenter = agent_api.patch(f"/api/v1/customers/{member}/", {"email": "other@x.tw", "phone": "0922000000"}, format="json")
        assert reenter.status_code == 409 and reenter.json()["outcome"] == "reenter"
        assert {m["id"] for m in reenter.json()["matches"]} == {other.pk, third.pk}

    def test_tier_tags_notes_and_clearing_the_tier(self, world, agent_api, tiers):
        member = world["member"].pk
        data = agent_api.patch(f"/api/v1/customers/{member}/", {"tier": tiers["gold"].pk, "tags": ["VIP"], "notes": "x"}, format="json").json()
        assert (data["tier"]["id"], data["tags"], data["notes"]) == (tiers["gold"].pk, ["VIP"], "x")
        assert agent_api.patch(f"/api/v1/customers/{member}/", {"tier": None}, format="json").json()["tier"] is None

    @pytest.mark.parametrize("body", [{"email": "bad"}, {"phone": "", "email": ""}, {"tier": "gold"}, {"notes": "x" * 2001}, {"tags": [1, [2]]}, "nonsense"])
    def test_bad_edits_are_400(self, world, agent_api, body):
        assert agent_api.patch(f"/api/v1/customers/{world['member'].pk}/", body, format="json").status_code == 400


class MergeApiTests:
    def test_update_binding_merges_the_chats_member_into_the_other(self, world, agent_api, make_customer, make_conversation):
        mine = make_customer("Mine", email="mine@x.tw")
        chat = make_conversation("Mine FB")
        services.bind_contact(contact=chat.contact, customer=mine, actor=None)
        response = agent_api.post(
            f"/api/v1/customers/{world['member'].pk}/merge/", {"source": mine.pk, "phone": "0912 345 678"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert not Customer.objects.filter(pk=mine.pk).exists()
        assert ContactBinding.objects.get(contact=chat.contact).customer_id == world["member"].pk

    def test_refusals(self, world, agent_api, make_customer):
        member = world["member"].pk
        assert agent_api.post(f"/api/v1/customers/{member}/merge/", {"source": member}, format="json").status_code == 400
        assert agent_api.post(f"/api/v1/customers/{member}/merge/", {"source": 999999}, format="json").status_code == 400
        assert agent_api.post(f"/api/v1/customers/{member}/merge/", {"source": "x"}, format="json").status_code == 400
        assert agent_api.post("/api/v1/customers/999999/merge/", {"source": member}, format="json").status_code == 404
        other = make_customer("Other")
        third = make_customer("Third", email="third@x.tw")
        clash = agent_api.post(f"/api/v1/customers/{member}/merge/", {"source": other.pk, "email": "third@x.tw"}, format="json")
        assert clash.status_code == 409 and Customer.objects.filter(pk=other.pk).exists()
        del third


class BindApiTests:
    def test_bind_to_an_existing_member(self, world, agent_api):
        response = agent_api.post(f"/api/v1/conversations/{world['conversation'].pk}/bind/", {"customer": world["member"].pk}, format="json")
        assert response.status_code == 200 and response.json()["id"] == world["member"].pk

    def test_bind_new_details_creates_a_member(self, world, agent_api):
        response = agent_api.post(f"/api/v1/conversations/{world['conversation'].pk}/bind/", {"email": "Fan@X.tw"}, format="json")
        assert response.status_code == 201
        assert (response.json()["name"], response.json()["email"]) == ("Mei FB", "fan@x.tw")

    def test_new_details_that_clash_are_a_409_and_merge_binds_to_the_match(self, world, agent_api):
        url = f"/api/v1/conversations/{world['conversation'].pk}/bind/"
        clash = agent_api.post(url, {"email": "MEI@example.com", "phone": "0933000000"}, format="json")
        assert clash.status_code == 409 and clash.json()["outcome"] == "duplicate"
        merged = agent_api.post(url, {"customer": clash.json()["matches"][0]["id"], "email": "mei@example.com", "phone": "0933000000"}, format="json")
        assert merged.status_code == 200
        assert merged.json()["phone"] == "+886912345678"  # the member's own login is kept
        assert Customer.objects.count() == 1

    def test_refusals(self, world, agent_api):
        url = f"/api/v1/conversations/{world['conversation'].pk}/bind/"
        assert agent_api.post(url, {}, format="json").status_code == 400
        assert agent_api.post(url, {"customer": 999999}, format="json").status_code == 400
        assert agent_api.post("/api/v1/conversations/999999/bind/", {"customer": world["member"].pk}, format="json").status_code == 404
        assert agent_api.post(f"/api/v1/conversations/{world['bound'].pk}/bind/", {"phone": "0933000001"}, format="json").status_code == 400

    def test_unbind(self, world, agent_api):
        url = f"/api/v1/conversations/{world['bound'].pk}/unbind/"
        response = agent_api.post(url, {}, format="json")
        assert response.status_code == 200 and response.json() == {"customer_id": world["member"].pk}
        assert agent_api.post(url, {}, format="json").status_code == 400
        assert Customer.objects.filter(pk=world["member"].pk).exists()


class AddressApiTests:
    def test_add_up_to_five_and_the_sixth_is_refused(self, world, agent_api):
        url = f"/api/v1/customers/{world['member'].pk}/addresses/"
        for n in range(4):
            assert agent_api.post(url, {"recipient_name": "Mei", "street": f"Street {n}", "postal_code": "106"}, format="json").status_code == 201
        sixth = agent_api.post(url, {"recipient_name": "Mei", "street": "One too many"}, format="json")
        assert sixth.status_code == 400
        assert sixth.json()["detail"] == "A member can keep at most 5 addresses. Delete one before adding another."
        assert len(agent_api.get(url).json()) == 5

    def test_edit_make_default_and_delete(self, world, agent_api):
        url = f"/api/v1/customers/{world['member'].pk}/addresses/"
        second = agent_api.post(url, {"recipient_name": "Mei", "street": "Second"}, format="json").json()
        assert not second["is_default"]
        made = agent_api.patch(f"{url}{second['id']}/", {"is_default": True, "city": "台中市"}, format="json").json()
        assert made["is_default"] and made["city"] == "台中市"
        assert agent_api.get(url).json()[0]["id"] == second["id"]
        assert agent_api.delete(f"{url}{second['id']}/").status_code == 204
        assert Address.objects.get().is_default

    def test_refusals(self, world, agent_api, make_customer):
        url = f"/api/v1/customers/{world['member'].pk}/addresses/"
        assert agent_api.post(url, {"recipient_name": "", "street": "x"}, format="json").status_code == 400
        assert agent_api.post(url, {"recipient_name": "x", "street": "x", "postal_code": "1"}, format="json").status_code == 400
        someone = make_customer("Someone")
        assert agent_api.patch(f"/api/v1/customers/{someone.pk}/addresses/{world['address'].pk}/", {"city": "x"}, format="json").status_code == 404
        assert agent_api.post("/api/v1/customers/999999/addresses/", {"recipient_name": "x", "street": "x"}, format="json").status_code == 404


class OddInputTests:
    HUGE = 2**70

    def test_ids_beyond_the_databases_range_are_404_or_400(self, world, agent_api):
        m, a, c, huge = world["member"].pk, world["address"].pk, world["conversation"].pk, self.HUGE
        assert agent_api.get(f"/api/v1/customers/{huge}/").status_code == 404
        assert agent_api.patch(f"/api/v1/customers/{huge}/addresses/{a}/", {"city": "x"}, format="json").status_code == 404
        assert agent_api.delete(f"/api/v1/customers/{m}/addresses/{huge}/").status_code == 404
        assert agent_api.post(f"/api/v1/conversations/{huge}/bind/", {"customer": m}, format="json").status_code == 404
        assert agent_api.post(f"/api/v1/conversations/{huge}/unbind/", {}, format="json").status_code == 404
        assert agent_api.post(f"/api/v1/conversations/{c}/bind/", {"customer": huge}, format="json").status_code == 400
        assert agent_api.post(f"/api/v1/customers/{m}/merge/", {"source": huge}, format="json").status_code == 400
        assert agent_api.patch(f"/api/v1/customers/{m}/", {"tier": huge}, format="json").status_code == 400
        assert agent_api.get("/api/v1/customers/", {"tier": huge}).status_code == 400

    def test_nul_characters_are_refused_or_dropped(self, world, agent_api):
        assert agent_api.get("/api/v1/customers/", {"q": "mei\x00"}).status_code in (200, 400)
        assert agent_api.patch(f"/api/v1/customers/{world['member'].pk}/", {"notes": "a\x00b"}, format="json").status_code == 400


class SchemaTests:
    def test_the_schema_documents_the_customers_endpoints(self, client):
        schema = client.get("/api/schema/", {"format": "json"}).json()
        paths = schema["paths"]
        for path in [
            "/api/v1/customers/",
            "/api/v1/customers/{customer_id}/",
            "/api/v1/customers/{customer_id}/merge/",
            "/api/v1/customers/{customer_id}/addresses/",
            "/api/v1/customers/{customer_id}/addresses/{address_id}/",
            "/api/v1/conversations/{conversation_id}/bind/",
            "/api/v1/conversations/{conversation_id}/unbind/",
        ]:
            assert path in paths
        assert {"200", "201", "409"} <= set(paths["/api/v1/conversations/{conversation_id}/bind/"]["post"]["responses"])
        assert set(schema["components"]["schemas"]["CustomerDuplicate"]["properties"]) == {"detail", "outcome", "matches", "by_field"}
