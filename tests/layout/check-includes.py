#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The source layout of docs/ARCHITECTURE.md, "What each part may include",
read from the #include lines of src/. TAP.

A module is a .c file with its header (pl-call.c, pl-call.h and
pl-call-private.h are the module pl-call); a header alone (pl-types.h) is a
module too. Its layer is its folder under src/. The checks:

1. every #include "pl-….h" names one header of src/ (or a generated one);
2. no cycle between modules;
3. a layer includes only its own and those below it: common nothing but
   common; protocol common and protocol; server and phone those two and
   their own, never each other; the frontends (cli, gtk, and the server's
   main.c) the libraries they are built on;
4. a frontend includes only a library's public headers: not a
   *-private.h, and none that includes (itself or through ours) GStreamer,
   libsoup or json-glib;
5. no layer includes the system headers it must not have: GStreamer nowhere
   but the phone, libsoup only in the server and the phone, json-glib only
   in the protocol, GTK only in the dialer.
"""

import os
import re
import sys

LIBRARIES = ('common', 'protocol', 'server', 'phone')
# What each layer may include of ours.
ALLOWED = {
    'common': {'common'},
    'protocol': {'common', 'protocol'},
    'server': {'common', 'protocol', 'server'},
    'phone': {'common', 'protocol', 'phone'},
    'server-main': {'common', 'protocol', 'server'},
    'cli': {'common', 'protocol', 'phone', 'cli'},
    'gtk': {'common', 'protocol', 'phone', 'gtk'},
}
FRONTENDS = ('server-main', 'cli', 'gtk')
# The system headers a layer may not include, by prefix.
GST, SOUP, JSON, GTK = ('gst/',), ('libsoup/',), ('json-glib/',), ('gtk/', 'adwaita.h')
FORBIDDEN = {
    'common': GST + SOUP + JSON + GTK,
    'protocol': GST + SOUP + GTK,
    'server': GST + GTK + ('nice/', 'agent.h'),
    'phone': GTK,
    'server-main': GST + SOUP + JSON + GTK,
    'cli': GST + SOUP + JSON + GTK,
    'gtk': GST + SOUP + JSON,
}
# What a public header may not pull in: the frontends build without these
# include directories (the libraries' partial_dependency ()).
HIDDEN = GST + SOUP + JSON
# Headers of ours that the build writes (configure_file ()).
GENERATED = {'pl-gtk-config.h'}

OURS = re.compile(r'^\s*#\s*include\s+"(pl-[^"]+\.h)"', re.M)
SYSTEM = re.compile(r'^\s*#\s*include\s+<([^>]+)>', re.M)
COMMENTS = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)


def layer_of(path):
    folder = path.split(os.sep)[0]
    if folder == 'server' and os.path.basename(path) == 'main.c':
        return 'server-main'
    return folder


def module_of(path):
    folder, name = os.path.split(path)
    stem = re.sub(r'(-private)?\.[ch]$', '', name)
    return folder + '/' + stem


def main():
    src = sys.argv[1]
    files = {}
    for folder, dirs, names in os.walk(src):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(('.c', '.h')):
                path = os.path.relpath(os.path.join(folder, name), src)
                with open(os.path.join(src, path), errors='replace') as f:
                    text = COMMENTS.sub('', f.read())
                files[path] = (OURS.findall(text), SYSTEM.findall(text))

    by_name = {}
    for path in files:
        by_name.setdefault(os.path.basename(path), []).append(path)

    results = []

    # 1. Every include resolves to one header.
    problems = []
    resolved = {}
    for path, (ours, _) in files.items():
        resolved[path] = []
        for header in ours:
            found = by_name.get(header, [])
            if len(found) == 1:
                resolved[path].append(found[0])
            elif header not in GENERATED:
                problems.append(f'{path}: "{header}" names {len(found)} headers of src/')
    results.append(('every include of "pl-….h" names one header of src/', problems))

    # 2. No cycle between modules (Tarjan's strongly connected components).
    graph = {}
    for path, headers in resolved.items():
        edges = graph.setdefault(module_of(path), set())
        for header in headers:
            if module_of(header) != module_of(path):
                edges.add(module_of(header))
    for edges in list(graph.values()):
        for target in edges:
            graph.setdefault(target, set())

    index, low, on_stack, stack, components = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)

    problems = []
    for component in components:
        # The shortest cycle through its first member, to say which includes
        # make it.
        members, start = set(component), component[0]
        previous, queue = {}, [start]
        while start not in previous:
            node = queue.pop(0)
            for target in sorted(graph[node] & members):
                if target not in previous:
                    previous[target] = node
                    queue.append(target)
        path, node = [start], previous[start]
        while node != start:
            path.insert(0, node)
            node = previous[node]
        path.insert(0, start)
        problems.append('cycle: ' + ' -> '.join(path))
    results.append(('no include cycle between modules', problems))

    # 3. Layers.
    problems = []
    for path, headers in sorted(resolved.items()):
        layer = layer_of(path)
        if layer not in ALLOWED:
            problems.append(f'{path}: src/{path.split(os.sep)[0]}/ is no layer this test knows')
            continue
        for header in headers:
            if layer_of(header) not in ALLOWED[layer]:
                problems.append(f'{path} ({layer}) includes {header} ({layer_of(header)})')
    results.append(('each layer includes only the layers it is built on', problems))

    # 4. Frontends: public headers only.
    hidden = {}

    def pulls_hidden(header, seen=()):
        if header not in hidden:
            if header in seen:
                return None
            _, system = files[header]
            why = next((f'<{s}>' for s in system if s.startswith(HIDDEN)), None)
            for inner in resolved[header]:
                if why is None:
                    inner_why = pulls_hidden(inner, seen + (header,))
                    if inner_why is not None:
                        why = f'{inner_why} through {os.path.basename(inner)}'
            hidden[header] = why
        return hidden[header]

    problems = []
    for path, headers in sorted(resolved.items()):
        if layer_of(path) not in FRONTENDS:
            continue
        for header in headers:
            if layer_of(header) not in LIBRARIES:
                continue
            if header.endswith('-private.h'):
                problems.append(f'{path} includes {header}, a private header')
            else:
                why = pulls_hidden(header)
                if why is not None:
                    problems.append(f'{path} includes {header}, which includes {why}')
    results.append(('the frontends include only public headers of the libraries', problems))

    # 5. System headers.
    problems = []
    for path, (_, system) in sorted(files.items()):
        layer = layer_of(path)
        for header in system:
            if header.startswith(FORBIDDEN.get(layer, ())):
                problems.append(f'{path} ({layer}) includes <{header}>')
    results.append(('no layer includes a system header it must not have', problems))

    print(f'1..{len(results)}')
    failed = False
    for number, (what, problems) in enumerate(results, 1):
        print(('not ok' if problems else 'ok') + f' {number} - {what}')
        for problem in problems:
            print(f'# {problem}')
        failed = failed or bool(problems)
    print(f'# {len(graph)} modules, {sum(len(e) for e in graph.values())} edges')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
