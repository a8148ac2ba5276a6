# Utility modules: `import helpers` in a macro or transform loads the project's
# scripts/helpers.py (a `kind: utility` script), and nothing else.
#
# The engine sends a script together with the sources of the utilities it imports, transitively
# (the script's identity includes their hashes). `set_modules` hands them to this finder before
# the script runs. The finder sits at the *end* of sys.meta_path, so a standard-library module
# always wins over a utility of the same name (the store refuses such names anyway), and it
# knows only the modules it was given: no host path, no other script's utilities. A guest
# instance belongs to one script, so what one script imports can never resolve for another.
#
# Cycles, missing names and errors raised while a utility runs are Python's own: the import
# system here is CPython's importlib. Tracebacks name the utility's file (`helpers.py`).
#
# This file runs in the guest (before the interpreter snapshot) and in fixtures/calling.py
# under CPython, so the golden tests import utilities the same way.
import sys as _sys
from importlib.machinery import ModuleSpec as _ModuleSpec

_compile = compile
_exec = exec

# Module name -> source of the utilities the current script may import.
_sources = {}


def set_modules(modules):
    """Makes exactly `modules` ({name: source}) importable."""
    _sources.clear()
    _sources.update(modules)


class UtilityLoader:
    """Runs a utility's source as a module named after its file."""

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        name = module.__spec__.name
        code = _compile(_sources[name], name + ".py", "exec", dont_inherit=True)
        _exec(code, module.__dict__)


class UtilityFinder:
    """Finds the utilities the current script was sent with; nothing else."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if path is not None or name not in _sources:
            return None
        spec = _ModuleSpec(name, UtilityLoader, origin=name + ".py")
        spec.has_location = True
        return spec

    @staticmethod
    def invalidate_caches():
        pass


def install_utilities():
    if UtilityFinder not in _sys.meta_path:
        _sys.meta_path.append(UtilityFinder)
