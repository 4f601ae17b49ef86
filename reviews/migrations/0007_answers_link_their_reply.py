"""Link the answers sent from a bad-review case before Message.reply existed to the reply they answer, taken from
their contact log line (outcome "answered": its `message` and `reply`), so the number's conversation shows them
under that reply as it shows the newer ones. Only unlinked texts are touched, so running it again changes nothing;
going back keeps the links (Message.reply is members' own field, set by every answer since)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def link_answers(apps, schema_editor):
    Message = apps.get_model("members", "Message")
    ContactAttempt = apps.get_model("reviews", "ContactAttempt")
    answered = ContactAttempt.objects.filter(message=OuterRef("pk"), outcome="answered", reply__isnull=False)
    Message.objects.filter(reply__isnull=True, case_contact__outcome="answered",
                           case_contact__reply__isnull=False).update(reply=Subquery(answered.values("reply")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("members", "0020_message_text_back"),
        ("reviews", "0006_answered_replies"),
    ]

    operations = [
        migrations.RunPython(link_answers, migrations.RunPython.noop),
    ]
