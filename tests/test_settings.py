import config.settings as project


def test_shop_defaults():
    assert project.LANGUAGE_CODE == "zh-hant"
    assert [code for code, _ in project.LANGUAGES] == ["zh-hant", "en"]
    assert project.TIME_ZONE == "Asia/Taipei" and project.USE_TZ is True
    assert project.WEBHOOK_MAX_BODY_BYTES == 1024 * 1024
