from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"

    def ready(self):
        from django.contrib.auth.signals import user_login_failed

        from inbox import signin

        user_login_failed.connect(signin.count_failure, dispatch_uid="inbox.signin.count_failure")
