"""The operator's shell (tests/deploy/operator_shell.py) for every deploy test that asks for it."""

from tests.deploy.operator_shell import operator_shell, own_moto  # noqa: F401 (fixtures)
