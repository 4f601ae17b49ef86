"""Keep on each reply an operator's answer marked before `InboundReply.answered_with` existed: the answer to that reply
created at the very time the reply was marked answered (`mark_answered_by` stamped the answer's creation time), and
on that answer its sender (`Message.sent_by`: the reply's `answered_by`). A reply marked by hand matches no answer and
stays without one. Only rows without an answer are touched, so running it again changes nothing."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def keep_marking_answers(apps, schema_editor):
    InboundReply = apps.get_model("members", "InboundReply")
    Message = apps.get_model("members", "Message")
    answer = (Message.objects.filter(reply=OuterRef("pk"), created_at=OuterRef("answered_at"))
              .order_by("-pk").values("pk")[:1])
    InboundReply.objects.filter(answered_at__isnull=False, answered_with__isnull=True).update(
        answered_with=Subquery(answer))
    sender = InboundReply.objects.filter(answered_with=OuterRef("pk")).values("answered_by")[:1]
    Message.objects.filter(sent_by__isnull=True, reply__isnull=False).update(sent_by=Subquery(sender))


class Migration(migrations.Migration):

    dependencies = [
        ("members", "0021_reply_answered_with"),
    ]

    operations = [
        migrations.RunPython(keep_marking_answers, migrations.RunPython.noop),
    ]
