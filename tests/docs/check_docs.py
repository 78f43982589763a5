#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that the documentation's references resolve (ctest docs-links).

    check_docs.py [ROOT]

Over every text file of the source tree (build directories, .git and the
fuzz corpus left out) it checks:

1. Markdown links: every relative link `[text](path#anchor)` of a *.md
   file names a file or directory that exists, and an anchor names a
   heading of the target Markdown file (GitHub's anchor rules), or of the
   same file for `(#anchor)`.
2. Plain references in code, scripts, CMake and Markdown: every
   docs/<page>.md names an existing file, and when it is followed by a
   section name (a comma, then "Name", section "Name" or *Name*), that
   file has a heading starting with that name.
3. No reference to a document that is not in the repository: the words
   the project used for outside notes do not occur.
4. docs/testing.md stays an overview: at most 25 KB (each suite has its
   own page in docs/testing/).

Prints one line per problem (file:line: what) and exits 1 if there is
any, else prints a summary and exits 0. Standard library only.
"""
import os
import re
import sys

SKIP_DIRS = {".git", "corpus", "img"}
TEXT_SUFFIXES = {".md", ".c", ".h", ".py", ".cmake", ".txt", ".sh", ".yml",
                 ".yaml", ".json", ".in", ".1", ".conf", ""}
OVERVIEW = os.path.join("docs", "testing.md")
OVERVIEW_MAX_BYTES = 25 * 1024
# Built from parts so that this file does not match itself.
OUTSIDE_DOCS = re.compile(r"\b" + "GUI" + r"DE\b|" + "\u4f7f\u7528" +
                          "\u793a\u4f8b")

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(\S+)", re.M)
DOC_REF = re.compile(r"(?<![\w/.-])docs/[\w./-]*\w\.md")
SECTION_AFTER = re.compile(
    r'^,\s*(?:section\s+)?(?:\\?"((?:[^"\\]|\\.)+?)\\?"|\*([^*]+)\*)')


def is_build_dir(name):
    return name == "build" or name.startswith("build-")


def source_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames
                             if d not in SKIP_DIRS and not is_build_dir(d))
        for name in sorted(filenames):
            suffix = os.path.splitext(name)[1]
            if suffix not in TEXT_SUFFIXES:
                continue
            path = os.path.normpath(os.path.join(rel, name))
            try:
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    text = f.read()
            except (UnicodeDecodeError, OSError):
                continue
            yield path, text


def strip_code(text):
    """Markdown text with fenced blocks and inline code blanked (line
    numbers kept), so that links and headings inside code are ignored."""
    out = []
    fence = None
    for line in text.split("\n"):
        m = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if fence:
            if m and m.group(1)[0] == fence[0] and \
                    len(m.group(1)) >= len(fence):
                fence = None
            out.append("")
            continue
        if m:
            fence = m.group(1)
            out.append("")
            continue
        out.append(re.sub(r"(`+)(.+?)\1", lambda c: " " * len(c.group(0)),
                          line))
    return "\n".join(out)


def heading_texts(text):
    """The plain text of every ATX heading outside code blocks."""
    fence = None
    heads = []
    for line in text.split("\n"):
        m = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if fence:
            if m and m.group(1)[0] == fence[0]:
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        h = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if h:
            plain = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", h.group(1))
            heads.append(plain.replace("`", "").replace("*", ""))
    return heads


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(text):
    seen = {}
    out = set()
    for h in heading_texts(text):
        base = slug(h)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else "%s-%d" % (base, n))
    for m in re.finditer(r"<a\s+(?:name|id)=\"([^\"]+)\"", text):
        out.add(m.group(1))
    return out


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..",
                                        ".."))
    files = dict(source_files(root))
    anchor_cache = {}

    def anchors_of(path):
        if path not in anchor_cache:
            text = files.get(path)
            if text is None:
                try:
                    with open(os.path.join(root, path),
                              encoding="utf-8") as f:
                        text = f.read()
                except OSError:
                    text = ""
            anchor_cache[path] = anchors(text)
        return anchor_cache[path]

    problems = []
    links = 0
    refs = 0

    def problem(path, text, offset, what):
        problems.append("%s:%d: %s" % (path, line_of(text, offset), what))

    for path, text in files.items():
        if path.endswith(".md"):
            code_free = strip_code(text)
            targets = [(m.start(), m.group(1)) for m in LINK.finditer(
                code_free)]
            targets += [(m.start(), m.group(1)) for m in REF_DEF.finditer(
                code_free)]
            for offset, target in targets:
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                    continue  # http:, https:, mailto:
                links += 1
                file_part, _, anchor = target.partition("#")
                if file_part:
                    dest = os.path.normpath(os.path.join(
                        os.path.dirname(path), file_part))
                    if dest.startswith(".."):
                        problem(path, code_free, offset,
                                "link leaves the repository: %s" % target)
                        continue
                    if not os.path.exists(os.path.join(root, dest)):
                        problem(path, code_free, offset,
                                "link to a missing file: %s" % target)
                        continue
                else:
                    dest = path
                if anchor and dest.endswith(".md") and \
                        anchor not in anchors_of(dest):
                    problem(path, code_free, offset,
                            "no heading for #%s in %s" % (anchor, dest))

        for m in DOC_REF.finditer(text):
            refs += 1
            dest = m.group(0)
            if not os.path.isfile(os.path.join(root, dest)):
                problem(path, text, m.start(),
                        "reference to a missing file: %s" % dest)
                continue
            after = text[m.end():m.end() + 200]
            leader = r"\s*\n\s*" if path.endswith(".md") else \
                r"\s*\n\s*(?:#|\*|//)?\s*"  # a comment's line leader
            after = re.sub(leader, " ", after)
            after = re.sub(r'"\s+"', "", after)  # "adjacent " "literals"
            s = SECTION_AFTER.match(after)
            if not s:
                continue
            name = (s.group(1) or s.group(2)).replace('\\"', '"').strip()
            with open(os.path.join(root, dest), encoding="utf-8") as f:
                heads = heading_texts(f.read())
            if not any(h.startswith(name) for h in heads):
                problem(path, text, m.start(),
                        "%s has no section \"%s\"" % (dest, name))

        for m in OUTSIDE_DOCS.finditer(text):
            problem(path, text, m.start(),
                    "reference to a document that is not in the "
                    "repository: %s" % m.group(0))

    overview = os.path.join(root, OVERVIEW)
    if os.path.exists(overview):
        size = os.path.getsize(overview)
        if size > OVERVIEW_MAX_BYTES:
            problems.append("%s: %d bytes, more than %d: move suite detail "
                            "to docs/testing/" % (OVERVIEW, size,
                                                  OVERVIEW_MAX_BYTES))

    for p in sorted(problems):
        print(p)
    if problems:
        print("check_docs: %d problem(s)" % len(problems))
        return 1
    print("check_docs: %d files, %d links, %d docs/ references: all resolve"
          % (len(files), links, refs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
