#!/usr/bin/python3
"""Adds up meson's testlog.json files and pytest's JUnit XML files in a
directory; prints failures and then "N passed, N failed"; exit 1 if any
failed (or nothing ran)."""
import glob
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET


def meson_results(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                t = json.loads(line)
                yield t["name"], t["result"] in ("OK", "EXPECTEDFAIL"), t["result"] == "SKIP"


def pytest_results(path):
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = case.get("classname", "") + "::" + case.get("name", "")
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        yield name, not failed, skipped


def main(d):
    passed = failed = skipped = 0
    for path in sorted(glob.glob(os.path.join(d, "*"))):
        label = os.path.basename(path)
        it = meson_results(path) if path.endswith(".json") else pytest_results(path)
        for name, ok, skip in it:
            if skip:
                skipped += 1
            elif ok:
                passed += 1
            else:
                failed += 1
                print(f"FAILED [{label}] {name}")
    if skipped:
        print(f"({skipped} skipped)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    try:
        code = main(sys.argv[1])
    finally:
        shutil.rmtree(sys.argv[1], ignore_errors=True)
    sys.exit(code)
