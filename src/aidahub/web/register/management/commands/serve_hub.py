"""Serve the hub and say how to sign in as staff."""

from django.conf import settings
from django.core.management.commands.runserver import Command as RunserverCommand

from aidahub.web.register.demo import DEMO_LOGIN_FILE


class Command(RunserverCommand):
    help = "Serve the hub (Django's server); prints the demo staff login when there is one."

    def inner_run(self, *args, **options):
        login = settings.DATA_DIR / DEMO_LOGIN_FILE
        if login.is_file():
            self.stdout.write(self.style.SUCCESS(login.read_text(encoding="utf-8").strip()))
        return super().inner_run(*args, **options)
