"""Migration reviews 0007: answers sent from a bad-review case before Message.reply existed get linked to the reply
they answer (from the case's contact log), so the conversation shows them under it; nothing else is touched."""

from datetime import UTC, datetime

import pytest

from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("members", "0020_message_text_back"), ("reviews", "0006_answered_replies")]
BACKFILL = ("reviews", "0007_answers_link_their_reply")
AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def old(transactional_db):
    """The schema before the backfill, with a case whose customer replied twice; latest migrations afterwards."""
    apps = migrate_to(*BEFORE)
    get = apps.get_model
    store = get("stores", "Store").objects.create(name="Old", slug="old", country="CN", timezone="Asia/Shanghai",
                                                  currency="CNY")
    member = get("members", "Member").objects.create(store=store, phone="+8613800138000", joined_at=AT)
    review = get("reviews", "Review").objects.create(store=store, external_id="r1", rating=1, created_at=AT)
    case = get("reviews", "ReviewCase").objects.create(store=store, review=review, reason="rating 1",
                                                       first_contact_due_at=AT)
    replies = [get("members", "InboundReply").objects.create(store=store, member=member, kind="other", body=body,
                                                             received_at=AT) for body in ("It broke", "Still?")]

    def text(occasion, outcome, answers=None, linked=None):
        message = get("members", "Message").objects.create(store=store, member=member, flow="review_care",
                                                           occasion=occasion, body="Sorry", scheduled_for=AT,
                                                           reply=linked)
        get("reviews", "ContactAttempt").objects.create(case=case, at=AT, outcome=outcome, message=message,
                                                        reply=answers)
        return message.pk

    texts = {
        "case text": text(f"review_care:case {case.pk} attempt 1", "texted"),
        "old answer": text(f"review_care:case {case.pk} reply {replies[0].pk} answer 1", "answered", replies[0]),
        "new answer": text(f"review_care:case {case.pk} reply {replies[1].pk} answer 1", "answered", replies[1],
                           linked=replies[1]),  # sent since: linked when it was queued
    }
    yield apps, texts, [r.pk for r in replies]
    migrate_to_latest()


def links(apps, texts):
    Message = apps.get_model("members", "Message")
    return {name: Message.objects.get(pk=pk).reply_id for name, pk in texts.items()}


def test_an_answer_sent_before_the_link_existed_is_linked_to_its_reply_and_nothing_else_changes(old):
    apps, texts, (broke, still) = old

    migrate_to(BACKFILL)

    assert links(apps, texts) == {"case text": None, "old answer": broke, "new answer": still}


def test_running_it_again_and_going_back_keep_the_links(old):
    apps, texts, (broke, still) = old
    migrate_to(BACKFILL)

    migrate_to(*BEFORE)  # going back changes nothing
    assert links(apps, texts) == {"case text": None, "old answer": broke, "new answer": still}
    migrate_to(BACKFILL)  # nor does running it again
    assert links(apps, texts) == {"case text": None, "old answer": broke, "new answer": still}
