"""A stand-in Kazoo (Crossbar v2) server for the Kazoo backend's tests."""

from tests.kazoo_standin.model import API_KEY, CHILD_A, CHILD_B, ROOT, KazooModel, Number
from tests.kazoo_standin.server import KazooStandIn, running

__all__ = [
    "API_KEY",
    "CHILD_A",
    "CHILD_B",
    "ROOT",
    "KazooModel",
    "KazooStandIn",
    "Number",
    "running",
]
