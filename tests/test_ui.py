"""gallery.ui.limit_threads and a module another thread is still importing (issue 26).

Home.py's warm-up thread imports torch in the background while visitors' runs call ``ui.limit_threads()``; one of
four visitors opening Translate at once on a fresh server once got ``AttributeError: partially initialized module
'torch' has no attribute 'set_num_threads'``. These tests hold the import half-way on purpose, so they fail on
the old code every time rather than by chance.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import types

import pytest

from gallery import ui


def partial_module(name: str) -> types.ModuleType:
    """A stand-in for a module whose import has started and not finished, as ``sys.modules`` holds it meanwhile."""
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.__spec__._initializing = True  # what importlib sets for the time a module's code runs
    return module


@pytest.fixture
def fresh(monkeypatch):
    """limit_threads as on a fresh server (nothing set yet), BLAS calls recorded instead of made."""
    monkeypatch.setattr(ui, "_limited", set())
    blas = []
    import threadpoolctl

    monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda n, user_api=None: blas.append(n))
    return blas


def test_a_partially_initialised_torch_is_left_alone_until_its_import_finishes(monkeypatch, fresh):
    torch = partial_module("torch")
    monkeypatch.setitem(sys.modules, "torch", torch)
    with pytest.raises(AttributeError, match="partially initialized"):
        torch.set_num_threads  # noqa: B018  (what the old code met)
    ui.limit_threads()  # must neither touch it nor count it as done
    assert "torch" not in ui._limited

    calls = []
    torch.set_num_threads = calls.append  # the import finishes
    torch.__spec__._initializing = False
    ui.limit_threads()
    assert calls == [ui.torch_threads()] and "torch" in ui._limited


def test_a_partially_initialised_numpy_is_not_counted_as_limited(monkeypatch, fresh):
    """Its BLAS may not be loaded yet: limiting now would limit nothing and mark it done for good."""
    numpy = partial_module("numpy")
    monkeypatch.setitem(sys.modules, "numpy", numpy)
    ui.limit_threads()
    assert fresh == [] and "blas" not in ui._limited
    numpy.__spec__._initializing = False
    ui.limit_threads()
    assert fresh == [ui.torch_threads()] and "blas" in ui._limited


class HeldImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports a module ``torch`` whose code stops half-way (``started`` set) until ``release`` is set."""

    def __init__(self):
        self.started, self.release, self.calls = threading.Event(), threading.Event(), []

    def find_spec(self, name, path=None, target=None):
        return importlib.machinery.ModuleSpec(name, self) if name == "torch" else None

    def exec_module(self, module):
        self.started.set()
        assert self.release.wait(10), "the test never released the import"
        module.set_num_threads = self.calls.append  # defined after the wait, as torch's own is late in its import


def test_a_visitor_run_during_a_real_import_in_another_thread(monkeypatch, fresh):
    """Two threads gated by events, through Python's own import machinery: the warm-up thread's import of torch is
    held half-way while a visitor's run calls limit_threads."""
    held = HeldImport()
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # restored after the test
    monkeypatch.setattr(sys, "meta_path", [held, *sys.meta_path])
    errors = []

    def warm_up():
        try:
            importlib.import_module("torch")
        except BaseException as err:  # noqa: BLE001  (reported by the test)
            errors.append(err)

    thread = threading.Thread(target=warm_up, name="test-warm-up")
    thread.start()
    try:
        assert held.started.wait(10)
        assert sys.modules["torch"].__spec__._initializing  # the visitor's run sees a module being imported
        ui.limit_threads()  # the old code: AttributeError: partially initialized module 'torch' ...
        assert held.calls == [] and "torch" not in ui._limited
    finally:
        held.release.set()
        thread.join(10)
    assert not errors and not thread.is_alive()
    ui.limit_threads()  # the next run, once the import has finished
    assert held.calls == [ui.torch_threads()] and "torch" in ui._limited
