"""Indexes that bench/inbox_scale.py showed missing (see docs/benchmarks.md).

- conv_unread_channel_idx: the unread counts per tab (`selectors.unread_counts`), run by every list request
  and every live event, counted a sequential scan of all conversations (77 ms at 100,000); this partial index
  holds only the unread ones, with the id the count reads, so it is an index-only scan once vacuumed.
"""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["channel", "id"], condition=models.Q(unread_count__gt=0), name="conv_unread_channel_idx"),
        ),
    ]
