"""The "unread" view with an assignee filter (mine, nobody's, someone's), in any tab.

bench/inbox_scale.py: `?assignee=me&channel=<page>&view=unread` walked `conv_assignee_idx` and dropped ~860
read conversations for each page of 30 (2-6 ms); this partial index holds only the unread ones, in list order.
"""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0003_search_trigram_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                fields=["assignee", "-activity_at", "-id"], condition=models.Q(unread_count__gt=0), name="conv_unread_assignee_idx"
            ),
        ),
    ]
