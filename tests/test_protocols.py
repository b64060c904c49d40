"""mypy checks each backend against its Protocol where the factory that chooses it returns it
(`make lint`, docs/testing.md). That holds only while each factory says it returns the Protocol:
with another return type, or none, a drifted backend would pass unnoticed."""

from __future__ import annotations

from typing import get_type_hints

from books.repository import Repository, get_repository
from listening.repository import ListeningRepository, get_listening_repository
from streaming.storage import ObjectStore
from streaming.stores import get_object_store
from voj.security import ExpiringState, get_security_state


def test_each_backend_factory_returns_its_protocol():
    for factory, protocol in (
        (get_repository, Repository),
        (get_listening_repository, ListeningRepository),
        (get_object_store, ObjectStore),
        (get_security_state, ExpiringState),
    ):
        assert get_type_hints(factory.__wrapped__)["return"] is protocol, factory.__name__
