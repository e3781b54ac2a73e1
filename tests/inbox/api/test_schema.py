"""The OpenAPI schema documents every endpoint with its request and response bodies."""
import pytest

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/v1/channels/",
    "/api/v1/conversations/",
    "/api/v1/conversations/{conversation_id}/",
    "/api/v1/conversations/{conversation_id}/messages/",
    "/api/v1/conversations/{conversation_id}/assign/",
    "/api/v1/conversations/{conversation_id}/star/",
    "/api/v1/conversations/{conversation_id}/read/",
    "/api/v1/conversations/{conversation_id}/note/",
    "/api/v1/messages/{message_id}/retry/",
    "/api/v1/saved-replies/",
    "/api/v1/saved-replies/{reply_id}/",
    "/api/v1/staff/",
    "/api/v1/events/",
]


class SchemaTests:
    def test_the_schema_lists_every_path(self, client):
        response = client.get("/api/schema/", {"format": "json"})
        assert response.status_code == 200
        schema = response.json()
        assert set(PATHS) <= set(schema["paths"])

    def test_bodies_are_documented(self, client):
        schema = client.get("/api/schema/", {"format": "json"}).json()
        send = schema["paths"]["/api/v1/conversations/{conversation_id}/messages/"]["post"]
        assert set(send["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
        assert {"201", "400", "409"} <= set(send["responses"])
        refused = schema["components"]["schemas"]["SendRefused"]["properties"]
        assert set(refused) == {"detail", "window", "needs_confirmation"}
        listing = schema["paths"]["/api/v1/conversations/"]["get"]
        assert {"channel", "view", "assignee", "q", "sort", "cursor", "limit"} <= {p["name"] for p in listing["parameters"]}
        conversation = schema["components"]["schemas"]["Conversation"]["properties"]
        assert {"id", "channel", "contact", "unread_count", "assignee", "starred", "note", "last_message", "window", "tags"} <= set(conversation)

    def test_the_yaml_schema_and_the_docs_page_load(self, client):
        assert b"/api/v1/conversations/{conversation_id}/messages/" in client.get("/api/schema/").content
        response = client.get("/api/docs/")
        assert response.status_code == 200
        assert b"swagger" in response.content.lower()
