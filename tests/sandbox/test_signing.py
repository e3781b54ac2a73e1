"""The sandbox signs exactly like the platforms: checked against LINE's documented vector and plain hmac."""
import hashlib
import hmac
import json

from integrations.sandbox import signing


class SigningTests:
    def test_line_signature_matches_the_documented_test_vector(self):
        body = b'{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}'

        signature = signing.line_signature(body, "8c570fa6dd201bb328f1c1eac23a96d8")

        assert signature == "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="

    def test_line_body_is_serialized_like_the_vector(self):
        body = signing.line_body({"destination": "U8e742f61d673b39c7fff3cecb7536ef0", "events": []})

        assert body == b'{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}'

    def test_line_body_keeps_utf8(self):
        assert signing.line_body({"text": "你好"}) == '{"text":"你好"}'.encode()

    def test_messenger_body_escapes_non_ascii_like_meta(self):
        body = signing.messenger_body({"text": "äöå 你好"})

        assert body == b'{"text":"\\u00e4\\u00f6\\u00e5 \\u4f60\\u597d"}'
        assert json.loads(body) == {"text": "äöå 你好"}

    def test_messenger_signature_is_prefixed_lowercase_hex(self):
        body = b'{"object":"page","entry":[]}'

        signature = signing.messenger_signature(body, "secret")

        assert signature == "sha256=" + hmac.new(b"secret", body, hashlib.sha256).hexdigest()
        assert signature == signature.lower()
