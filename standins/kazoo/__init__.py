"""A stand-in Kazoo (Crossbar v2) server for the Kazoo backend's tests."""

from standins.kazoo.model import API_KEY, CHILD_A, CHILD_B, ROOT, KazooModel, Number
from standins.kazoo.server import KazooStandIn, running

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
