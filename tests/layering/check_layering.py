#!/usr/bin/env python3
"""The layering check: every #include in Huashan's sources against one rules file.

    check_layering.py [--root DIR] [--rules FILE]

Scans every .cpp/.hpp/.cu/.cuh/.h under the top folders of the parts that
RULES names (tests/layering/rules.txt; its header says how to read it) below
ROOT (default: the repository holding this script), and prints one line per
include that breaks a rule:

    FILE:LINE: include "X" is not allowed in PART (rule RULES:N: ...)

Exits 0 when every include is allowed, 1 when one is not (or a source file
belongs to no part), 2 when the rules file itself is wrong. Standard library
only: it runs wherever python3 does.
"""

import argparse
import os
import re
import sys

SOURCE_SUFFIXES = (".cpp", ".hpp", ".cu", ".cuh", ".h")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


class RulesError(Exception):
    pass


def shown_as(path, repository):
    """`path` as messages name it: relative to the repository when inside it."""
    full = os.path.abspath(path)
    rel = os.path.relpath(full, repository)
    return full if rel.startswith("..") else rel


class Rules:
    def __init__(self, path, shown):
        self.path = shown
        self.parts = {}  # folder -> (allowed parts or "*", line number, text)
        self.only = []   # (prefix, places, line number, text)
        with open(path, encoding="utf-8") as f:
            for number, raw in enumerate(f, 1):
                line = raw.split("#", 1)[0].strip()
                if not line:
                    continue
                kind, _, rest = line.partition(" ")
                name, colon, targets = rest.partition(":")
                name, targets = name.strip(), targets.split()
                if not colon or not name or not targets:
                    raise RulesError(f"{shown}:{number}: expected 'part FOLDER: ...' or 'only PREFIX: ...', got '{line}'")
                text = " ".join(line.split())
                if kind == "part":
                    if name in self.parts:
                        raise RulesError(f"{shown}:{number}: part {name} is listed twice")
                    if targets == ["nothing"]:
                        allowed = set()
                    elif targets == ["*"]:
                        allowed = "*"
                    else:
                        allowed = set(targets)
                    self.parts[name] = (allowed, number, text)
                elif kind == "only":
                    self.only.append((name, targets, number, text))
                else:
                    raise RulesError(f"{shown}:{number}: unknown rule kind '{kind}' (part or only)")
        for folder, (allowed, number, _) in self.parts.items():
            if allowed != "*":
                for other in allowed:
                    if other not in self.parts:
                        raise RulesError(f"{shown}:{number}: part {folder} names {other}, which is not a part")
        if not self.parts:
            raise RulesError(f"{shown}: no parts")

    def part_of(self, relpath):
        """The longest part folder holding `relpath`, or None."""
        best = None
        for folder in self.parts:
            if relpath == folder or relpath.startswith(folder + "/"):
                if best is None or len(folder) > len(best):
                    best = folder
        return best

    def top_folders(self):
        return sorted({folder.split("/", 1)[0] for folder in self.parts})


def strip_comments(lines):
    """The lines with /* ... */ comments blanked (line numbers kept)."""
    out, in_block = [], False
    for line in lines:
        text, i = "", 0
        while i < len(line):
            if in_block:
                end = line.find("*/", i)
                if end < 0:
                    i = len(line)
                else:
                    in_block, i = False, end + 2
            else:
                start = line.find("/*", i)
                slash = line.find("//", i)
                if start < 0 or (0 <= slash < start):
                    text += line[i:] if slash < 0 else line[i:slash]
                    i = len(line)
                else:
                    text += line[i:start]
                    in_block, i = True, start + 2
        out.append(text)
    return out


def sources(root, rules):
    for top in rules.top_folders():
        base = os.path.join(root, top)
        for directory, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(SOURCE_SUFFIXES):
                    full = os.path.join(directory, name)
                    yield os.path.relpath(full, root).replace(os.sep, "/")


def check_file(root, rules, relpath):
    """The problems of one file, as printable lines."""
    part = rules.part_of(relpath)
    if part is None:
        return [f"{relpath}:1: file is in no part of {rules.path} (add a 'part' rule or move it)"]
    allowed, part_line, part_text = rules.parts[part]
    with open(os.path.join(root, relpath), encoding="utf-8", errors="replace") as f:
        lines = strip_comments(f.read().splitlines())
    problems = []
    for number, line in enumerate(lines, 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        bracket, header = m.groups()
        if bracket == '"':
            beside = os.path.normpath(os.path.join(os.path.dirname(relpath), header)).replace(os.sep, "/")
            target = beside if os.path.isfile(os.path.join(root, beside)) else header
            target_part = rules.part_of(target)
        else:
            target = header
            target_part = rules.part_of(header) if os.path.isfile(os.path.join(root, header)) else None
        if target_part is not None:
            if target_part != part and allowed != "*" and target_part not in allowed:
                problems.append(f'{relpath}:{number}: include "{header}" is not allowed in {part} '
                                f"(rule {rules.path}:{part_line}: {part_text})")
            continue
        if bracket == '"':
            problems.append(f'{relpath}:{number}: include "{header}" is not allowed in {part} '
                            f"(rule {rules.path}: a quoted include names a header of a part or a file beside it)")
            continue
        for prefix, places, only_line, only_text in rules.only:
            if header.startswith(prefix):
                ok = any(relpath == place or relpath.startswith(place + "/") for place in places)
                if not ok:
                    problems.append(f'{relpath}:{number}: include "{header}" is not allowed in {part} '
                                    f"(rule {rules.path}:{only_line}: {only_text})")
                break
    return problems


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="Check every #include against the layering rules.")
    parser.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..")),
                        help="the tree to check (default: this repository)")
    parser.add_argument("--rules", default=os.path.join(here, "rules.txt"), help="the rules file")
    args = parser.parse_args(argv)
    try:
        rules = Rules(args.rules, shown_as(args.rules, os.path.normpath(os.path.join(here, "..", ".."))))
    except (OSError, RulesError) as e:
        print(f"check_layering: {e}", file=sys.stderr)
        return 2
    root = os.path.abspath(args.root)
    problems, files = [], 0
    for relpath in sources(root, rules):
        files += 1
        problems += check_file(root, rules, relpath)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layering: {len(problems)} include(s) break the rules in {rules.path} ({files} files checked)",
              file=sys.stderr)
        return 1
    if files == 0:
        print(f"check_layering: no source files under {root} for the parts of {rules.path}", file=sys.stderr)
        return 1
    print(f"check_layering: {files} files under {root} follow {rules.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
