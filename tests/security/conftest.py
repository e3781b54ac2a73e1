"""Security tests sign many users in: a fast password hasher keeps the matrix quick (hashing strength is
Django's concern, not what these tests check)."""
import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
