"""The man page and the README against the binary.

* every command of ``soasync --help`` answers ``--help`` with status 0, is in
  the man page's SYNOPSIS and has a section of its own (``.SH "soasync CMD"``;
  the subcommands of ``soasync serial`` have a section or subsection each);
* every long option a ``--help`` prints is in the man page, written as roff
  wants it (``\\-\\-name``), and no option in the page has a bare ``-``;
* ``man --warnings`` renders the page without warnings (``cannot adjust
  line`` is cosmetic and allowed) and without raw roff in the output;
* README.md's first code block holds exactly two commands, and ``.ci/run``
  runs the second one verbatim.

Needs no root and no servers: only the binary (``$SOASYNC`` or
``<repo>/build/soasync``, skipped when missing) and, for the rendering
tests, man-db.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
MANPAGE = REPO / "doc" / "soasync.1"
README = REPO / "README.md"
CI_RUN = REPO / ".ci" / "run"

LONG_OPT = re.compile(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)")


def run_help(binary: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def command_table(help_text: str) -> list[str]:
    """The command names listed under 'Commands:' in ``soasync --help``."""
    m = re.search(r"^Commands:\n((?:  \S.*\n)+)", help_text, re.M)
    assert m, f"no 'Commands:' table in soasync --help:\n{help_text}"
    return [line.split()[0] for line in m.group(1).splitlines()]


def subcommands(cmd: str, help_text: str) -> list[str]:
    """Subcommands of a command whose help says 'soasync CMD COMMAND --help'
    (soasync serial): the indented 'name  description' lines."""
    if f"soasync {cmd} COMMAND --help" not in help_text:
        return []
    subs = re.findall(r"^  ([a-z][a-z-]*) {2,}\S", help_text, re.M)
    assert subs, f"soasync {cmd} --help names subcommands but lists none:\n{help_text}"
    return subs


@pytest.fixture(scope="module")
def runs(soasync_bin) -> dict[str, subprocess.CompletedProcess]:
    """The --help runs of the top level ('') and of every command and
    subcommand ('serial bump'), whatever their exit status."""
    top = run_help(soasync_bin, "--help")
    out = {"": top}
    cmds = command_table(top.stdout)
    assert len(cmds) >= 2, f"too few commands parsed from soasync --help: {cmds}"
    for cmd in cmds:
        r = out[cmd] = run_help(soasync_bin, cmd, "--help")
        for sub in subcommands(cmd, r.stdout):
            out[f"{cmd} {sub}"] = run_help(soasync_bin, cmd, sub, "--help")
    return out


@pytest.fixture(scope="module")
def helps(runs) -> dict[str, str]:
    """The --help texts, by command ('' for the top level)."""
    return {k: r.stdout for k, r in runs.items()}


@pytest.fixture(scope="module")
def page() -> str:
    assert MANPAGE.is_file(), f"{MANPAGE} is missing"
    return MANPAGE.read_text(encoding="utf-8")


def unroff(s: str) -> str:
    """Macro arguments as words: quotes, font escapes and \\- undone."""
    s = re.sub(r"\\f[BIRP]", "", s)
    return s.replace("\\-", "-").replace('"', "").strip()


def headings(page_text: str) -> set[str]:
    return {unroff(m.group(1)) for m in re.finditer(r"^\.S[HS]\s+(.*)$", page_text, re.M)}


def synopsis(page_text: str) -> str:
    m = re.search(r"^\.SH SYNOPSIS\n(.*?)^\.SH ", page_text, re.M | re.S)
    assert m, "no SYNOPSIS section in the man page"
    return m.group(1)


def test_every_help_exits_0_with_its_usage(runs):
    bad = []
    for cmd, r in runs.items():
        argv = " ".join(["soasync", *cmd.split(), "--help"])
        usage = f"Usage: soasync {cmd}".rstrip() if cmd else "Usage: soasync "
        if r.returncode != 0:
            bad.append(f"{argv}: exit {r.returncode}: {r.stderr.strip()}")
        elif not r.stdout.startswith(usage):
            bad.append(f"{argv}: output does not start with {usage!r}")
    assert not bad, "\n".join(bad)


def test_every_command_has_help_synopsis_and_section(helps, page):
    heads = headings(page)
    syn = [unroff(line[3:]) for line in synopsis(page).splitlines() if line.startswith(".B ")]
    cmds = [k for k in helps if k and " " not in k]
    missing_section = [c for c in cmds if f"soasync {c}" not in heads]
    missing_synopsis = [c for c in cmds
                        if not any(s == f"soasync {c}" or s.startswith(f"soasync {c} ")
                                   for s in syn)]
    assert not missing_section, f"no man page section .SH \"soasync CMD\" for {missing_section}"
    assert not missing_synopsis, f"not in the man page's SYNOPSIS: {missing_synopsis}"


def test_every_subcommand_has_a_section(helps, page):
    heads = headings(page)
    subs = [k for k in helps if " " in k]
    missing = [s for s in subs if f"soasync {s}" not in heads]
    assert not missing, f"no man page section or subsection for {missing}"


def test_every_long_option_is_in_the_page(helps, page):
    missing = {}
    for cmd, text in helps.items():
        for name in sorted(set(LONG_OPT.findall(text))):
            roff = re.escape("\\-\\-" + name.replace("-", "\\-"))
            if not re.search(roff + r"(?![\w]|\\-)", page):
                missing.setdefault(cmd or "(top level)", []).append("--" + name)
    assert not missing, f"long options of --help missing from the man page: {missing}"


def test_options_in_the_page_use_escaped_hyphens(page):
    bad = []
    for n, line in enumerate(page.splitlines(), 1):
        if line.startswith(('.\\"', "'\\\"")):
            continue
        # an option-like hyphen at the start of a word that is not \-
        if re.search(r"(?:^|(?<=[\s\[(|\"',=]))(?<!\\)-{1,2}[A-Za-z0-9]", line):
            bad.append(f"{n}: {line}")
    assert not bad, "hyphens of options must be written \\- in roff:\n" + "\n".join(bad)


def render(args: list[str]) -> subprocess.CompletedProcess:
    if shutil.which("man") is None:
        pytest.skip("man (man-db) is not installed: cannot render the man page")
    env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
    return subprocess.run(["man", *args, "-l", str(MANPAGE)], capture_output=True,
                          text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)


def test_man_renders_without_warnings():
    r = render(["--warnings"])
    assert r.returncode == 0, f"man --warnings -l {MANPAGE}: exit {r.returncode}\n{r.stderr}"
    warnings = [line for line in r.stderr.splitlines()
                if line.strip() and "cannot adjust line" not in line]
    assert not warnings, "man --warnings:\n" + "\n".join(warnings)
    assert "soasync check" in r.stdout, "the rendered page lacks its content"


def test_rendered_page_has_no_raw_roff():
    r = render([])
    assert r.returncode == 0, f"man -l {MANPAGE}: exit {r.returncode}\n{r.stderr}"
    text = r.stdout
    raw = [line for line in text.splitlines()
           if re.search(r"\\f[BIRP]|\\\(|\\-|\\&|\\\*|\\e", line)
           or re.match(r"\s*\.(?:[A-Z]{1,2}|nf|fi|br|sp|nh|ad)\b", line)]
    assert not raw, "raw roff in the rendered page:\n" + "\n".join(raw)
    wide = [line for line in text.splitlines() if len(line) > 80]
    assert not wide, "rendered lines wider than MANWIDTH=80:\n" + "\n".join(wide)


def readme_first_block() -> list[str]:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)
    assert m, "README.md has no fenced code block"
    return [line.strip() for line in m.group(1).splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_readme_first_block_and_ci_run():
    cmds = readme_first_block()
    assert len(cmds) == 2, f"README.md's first code block should hold two commands: {cmds}"
    assert CI_RUN.is_file(), f"{CI_RUN} is missing"
    lines = [line for line in CI_RUN.read_text(encoding="utf-8").splitlines()
             if not line.lstrip().startswith("#")]
    assert any(cmds[1] in line for line in lines), \
        f".ci/run does not run README's second command verbatim: {cmds[1]!r}"


# --------------------------------------------------------------------------
# finding codes: README, the man page and the code list (SS_FINDINGS) agree


def code_list(binary: str) -> list[tuple[str, str]]:
    """(code, meaning) in the code's order, from the hidden --list-findings."""
    r = run_help(binary, "--list-findings")
    assert r.returncode == 0, r.stderr
    rows = [tuple(line.split("\t", 1)) for line in r.stdout.splitlines()]
    assert len(rows) >= 20 and all(len(row) == 2 for row in rows), r.stdout
    return rows


def test_readme_finding_table_is_the_code_list(soasync_bin):
    """README's table is generated from the list (scripts/findings-table);
    after a change of SS_FINDINGS, run that script."""
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- findings: generated by scripts/findings-table from SS_FINDINGS -->\n"
                  r"\| code \| meaning \|\n\| --- \| --- \|\n(.*?)<!-- end of findings -->",
                  text, re.S)
    assert m, "README.md lacks the generated findings table"
    rows = [re.fullmatch(r"\| `([a-z0-9-]+)` \| (.*) \|", line)
            for line in m.group(1).splitlines()]
    assert all(rows), m.group(1)
    assert [r.groups() for r in rows] == code_list(soasync_bin), \
        "README's findings table differs from SS_FINDINGS: run scripts/findings-table"


def test_man_page_findings_are_the_code_list(soasync_bin, page):
    m = re.search(r'^\.SS "Findings"\n(.*?)^\.S[SH] ', page, re.M | re.S)
    assert m, "no Findings subsection in the man page"
    lines = m.group(1).splitlines()
    listed = []
    for i, line in enumerate(lines):
        if line == ".TP" and i + 1 < len(lines) and re.match(r"\.BR? ", lines[i + 1]):
            listed += [w for w in re.split(r"[\s,]+", unroff(lines[i + 1][3:])) if w]
    codes = [c for c, _ in code_list(soasync_bin)]
    assert sorted(listed) == sorted(codes), \
        (f"only in the man page: {sorted(set(listed) - set(codes))}; "
         f"only in SS_FINDINGS: {sorted(set(codes) - set(listed))}")
