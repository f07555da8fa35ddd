"""The ledger harness as a fixture, for every ledger test module."""

import pytest

from tests.ledger.test_ledger import Harness


@pytest.fixture
def harness(tmp_path, fake_redis):
    return Harness(tmp_path, fake_redis=fake_redis)
