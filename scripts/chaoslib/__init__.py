"""Library of scripts/chaos: the history format and its checkers, and the runner's parts
(namespace, cluster, nemesis, workload, report). scripts/ is not on the import path: the
entry script and tests/scripts/conftest.py put it there."""

from .checker import QueueVerdict, Verdict, check_queue, check_register, check_registers
from .history import HistoryError, Op, read_history, write_history

__all__ = ["HistoryError", "Op", "QueueVerdict", "Verdict", "check_queue", "check_register",
           "check_registers", "read_history", "write_history"]
