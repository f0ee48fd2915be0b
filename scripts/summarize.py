#!/usr/bin/python3
"""Adds up a test run's results in one directory: meson's testlog.json files
(*.json), pytest's JUnit XML files (*.xml) and failures recorded as text
(*.failed: a run that ended without results).  Prints every failure in full
(the test's output or pytest's report, never cut), then which files hold
them, then "N passed, N failed" as the last line; exit 1 if anything failed
or nothing ran.  The directory is left as it is: the output points into it
(scripts/test-all clears it at the start of the next run)."""
import glob
import json
import os
import sys
import xml.etree.ElementTree as ET

RULE = "=" * 78


def meson_results(path):
    """(name, ok, skipped, full text of a failure) per meson test."""
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            ok = t["result"] in ("OK", "EXPECTEDFAIL")
            text = ""
            if not ok:
                text = (f"result {t['result']}, exit status {t.get('returncode')}\n"
                        f"{t.get('stdout') or ''}{t.get('stderr') or ''}")
            yield t["name"], ok, t["result"] == "SKIP", text


def pytest_results(path):
    """(name, ok, skipped, full text of a failure) per JUnit test case."""
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = case.get("classname", "") + "::" + case.get("name", "")
        bad = [e for e in (case.find("failure"), case.find("error")) if e is not None]
        text = ""
        for e in bad:
            # the text is pytest's whole report; the message its last line
            text += f"{e.tag}:\n{e.text or e.get('message', '')}\n"
            for out in ("system-out", "system-err"):
                o = case.find(out)
                if o is not None and o.text:
                    text += f"--- captured {out}:\n{o.text}\n"
        yield name, not bad, case.find("skipped") is not None, text


def failed_notes(path):
    """A *.failed file: one failure, its text is the report."""
    with open(path, errors="replace") as f:
        yield os.path.basename(path), False, False, f.read()


def results(path):
    if path.endswith(".json"):
        return meson_results(path)
    if path.endswith(".xml"):
        return pytest_results(path)
    if path.endswith(".failed"):
        return failed_notes(path)
    return iter(())


def main(d):
    passed = failed = skipped = 0
    failures = []
    for path in sorted(glob.glob(os.path.join(d, "*"))):
        try:
            for name, ok, skip, text in results(path):
                if skip:
                    skipped += 1
                elif ok:
                    passed += 1
                else:
                    failed += 1
                    failures.append((os.path.basename(path), name, text))
        except (OSError, ValueError, ET.ParseError) as exc:
            failed += 1
            failures.append((os.path.basename(path), "(unreadable results)", str(exc)))
    for label, name, text in failures:
        print(RULE)
        print(f"FAILED [{label}] {name}")
        print(text.rstrip("\n"))
    if failures:
        print(RULE)
        for label, name, _ in failures:
            print(f"FAILED [{label}] {name}")
        print(f"(results, full logs and the failed tests' directories in {d})")
    if skipped:
        print(f"({skipped} skipped)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: summarize.py RESULTS_DIR", file=sys.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
    sys.exit(main(sys.argv[1]))
