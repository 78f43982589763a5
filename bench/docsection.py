# SPDX-License-Identifier: Apache-2.0
"""Marked sections of docs/performance.md: each is owned by one tool and
lives between <!-- BEGIN name ... --> and <!-- END name --> markers, so
that every tool rewrites its own figures and keeps everyone else's
(scripts/bench's report, scripts/bench-cortexm, scripts/codesize, the
headline of bench/targets.py). Standard library only."""
import os
import re


def section_re(name):
    return re.compile(r"<!-- BEGIN %s\b.*?<!-- END %s -->\n?"
                      % (re.escape(name), re.escape(name)), re.S)


def replace_text(text, name, section, before="\n## Reproduce"):
    """text with its section name replaced by section (which carries its
    own markers), or section inserted before the first occurrence of
    before (else at the end) if text has none."""
    section = section.rstrip("\n") + "\n"
    pattern = section_re(name)
    if pattern.search(text):
        return pattern.sub(lambda m: section, text, count=1)
    if before in text:
        i = text.index(before) + 1
        return text[:i] + section + "\n" + text[i:]
    return text.rstrip("\n") + "\n\n" + section


def sections(text):
    """{name: section text} of every marked section in text."""
    out = {}
    for m in re.finditer(r"<!-- BEGIN ([\w-]+)\b.*?<!-- END \1 -->\n?", text,
                         re.S):
        out[m.group(1)] = m.group(0)
    return out


def write_section(path, name, section, before="\n## Reproduce"):
    """Replace (or add, before before) section name of the file at path,
    atomically."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    else:
        text = "# kheap performance\n"
    text = replace_text(text, name, section, before)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
