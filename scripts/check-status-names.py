#!/usr/bin/env python3
"""Every status of the C API (enum llmring_status_t in include/llmring.h) is known by name
to each binding: the C++ wrapper's status name switch, the Go Code constants and names, the
Swift error enum. Exits 1 naming each binding that misses one.

Usage: python3 scripts/check-status-names.py"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
header = (root / "include/llmring.h").read_text()
enum = re.search(r"typedef enum (?:llmring_status_t )?\{(.*?)\} llmring_status_t;", header, re.S)
if not enum:
    sys.exit("error: enum llmring_status_t not found in include/llmring.h")
names = re.findall(r"^\s*(LLMRING_[A-Z_]+) = \d+,", enum.group(1), re.M)
if len(names) < 2:
    sys.exit("error: no statuses read from include/llmring.h")

# What each binding must contain for each status (LLMRING_OK and LLMRING_END are not errors).
bindings = {
    "include/llmring.hpp": lambda n: f'case {n}: return "{n}";',
    "bindings/go/errors.go": lambda n: f"C.{n}\n",
    "bindings/swift/Sources/LLMRing/LLMRing.swift": lambda n: f"case {n}: self = .",
}
failed = False
for path, needle in bindings.items():
    text = (root / path).read_text()
    missing = [n for n in names if n not in ("LLMRING_OK", "LLMRING_END") and needle(n) not in text]
    if missing:
        failed = True
        print(f"error: {path} does not know {', '.join(missing)}", file=sys.stderr)
if failed:
    sys.exit(1)
print(f"{len(names)} statuses known by the C++, Go and Swift bindings")
