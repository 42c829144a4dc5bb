"""Processes a test started and everything they started, found through /proc and stopped.

RQ puts each work horse in a process group of its own (`os.setpgrp`), and `make demo` starts
its children in sessions of their own, so killing the group of the process a test started
leaves those running. Take a snapshot of the tree while its root is alive (an orphan is no
longer found under it), then kill what is in it. Each entry keeps its start time, so a process
id the system has since handed to another process is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Mapping
from pathlib import Path


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(parent id, process group, start time) of a live process; None when there is none."""
    try:
        # The command name may hold spaces and parentheses: the fields follow the last ")".
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[2]), int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _table() -> dict[int, tuple[int, int, int]]:
    table = {}
    for entry in (Path(os.sep) / "proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                table[int(entry.name)] = stat
    return table


def snapshot(pid: int) -> dict[int, int]:
    """`pid` and every process under it, each with its start time.

    Take it only while `pid` is unreaped (its `Popen.poll()` still None): a reaped id may
    belong to someone else by now.
    """
    table = _table()
    if pid not in table:
        return {}
    found = {pid: table[pid][2]}
    todo = [pid]
    while todo:
        current = todo.pop()
        for child, (parent, _group, started) in table.items():
            if parent == current and child not in found:
                found[child] = started
                todo.append(child)
    return found


def kill_tree(tree: Mapping[int, int]) -> None:
    """SIGKILL each process of a snapshot that is still that process, and its group's members.

    A group outlives its leader: members of a snapshot process's group that started after it
    are killed too, even once that process has ended.
    """
    table = _table()
    doomed = {pid for pid, started in tree.items() if table.get(pid, (0, 0, -1))[2] == started}
    for pid, (_parent, group, started) in table.items():
        if group in tree and started >= tree[group]:
            doomed.add(pid)
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def work_horses(tree: Mapping[int, int], root: int) -> list[int]:
    """The processes of a snapshot (of `root`) that lead a process group of their own below
    `root`: RQ's work horses (`os.setpgrp`), the processes that send a job's requests."""
    table = _table()
    horses = []
    for pid, started in tree.items():
        stat = table.get(pid)
        if pid != root and stat is not None and stat[1] == pid and stat[2] == started:
            horses.append(pid)
    return sorted(horses)


def alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
