#!/usr/bin/env python3
"""Checks that every llmring_* function the Swift sources call exists in include/llmring.h
with the same number of arguments, and that every LLMRING_* constant they use is declared
there. Usage: check-swift-c-calls.py HEADER SWIFT_DIR... ; exits 1 on a mismatch."""
import pathlib
import re
import sys


def header_functions(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    functions = {}
    for m in re.finditer(r"\b(llmring_\w+)\s*\(([^()]*)\)\s*;", text):
        params = m.group(2).strip()
        functions[m.group(1)] = 0 if params in ("", "void") else params.count(",") + 1
    constants = set(re.findall(r"\b(LLMRING_[A-Z0-9_]+)\b", text))
    return functions, constants


def strip_swift(text):
    """Swift source with comments and string literals blanked (lengths kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('#"""', i) or text.startswith('"""', i):
            close = '"""#' if text[i] == "#" else '"""'
            j = text.find(close, i + len(close))
            j = n if j < 0 else j + len(close)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('#"', i) or text[i] == '"':
            raw = text[i] == "#"
            j = i + (2 if raw else 1)
            while j < n:
                if not raw and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith('"#' if raw else '"', j):
                    j += 2 if raw else 1
                    break
                j += 1
            out.append('""' + " " * max(0, j - i - 2))
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def count_arguments(text, open_paren):
    """Top-level arguments of the call whose '(' is at open_paren."""
    depth, i, commas, empty = 0, open_paren, 0, True
    while i < len(text):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return 0 if empty else commas + 1
        elif c == "," and depth == 1:
            commas += 1
        elif depth >= 1 and not c.isspace():
            empty = False
        i += 1
    raise ValueError("unbalanced parentheses")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    functions, constants = header_functions(pathlib.Path(sys.argv[1]).read_text())
    problems, calls, used = [], 0, set()
    for root in sys.argv[2:]:
        for path in sorted(pathlib.Path(root).rglob("*.swift")):
            text = strip_swift(path.read_text())
            for m in re.finditer(r"\b(llmring_\w+)\b", text):
                name = m.group(1)
                line = text.count("\n", 0, m.start()) + 1
                where = f"{path}:{line}"
                after = text[m.end():].lstrip()
                if name.endswith("_t") or name.endswith("_fn"):
                    continue  # a type
                if name not in functions:
                    problems.append(f"{where}: {name} is not declared in the header")
                    continue
                used.add(name)
                if not after.startswith("("):
                    continue  # referenced, not called
                paren = m.end() + (len(text[m.end():]) - len(after))
                got = count_arguments(text, paren)
                calls += 1
                if got != functions[name]:
                    problems.append(
                        f"{where}: {name} called with {got} argument(s), the header declares {functions[name]}")
            for m in re.finditer(r"\b(LLMRING_[A-Z0-9_]+)\b", text):
                if m.group(1) not in constants:
                    line = text.count("\n", 0, m.start()) + 1
                    problems.append(f"{path}:{line}: {m.group(1)} is not declared in the header")
    for p in problems:
        print("error:", p, file=sys.stderr)
    unused = sorted(set(functions) - used)
    print(f"{calls} call(s) of {len(used)} llmring function(s) checked against {len(functions)} declared")
    if unused:
        print("not called from Swift:", ", ".join(unused))
    if calls == 0:
        print("error: no llmring call found (wrong directory?)", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
