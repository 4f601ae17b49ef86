import pytest


@pytest.fixture
def teas(store_a):
    """Three products of store A, for the product breakdown (see test_anomaly.seed_breakdowns)."""
    from tests.factories import ProductFactory

    return [ProductFactory(store=store_a, title=t) for t in ("Jasmine tea 250 g", "Green tea 100 g", "Oolong 50 g")]
