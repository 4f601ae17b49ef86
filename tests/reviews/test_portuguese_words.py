"""Portuguese 3★ reviews as Olist buyers write them (the texts are from the real Olist file): the complaint
opens a case whatever its gender, number or tense, harmless phrasing does not, and the case's reason names each
word once."""

import pytest

from reviews.services import negative_words_in
from tests.reviews.conftest import make_case


@pytest.mark.parametrize(("text", "word"), [
    ("Capa veio na cor errada", "errad*"),
    ("Comprei uma cadeira, recebi no prazo, porém a cadeira veio quebrada na parte inferior.", "quebrad*"),
    ("Entrega atrasou", "atrasou"),
    ("A capa é muito boa para o celular mas e película inclusa é de muita péssima qualidade.", "péssim*"),
    ("chegou com uma madeira atrás quebrada e a tela do quadro danificada afundada", "danificad*"),
    ("Chegou amassado...", "amassad*"),
    ("Minha mercadoria era para levar mais ou menos 20 dias para chegar, demorou quase dois meses!!!!!", "demorou"),
    ("era na verdade um produto falsificado, não confio mais", "falsificad*"),
    ("Mais ou menos não gostei", "não gostei"),
    ("Faltaram os cabos e o manual", "faltaram"),
    ("O produto ainda nao foi entregue!!!", "não foi entregue"),
    ("Eu comprei duas unidades e só recebi uma e agora o que faço?", "só recebi"),
    ("Recebi apenas 1 caixa com 100 unidades, e pedi 2 caixas.", "recebi apenas"),
    ("Uma boa faca, porém só não veio amolada.", "não veio"),
])
def test_a_portuguese_complaint_opens_a_case_in_any_inflection(store_a, text, word):
    case = make_case(store_a, rating=3, body=text)
    assert case is not None and f"“{word}”" in case.reason


@pytest.mark.parametrize("text", [
    "Entrega no prazo",
    "Recebi corretamente o produto",
    "Não atrasou, chegou antes do prazo",
    "Não demorou nada, tudo certo",
    "Produto sem nenhum defeito, mas a cor é mais clara",
    "Veio bem embalado, nada quebrado",
    "Produto bom, não decepciona",
])
def test_harmless_portuguese_opens_no_case(store_a, text):
    assert make_case(store_a, rating=3, body=text) is None


def test_the_reason_names_a_word_once_however_the_list_spells_it(store_a):
    # The default list has both "não recebi" and "nao recebi"; accents are ignored, so both match the same words.
    case = make_case(store_a, rating=3, body="Ainda não recebi o produto")
    assert case.reason == "rating 3 with “não recebi”"
    assert negative_words_in("PÉSSIMO", ["péssimo", "pessimo", "Péssimo"]) == ["péssimo"]
