"""How ``make test`` shares the tests between its two xdist workers (tests/conftest.py): the
folders that share a worker, and the longest units handed out first."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.conftest import LONGEST_FIRST, ONE_WORKER_FOLDERS, folder_or_file_scheduling

ROOT = Path(__file__).resolve().parents[2]


@dataclass(eq=False)
class Worker:
    """What the scheduler calls on a worker: it only records the tests it is sent."""

    name: str
    sent: list[int] = field(default_factory=list)
    shutting_down: bool = False

    @property
    def gateway(self) -> Any:
        return SimpleNamespace(id=self.name)

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.extend(indexes)

    def shutdown(self) -> None:
        self.shutting_down = True


def _config() -> Any:
    values = {"tx": ["2*popen"], "dist": "loadgroup"}
    return SimpleNamespace(
        getvalue=values.__getitem__, option=SimpleNamespace(loadscopereorder=True)
    )


def test_every_longest_first_entry_names_a_folder_group_or_a_test_file() -> None:
    groups = set(ONE_WORKER_FOLDERS.values())
    for unit in LONGEST_FIRST:
        assert unit in groups or (ROOT / unit).is_file(), f"{unit} is neither a group nor a file"
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)


def test_the_longest_units_go_out_first_and_the_rest_by_test_count() -> None:
    # Given a collection where the listed units have few tests and another file many
    collection = [
        *(f"tests/api/test_many.py::test_{n}" for n in range(9)),
        "tests/e2e/test_roles_matrix.py::test_one",
        "tests/unit/test_few.py::test_a",
        "tests/unit/test_few.py::test_b",
        "tests/browser/test_a.py::test_x",
        "tests/browser/test_b.py::test_y",
        "tests/e2e/test_local_stack.py::test_one",
    ]
    scheduler = folder_or_file_scheduling()(_config())
    workers = [Worker("gw0"), Worker("gw1")]
    for worker in workers:
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, collection)

    # When the scheduler hands out the first units
    scheduler.schedule()

    # Then the listed units go first, longest first (the browser folder as one unit), and
    # then the others by test count; a worker with two tests or fewer left gets another unit
    sent = [[collection[i].split("::")[0] for i in w.sent] for w in workers]
    assert sent[0] == ["tests/e2e/test_local_stack.py", "tests/e2e/test_roles_matrix.py"]
    assert (
        sent[1]
        == ["tests/browser/test_a.py", "tests/browser/test_b.py"] + ["tests/api/test_many.py"] * 9
    )
    assert list(scheduler.workqueue) == ["tests/unit/test_few.py"]
