"""Template rendering and SMS length: pure functions."""

import pytest

from members.texts import TemplateError, placeholders_in, preview, render, sms_length


def test_plain_ascii_up_to_160_is_one_gsm7_segment():
    length = sms_length("a" * 160)
    assert (length.encoding, length.units, length.segments) == ("GSM-7", 160, 1)


def test_161_gsm7_characters_split_into_segments_of_153():
    assert sms_length("a" * 161).segments == 2
    assert sms_length("a" * 306).segments == 2
    assert sms_length("a" * 307).segments == 3


def test_extension_characters_count_twice():
    length = sms_length("€" * 80)
    assert (length.encoding, length.units, length.segments) == ("GSM-7", 160, 1)
    assert sms_length("€" * 81).segments == 2


def test_an_extension_character_is_not_split_across_segments():
    # 152 plain + "{" (2 septets) would straddle the 153 boundary: it moves to the next segment
    assert sms_length("a" * 152 + "{" + "a" * 152).segments == 3


def test_chinese_makes_the_text_ucs2_with_70_and_67():
    assert sms_length("你" * 70).segments == 1
    length = sms_length("你" * 71)
    assert (length.encoding, length.segments, length.per_segment) == ("UCS-2", 2, 67)


def test_one_emoji_turns_a_short_text_ucs2_and_counts_two_units():
    length = sms_length("Happy holidays 🎄")
    assert length.encoding == "UCS-2"
    assert length.units == len("Happy holidays ") + 2


def test_gsm_accented_letters_stay_gsm7_but_others_do_not():
    assert sms_length("Café à Zürich").encoding == "GSM-7"
    assert sms_length("Crème brûlée").encoding == "UCS-2"  # è is in the GSM alphabet, û is not


def test_render_fills_placeholders_and_keeps_literal_braces():
    assert render("Hi {first_name}, {{code}} {coupon}", {"first_name": "Mei", "coupon": "X1"}) == "Hi Mei, {code} X1"


@pytest.mark.parametrize("body, text", [
    ("Hi {first_name}, thanks for your order {order}.", "Hi, thanks for your order."),
    ("Hi {first_name}!", "Hi!"),
    ("亲爱的 {first_name}，感谢您的订单。", "亲爱的，感谢您的订单。"),
    ("{first_name}您好，{store}祝您中秋快乐。", "您好，Jade Tea House祝您中秋快乐。"),
    ("Dear {name} from {store}", "Dear from Jade Tea House"),
])
def test_an_empty_placeholder_takes_the_spaces_before_it_with_it(body, text):
    assert render(body, {"first_name": "", "name": None, "store": "Jade Tea House"}) == text


@pytest.mark.parametrize("body", ["{member.store}", "{first_name.__class__}", "{coupon[0]}", "{password}"])
def test_render_refuses_anything_but_known_names(body):
    with pytest.raises(TemplateError, match="Unknown placeholder"):
        render(body, {"first_name": "x"})


def test_format_specs_are_refused():
    with pytest.raises(TemplateError, match="format"):
        placeholders_in("{first_name:>10}")


def test_unbalanced_braces_get_a_clear_error():
    with pytest.raises(TemplateError, match="Unbalanced"):
        placeholders_in("Hi {first_name")


def test_preview_uses_sample_values_and_reports_length():
    text, length = preview("Hi {first_name}, code {coupon}", {"store": "X"})
    assert text == "Hi Mei, code JT-7KQ2-M9XD"
    assert length.segments == 1
