"""Create the one chain-head row, so that appending never has to create it under load."""

from django.db import migrations


def create_head(apps, schema_editor):
    ChainHead = apps.get_model("audit", "ChainHead")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    if ChainHead.objects.filter(pk=1).exists():
        return
    last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    ChainHead.objects.create(
        pk=1, last_hash=last or "0" * 64, count=AuditEvent.objects.count() if last else 0
    )


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_event_request_details_and_unique_links"),
    ]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop, elidable=False),
    ]
