#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Python harness is in one place (docs/ARCHITECTURE.md, tests/lib/README.md):
every Python file of tests/, bench/ and scripts/ that imports a module of the
source tree imports it from tests/lib, found on PYTHONPATH, or (bench/ only)
from its own folder; none edits sys.path to reach one; and no other file
has the name of a tests/lib module (a script's own folder comes first on
sys.path: bench/hostile.py would import itself for tests/lib's). TAP.

    check-python.py SOURCE_ROOT
"""

import ast
import os
import sys

TREES = ('tests', 'bench', 'scripts')
LIB = os.path.join('tests', 'lib')
# Folders whose scripts may import a neighbour plainly: bench/benchlib.py.
OWN_MODULES = ('bench',)


def python_files(root):
    for tree in TREES:
        for folder, dirs, files in os.walk(os.path.join(root, tree)):
            dirs[:] = sorted(d for d in dirs if d != '__pycache__')
            for name in sorted(files):
                if name.endswith('.py'):
                    yield os.path.relpath(os.path.join(folder, name), root)


def edits_sys_path(tree):
    """The lines that change sys.path: sys.path.insert (…), sys.path = …,
    sys.path[…] = …, sys.path += …."""
    def is_sys_path(node):
        return (isinstance(node, ast.Attribute) and node.attr == 'path' and
                isinstance(node.value, ast.Name) and node.value.id == 'sys')

    def target(node):
        return is_sys_path(node) or (isinstance(node, ast.Subscript) and is_sys_path(node.value))

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                is_sys_path(node.func.value):
            lines.append(node.lineno)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(target(t) for t in targets):
                lines.append(node.lineno)
    return lines


def imported(tree):
    """(line, top-level module name) of every absolute import."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split('.')[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split('.')[0]


def main():
    root = sys.argv[1]
    files = list(python_files(root))
    # Where each module name of the source tree is defined.
    homes = {}
    for path in files:
        homes.setdefault(os.path.splitext(os.path.basename(path))[0], []).append(path)

    path_edits, misplaced = [], []
    for path in files:
        with open(os.path.join(root, path), encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        path_edits += [f'{path}:{line}' for line in edits_sys_path(tree)]
        folder = os.path.dirname(path)
        for line, name in imported(tree):
            places = [os.path.dirname(p) for p in homes.get(name, [])]
            if not places or LIB in places:
                continue
            if folder in places and folder in OWN_MODULES:
                continue
            misplaced.append(f'{path}:{line} imports {name} from {", ".join(places)}')

    lib = sorted(name for name, paths in homes.items()
                 if any(os.path.dirname(p) == LIB for p in paths))
    shadows = sorted(p for name in lib for p in homes[name] if os.path.dirname(p) != LIB)

    print('1..4')
    print(('ok' if files else 'not ok') + f' 1 - Python files found under {", ".join(TREES)}')
    print(('not ok' if path_edits else 'ok') + ' 2 - no file edits sys.path')
    for where in path_edits:
        print(f'# sys.path edited at {where}')
    print(('not ok' if misplaced else 'ok') +
          f' 3 - every module of the source tree that is imported lives in {LIB}'
          f' (or beside its importer in {", ".join(OWN_MODULES)})')
    for what in misplaced:
        print(f'# {what}')
    print(('not ok' if shadows else 'ok') + f' 4 - no other file has the name of a {LIB} module')
    for path in shadows:
        print(f'# {path} has the name of a module of {LIB}')
    print(f'# {len(files)} files; {LIB}: {" ".join(lib)}')
    return 1 if path_edits or misplaced or shadows or not files else 0


sys.exit(main())
