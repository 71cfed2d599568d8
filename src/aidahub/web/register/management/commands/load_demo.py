"""``aidahub manage load_demo``: fill the register with example and invented datasets."""

from django.core.management.base import BaseCommand

from aidahub.web.register.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load the demo register: the example records (through the importer), about thirty "
        "invented datasets with images, the priority lists, and a staff user whose login is "
        "printed. Running it again changes nothing."
    )

    def handle(self, *args, **options):
        load_demo(write=self.stdout.write)
