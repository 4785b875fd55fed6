"""Issue 12.6: one error hierarchy. Every error the engine raises on purpose is defined in
``engine/errors.py`` and drawn in its docstring; the other packages' errors subclass
``PbcountError`` (so the CLI and the API catch one base class)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import api
import ballot_scan
import engine
import pbcount
from engine import errors
from engine.errors import PbcountError

# the stand-alone verifier imports nothing of pbcount (engine/verifier/README.md); a private
# control-flow exception of the body-size middleware never leaves its module
INDEPENDENT = {"engine.verifier.errors.VerificationFailure", "engine.verifier.jsonio.DuplicateKey",
               "api.limits._TooLarge"}


def exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for pkg in (engine, ballot_scan, api, pbcount):
        for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if ".migrations" in mod.name or mod.name.endswith("__main__"):
                continue
            m = importlib.import_module(mod.name)
            for _, obj in inspect.getmembers(m, inspect.isclass):
                if issubclass(obj, BaseException) and obj.__module__ == m.__name__:
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


def test_every_error_is_a_pbcount_error() -> None:
    classes = exception_classes()
    assert len(classes) > 10
    stray = [f"{c.__module__}.{c.__qualname__}" for c in classes
             if not issubclass(c, PbcountError) and f"{c.__module__}.{c.__qualname__}" not in INDEPENDENT
             and not c.__qualname__.startswith("_")]  # private control flow, caught in its module
    assert stray == []


def test_engine_errors_live_in_engine_errors_and_are_drawn() -> None:
    outside = [f"{c.__module__}.{c.__qualname__}" for c in exception_classes()
               if c.__module__.startswith("engine.") and c.__module__ != "engine.errors"
               and f"{c.__module__}.{c.__qualname__}" not in INDEPENDENT and not c.__qualname__.startswith("_")]
    assert outside == []
    doc = errors.__doc__ or ""
    for name, obj in inspect.getmembers(errors, inspect.isclass):
        if issubclass(obj, BaseException) and obj.__module__ == "engine.errors":
            assert name in doc, f"{name} is not drawn in engine/errors.py's docstring"


def test_one_election_closed_error() -> None:
    names = [c.__qualname__ for c in exception_classes()]
    assert names.count("ElectionClosedError") == 1 and "ElectionClosed" not in names
