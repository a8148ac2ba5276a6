# The CPython guest's importer of its built-in standard library. Run once, in the interpreter's
# core phase (before `encodings` and the rest are imported, and before the snapshot), in a
# private namespace holding the native `_stdlib_kind` and `_stdlib_code` (native.rs).
#
# The guest has no filesystem: every standard-library module comes from the table compiled into
# the guest (stdlib.py). This finder goes on sys.meta_path before CPython's path finder, which
# finds nothing (sys.path is empty and no directory is visible).
import sys
import _frozen_importlib as _bootstrap

_ModuleSpec = _bootstrap.ModuleSpec
_exec = exec


class StdlibImporter:
    """Finds and loads the modules of the guest's built-in standard library."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        kind = _stdlib_kind(name)
        if not kind:
            return None
        spec = _ModuleSpec(name, StdlibImporter, origin="<stdlib>", is_package=kind == 2)
        return spec

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        code = _stdlib_code(module.__spec__.name)
        module.__file__ = code.co_filename
        _exec(code, module.__dict__)

    @staticmethod
    def is_package(name):
        return _stdlib_kind(name) == 2

    @staticmethod
    def get_code(name):
        return _stdlib_code(name)

    @staticmethod
    def get_source(name):
        return None


sys.meta_path.append(StdlibImporter)
