#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every pipelines/*.pipeline runs on its own under gst-launch-1.0, with a
test source or a fakesink where the fragment needs a head or a tail, and
names the elements the application adjusts. The set of fragments this test
knows must equal the set in the folder: a new file without a case fails.

Usage: test-pipelines.py GST_LAUNCH GST_INSPECT PIPELINE_DIR
"""

import os
import re
import shlex
import sys
import tempfile

from partyline import Failure, Test

GST_LAUNCH, GST_INSPECT, PIPELINE_DIR = sys.argv[1:4]
HEAD = 'audiotestsrc num-buffers=50'    # about 1.2 s of audio, then EOS


def frag(name):
    with open(os.path.join(PIPELINE_DIR, name + '.pipeline')) as f:
        return f.read().strip()


def elements(description):
    """The element factories a description names (caps filters left out)."""
    names = []
    for part in description.split('!'):
        word = part.split()[0] if part.split() else ''
        if word and '/' not in word and '=' not in word:
            names.append(word)
    return names


# name -> (gst-launch description built from the fragment, element names the
# application looks up in it, what else to check afterwards)
#
# autoaudiosrc and autoaudiosink need a sound device, and CI machines and
# network namespaces have none (here autoaudiosrc picks openalsrc and fails
# with not-negotiated). For source-auto and sink-auto this test therefore
# checks that every element the fragment names exists (gst-inspect-1.0) and
# runs the fragment with the auto element swapped for audiotestsrc/fakesink,
# keeping its name and the rest of the fragment. It does not prove that a
# real device works.
CASES = {
    'audio-send': (lambda: f'{HEAD} ! {frag("audio-send")} ! fakesink',
                   ['payloader'], None),
    'audio-receive': (lambda: f'{HEAD} ! {frag("audio-send")} ! {frag("audio-receive")} ! fakesink',
                      ['decoder', 'level', 'spectrum'], 'level-messages'),
    'source-tone': (lambda: f'{frag("source-tone")} num-buffers=50 ! fakesink', ['source'], None),
    'source-silence': (lambda: f'{frag("source-silence")} num-buffers=50 ! fakesink', ['source'], None),
    'source-file': (lambda: f'{frag("source-file")} ! audioconvert ! fakesink', ['source'], 'input'),
    'source-auto': (lambda: re.sub(r'\bautoaudiosrc\b', HEAD, frag('source-auto')) + ' ! fakesink',
                    ['source'], 'auto'),
    'sink-fake': (lambda: f'{HEAD} ! {frag("sink-fake")}', ['sink'], None),
    'sink-record': (lambda: f'{HEAD} ! {frag("sink-record")}', ['sink'], 'record'),
    'sink-auto': (lambda: f'{HEAD} ! ' + re.sub(r'\bautoaudiosink\b', 'fakesink', frag('sink-auto')),
                  ['sink'], 'auto'),
}

with Test('pipelines', plan=len(CASES) + 1, watchdog=240, loopback_only=False) as t:
    on_disk = {f[:-len('.pipeline')] for f in os.listdir(PIPELINE_DIR) if f.endswith('.pipeline')}
    t.check(on_disk == set(CASES), 'every pipelines/*.pipeline has a case here, and no more',
            f'files without a case: {sorted(on_disk - set(CASES))}; '
            f'cases without a file: {sorted(set(CASES) - on_disk)}')

    for name, (build, names, extra) in CASES.items():
        with t.step(f'{name}.pipeline runs under gst-launch-1.0', fatal=False), \
                tempfile.TemporaryDirectory(prefix=f'pl-{name}-') as tmp:
            text = frag(name)
            missing = [n for n in names if not re.search(rf'\bname={re.escape(n)}\b', text)]
            if missing:
                raise Failure(f'{name}.pipeline names no element {missing}: {text}')
            if extra == 'auto':
                for factory in elements(text):
                    rc, _, err = t.run([GST_INSPECT, '--exists', factory])
                    if rc != 0:
                        raise Failure(f'element {factory} does not exist')
            if extra == 'input':
                rc, out, err = t.run([GST_LAUNCH, *shlex.split(
                    f'{HEAD} ! opusenc ! oggmux ! filesink location=input.ogg')], cwd=tmp)
                if rc != 0:
                    raise Failure(f'could not make input.ogg: {out}{err}')
            description = build()
            t.diag(f'gst-launch-1.0 -m {description}')
            # gst-launch-1.0 takes the description as separate words.
            rc, out, err = t.run([GST_LAUNCH, '-m', *shlex.split(description)], cwd=tmp,
                                 timeout=60)
            if rc != 0 or 'Got EOS from element' not in out:
                raise Failure(f'exit status {rc}, no EOS\n{out[-2000:]}{err[-2000:]}')
            if extra == 'level-messages' and 'from element "level"' not in out:
                raise Failure('no level message: nothing decoded reached the analysis\n' + out[-2000:])
            if extra == 'record':
                path = os.path.join(tmp, 'call.ogg')
                with open(path, 'rb') as f:
                    head = f.read(4)
                if head != b'OggS':
                    raise Failure(f'{path} does not start like an Ogg file: {head!r}')
                rc, out, err = t.run([GST_LAUNCH, *shlex.split(
                    f'filesrc location={path} ! oggdemux ! opusdec ! fakesink')], cwd=tmp)
                if rc != 0 or 'Got EOS from element' not in out:
                    raise Failure(f'the recording does not decode: {out}{err}')
