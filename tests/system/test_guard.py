"""System tests of 'soasync guard': two files, and a real git repository with
the pre-commit hook installed.

The binary comes from $SOASYNC (default <repo>/build/soasync).
"""
import os
import re
import shutil
import stat
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOASYNC = os.path.abspath(os.environ.get("SOASYNC", os.path.join(REPO, "build", "soasync")))

ZONE = """; example.com, serial {serial}
$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster ( {serial} ; serial
        3600 900 604800 300 )
@ IN NS ns1
@ IN MX 10 mail
ns1 IN A 192.0.2.1
mail IN A 192.0.2.25
www IN A 192.0.2.80
"""

# The same records written differently: other comments, order, blanks, names
# absolute, upper case, TTL in units, no $ORIGIN.
SAME = """;; rewritten by hand, nothing changed
$TTL 1h
www.EXAMPLE.com.   IN A 192.0.2.80
mail.example.com.  IN A 192.0.2.25
ns1.example.com.   IN A 192.0.2.1
example.com.  IN MX 10 MAIL.example.com.
example.com.  IN NS ns1.example.com.
example.com.\tIN\tSOA\tns1.example.com. hostmaster.example.com. {serial} 1h 15m 1w 5m
"""


def zone(serial=2024010101, **repl):
    text = ZONE.format(serial=serial)
    for old, new in repl.items():
        text = text.replace(old.replace("_", "."), new)
    return text


def run(*args, cwd=None, env=None):
    return subprocess.run([SOASYNC, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=60)


def guard_files(tmp_path, old, new, *args):
    (tmp_path / "old.example.com.zone").write_text(old)
    (tmp_path / "new.example.com.zone").write_text(new)
    return run("guard", *args, str(tmp_path / "old.example.com.zone"),
               str(tmp_path / "new.example.com.zone"))


def test_same_records_pass(tmp_path):
    p = guard_files(tmp_path, zone(), zone())
    assert (p.returncode, p.stderr) == (0, "")
    p = guard_files(tmp_path, zone(), SAME.format(serial=2024010101))
    assert (p.returncode, p.stderr) == (0, "")
    p = guard_files(tmp_path, zone(), zone().replace("; serial", "; the serial, bumped daily"))
    assert (p.returncode, p.stderr) == (0, "")


def test_bump_without_change_passes(tmp_path):
    assert guard_files(tmp_path, zone(), zone(2024010102)).returncode == 0


def test_change_without_bump_refused(tmp_path):
    p = guard_files(tmp_path, zone(), zone().replace("192.0.2.80", "192.0.2.81"))
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert re.fullmatch(r"soasync: .*new\.example\.com\.zone: records changed but the SOA "
                        r"serial did not change \(2024010101 -> 2024010101\): .*", lines[0])
    assert any(l.endswith("- www.example.com. 3600 IN A 192.0.2.80") for l in lines)
    assert any(l.endswith("+ www.example.com. 3600 IN A 192.0.2.81") for l in lines)
    assert lines[-1].endswith("raise it: soasync serial bump --at-least 2024010102 "
                              + str(tmp_path / "new.example.com.zone"))
    # Only the changed records are named: the SOA's serial is no record change.
    assert not any("SOA" in l for l in lines[1:])


def test_change_with_bump_passes(tmp_path):
    new = zone(2024010102).replace("192.0.2.80", "192.0.2.81")
    assert guard_files(tmp_path, zone(), new).returncode == 0


@pytest.mark.parametrize("edit", [
    {"192.0.2.25": "192.0.2.26"},                      # rdata
    {"www IN A": "www 300 IN A"},                       # TTL only
    {"3600 900 604800 300": "7200 900 604800 300"},     # SOA refresh
    {"@ IN MX 10 mail\n": ""},                          # record removed
    {"www IN A 192.0.2.80\n": "www IN A 192.0.2.80\nftp IN A 192.0.2.21\n"},  # added
])
def test_kinds_of_change_refused(tmp_path, edit):
    new = zone()
    for a, b in edit.items():
        assert a in new
        new = new.replace(a, b)
    p = guard_files(tmp_path, zone(), new)
    assert p.returncode == 1, p.stderr
    assert "records changed" in p.stderr


def test_lowered_serial_refused(tmp_path):
    p = guard_files(tmp_path, zone(2024010105), zone(2024010101))
    assert p.returncode == 1
    assert "went down (2024010105 -> 2024010101)" in p.stderr
    # The advice works: bump as told, and the guard lets it pass.
    hint = p.stderr.splitlines()[-1].split("raise it: ", 1)[1].split()
    assert hint[:3] == ["soasync", "serial", "bump"]
    assert run(*hint[1:]).returncode == 0
    assert run("guard", str(tmp_path / "old.example.com.zone"),
               str(tmp_path / "new.example.com.zone")).returncode == 0
    p = guard_files(tmp_path, zone(2024010105), zone(2024010101, **{"192_0_2_80": "192.0.2.9"}))
    assert p.returncode == 1
    assert "records changed but the SOA serial went down" in p.stderr


def test_rfc1982_wrap_and_undefined(tmp_path):
    changed = {"192_0_2_80": "192.0.2.9"}
    # 4294967295 -> 5 is an increase in serial arithmetic.
    assert guard_files(tmp_path, zone(4294967295), zone(5, **changed)).returncode == 0
    # Exactly 2^31 apart: no defined order.
    p = guard_files(tmp_path, zone(1), zone(1 + 2**31, **changed))
    assert p.returncode == 1
    assert "2^31" in p.stderr
    # Numerically bigger but more than 2^31 ahead: a decrease.
    p = guard_files(tmp_path, zone(10), zone(10 + 2**31 + 1))
    assert p.returncode == 1
    assert "went down" in p.stderr


def test_many_changes_summarized(tmp_path):
    extra = "".join(f"h{i} IN A 192.0.2.{i}\n" for i in range(30))
    p = guard_files(tmp_path, zone(), zone() + extra)
    assert p.returncode == 1
    assert len([l for l in p.stderr.splitlines() if "   + " in l]) == 20
    assert "... and 10 more" in p.stderr


def test_errors(tmp_path):
    p = guard_files(tmp_path, zone(), zone() + "bad IN A 300.1.1.1\n")
    assert p.returncode == 2
    assert re.search(r"new\.example\.com\.zone:11: ", p.stderr), p.stderr
    p = guard_files(tmp_path, zone(), "$ORIGIN example.com.\n@ IN NS ns1\n")
    assert p.returncode == 2
    p = run("guard", str(tmp_path / "missing.zone"), str(tmp_path / "new.example.com.zone"))
    assert p.returncode == 2
    for args in (["one"], ["a", "b", "c"], ["--fix", "a", "b"], ["--git", "a"],
                 ["--git", "--install-hook"], ["--force", "--git"], ["--policy", "x", "a", "b"],
                 ["--origin", "a..b", "x", "y"], ["--bogus"], ["--default-ttl", "-5", "x", "y"]):
        p = run("guard", *args)
        assert p.returncode == 3, args  # usage errors exit 3, as in every command
        assert p.stderr.startswith("soasync: "), args


def test_help():
    p = run("guard", "--help")
    assert p.returncode == 0
    assert p.stdout.startswith("Usage: soasync guard")


def test_origin_option(tmp_path):
    rel = "@ IN SOA ns1 h {} 1 2 3 4\n@ IN NS ns1\nwww IN A {}\n"
    (tmp_path / "a").write_text(rel.format(1, "192.0.2.1"))
    (tmp_path / "b").write_text(rel.format(1, "192.0.2.2"))
    p = run("guard", "--origin", "example.com", str(tmp_path / "a"), str(tmp_path / "b"))
    assert p.returncode == 1
    assert "www.example.com." in p.stderr


# --- git --------------------------------------------------------------------

class Repo:
    def __init__(self, path, home):
        self.path = path
        self.env = dict(os.environ, HOME=str(home), GIT_CONFIG_NOSYSTEM="1",
                        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
        self.env.pop("GIT_DIR", None)
        self.env.pop("GIT_INDEX_FILE", None)

    def git(self, *args, check=True, cwd=None):
        p = subprocess.run(["git", *args], cwd=cwd or self.path, env=self.env,
                           capture_output=True, text=True, timeout=60)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p

    def soasync(self, *args, cwd=None):
        return run(*args, cwd=cwd or self.path, env=self.env)

    def write(self, name, text):
        (self.path / name).write_text(text)

    def read(self, name):
        return (self.path / name).read_text()

    def commit(self, *files, msg="change", all_=False):
        if files:
            self.git("add", *files)
        return self.git("commit", "-q", *(["-a"] if all_ else []), "-m", msg, check=False)

    def head(self):
        return self.git("rev-parse", "HEAD").stdout.strip()

    def show(self, spec):
        return self.git("show", spec).stdout


@pytest.fixture
def repo(tmp_path):
    r = Repo(tmp_path / "repo", tmp_path)
    r.path.mkdir()
    r.git("init", "-q", "-b", "main")
    r.write("example.com.zone", zone())
    r.write("README", "zones\n")
    assert r.commit("example.com.zone", "README", msg="initial").returncode == 0
    return r


@pytest.fixture
def hooked(repo):
    p = repo.soasync("guard", "--install-hook")
    assert p.returncode == 0, p.stderr
    return repo


def test_install_hook(repo):
    p = repo.soasync("guard", "--install-hook")
    assert p.returncode == 0, p.stderr
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    assert p.stdout.startswith(".git/hooks/pre-commit: installed")
    text = hook.read_text()
    assert text.startswith("#!/bin/sh\n# soasync-guard-hook")
    assert f"soasync='{SOASYNC}'" in text
    assert os.stat(hook).st_mode & stat.S_IXUSR
    # Installing again over its own hook is fine.
    assert repo.soasync("guard", "--install-hook").returncode == 0
    # No backup (it was ours) and no temporary left.
    assert [f for f in os.listdir(hook.parent)
            if f.startswith("pre-commit") and f != "pre-commit.sample"] == ["pre-commit"]


def test_commit_unbumped_edit_refused(hooked):
    head = hooked.head()
    hooked.write("example.com.zone", zone().replace("192.0.2.80", "192.0.2.81"))
    p = hooked.commit("example.com.zone")
    assert p.returncode != 0
    assert "example.com.zone: records changed but the SOA serial did not change" in p.stderr
    assert "+ www.example.com. 3600 IN A 192.0.2.81" in p.stderr
    assert "soasync guard --git --fix" in p.stderr
    assert hooked.head() == head


def test_commit_bumped_edit_passes(hooked):
    hooked.write("example.com.zone", zone(2024010102).replace("192.0.2.80", "192.0.2.81"))
    p = hooked.commit("example.com.zone")
    assert p.returncode == 0, p.stderr
    assert "192.0.2.81" in hooked.show("HEAD:example.com.zone")


def test_commit_comment_only_passes(hooked):
    hooked.write("example.com.zone", zone().replace("; serial", "; serial (YYYYMMDDnn)")
                 .replace("www IN A", "www    IN    A"))
    p = hooked.commit("example.com.zone")
    assert p.returncode == 0, p.stderr
    assert "YYYYMMDDnn" in hooked.show("HEAD:example.com.zone")


def test_commit_reordered_passes(hooked):
    lines = zone().splitlines(keepends=True)
    hooked.write("example.com.zone", "".join(lines[:6] + lines[6:][::-1]))
    assert hooked.commit("example.com.zone").returncode == 0


def test_commit_lowered_serial_refused(hooked):
    head = hooked.head()
    hooked.write("example.com.zone", zone(2024010100))
    p = hooked.commit("example.com.zone")
    assert p.returncode != 0
    assert "went down (2024010101 -> 2024010100)" in p.stderr
    assert hooked.head() == head


def test_fix_then_commit(hooked):
    hooked.write("example.com.zone", zone().replace("192.0.2.80", "192.0.2.81"))
    hooked.git("add", "example.com.zone")
    p = hooked.soasync("guard", "--git", "--fix")
    assert p.returncode == 0, p.stderr
    assert p.stdout.endswith("example.com.zone: 2024010101 -> 2024010102\n")
    # Bumped in the work tree, byte-exact, and staged: nothing left unstaged.
    assert hooked.read("example.com.zone") == \
        zone(2024010101).replace("192.0.2.80", "192.0.2.81").replace(
            "( 2024010101 ;", "( 2024010102 ;")
    assert hooked.git("diff", "--name-only").stdout == ""
    assert hooked.commit().returncode == 0
    assert "( 2024010102 ;" in hooked.show("HEAD:example.com.zone")


def test_fix_lowered_serial_goes_past_head(hooked):
    hooked.write("example.com.zone", zone(2024010001).replace("192.0.2.80", "192.0.2.81"))
    hooked.git("add", "example.com.zone")
    p = hooked.soasync("guard", "--git", "--fix")
    assert p.returncode == 0, p.stderr
    assert "2024010001 -> 2024010102" in p.stdout
    assert hooked.commit().returncode == 0


def test_fix_policy_date(hooked):
    hooked.write("example.com.zone", zone().replace("192.0.2.80", "192.0.2.81"))
    hooked.git("add", "example.com.zone")
    env = dict(hooked.env, SOASYNC_NOW="1710504000")
    p = run("guard", "--git", "--fix", "--policy", "date", cwd=hooked.path, env=env)
    assert p.returncode == 0, p.stderr
    assert "2024010101 -> 2024031500" in p.stdout


def test_hook_with_fix_lets_commit_through(repo):
    assert repo.soasync("guard", "--install-hook", "--fix").returncode == 0
    hook = (repo.path / ".git" / "hooks" / "pre-commit").read_text()
    assert "guard --git '--fix'" in hook
    repo.write("example.com.zone", zone().replace("192.0.2.80", "192.0.2.81"))
    p = repo.commit("example.com.zone")
    assert p.returncode == 0, p.stderr
    committed = repo.show("HEAD:example.com.zone")
    assert "( 2024010102 ;" in committed and "192.0.2.81" in committed
    assert repo.git("status", "--porcelain").stdout == ""
    # commit -a goes through a temporary index: the fix must land there too.
    repo.write("example.com.zone", committed.replace("192.0.2.81", "192.0.2.82"))
    p = repo.commit(all_=True)
    assert p.returncode == 0, p.stderr
    assert "( 2024010103 ;" in repo.show("HEAD:example.com.zone")
    assert repo.git("status", "--porcelain").stdout == ""


def test_fix_refuses_partial_staging(hooked):
    staged = zone().replace("192.0.2.80", "192.0.2.81")
    hooked.write("example.com.zone", staged)
    hooked.git("add", "example.com.zone")
    more = staged.replace("192.0.2.25", "192.0.2.26")
    hooked.write("example.com.zone", more)
    p = hooked.soasync("guard", "--git", "--fix")
    assert p.returncode == 1
    assert "differs from the staged one" in p.stderr
    assert hooked.read("example.com.zone") == more
    assert hooked.show(":example.com.zone") == staged


def test_new_file_and_non_zone(hooked):
    hooked.write("example.org.zone", zone().replace("example.com", "example.org"))
    with open(hooked.path / "db.sqlite3", "wb") as f:
        f.write(b"SQLite format 3\x00\x01\x02\xff")
    p = hooked.commit("example.org.zone", "db.sqlite3")
    assert p.returncode == 0, p.stderr
    assert "db.sqlite3: skipped" in p.stderr


def test_broken_zone_refused(hooked):
    hooked.write("example.com.zone", zone(2024010102) + "bad IN A 300.0.0.1\n")
    p = hooked.commit("example.com.zone")
    assert p.returncode != 0
    assert "example.com.zone:11:" in p.stderr


def test_patterns(hooked):
    hooked.write("example.net.dns", zone().replace("example.com", "example.net"))
    assert hooked.commit("example.net.dns").returncode == 0
    changed = zone().replace("example.com", "example.net").replace("192.0.2.80", "192.0.2.8")
    hooked.write("example.net.dns", changed)
    # *.dns is not a zone by default...
    assert hooked.commit("example.net.dns").returncode == 0
    # ...with soasync.pattern it is, and the defaults no longer apply.
    hooked.git("config", "--add", "soasync.pattern", "*.dns")
    hooked.git("config", "--add", "soasync.pattern", "other.*")
    hooked.write("example.net.dns", changed.replace("192.0.2.8", "192.0.2.9"))
    assert hooked.commit("example.net.dns").returncode != 0
    hooked.git("reset", "-q")
    hooked.write("example.com.zone", zone().replace("192.0.2.80", "192.0.2.81"))
    assert hooked.commit("example.com.zone").returncode == 0
    # --pattern on the command line wins over the config.
    hooked.write("example.com.zone", zone().replace("192.0.2.80", "192.0.2.82"))
    hooked.git("add", "example.com.zone")
    p = hooked.soasync("guard", "--git", "--pattern", "*.txt", "--pattern", "*.zone")
    assert p.returncode == 1


def test_install_refuses_foreign_hook(repo):
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho mine\nexit 0\n")
    p = repo.soasync("guard", "--install-hook")
    assert p.returncode == 2
    assert "soasync did not write it" in p.stderr
    assert hook.read_text() == "#!/bin/sh\necho mine\nexit 0\n"
    p = repo.soasync("guard", "--install-hook", "--force")
    assert p.returncode == 0, p.stderr
    assert "# soasync-guard-hook" in hook.read_text()
    assert (hook.parent / "pre-commit.before-soasync").read_text() == \
        "#!/bin/sh\necho mine\nexit 0\n"


def test_core_hooks_path(repo):
    repo.git("config", "core.hooksPath", ".githooks")
    p = repo.soasync("guard", "--install-hook")
    assert p.returncode == 0, p.stderr
    assert (repo.path / ".githooks" / "pre-commit").exists()
    assert not (repo.path / ".git" / "hooks" / "pre-commit").exists()
    repo.write("example.com.zone", zone().replace("192.0.2.80", "192.0.2.81"))
    assert repo.commit("example.com.zone").returncode != 0


def test_worktree(repo, tmp_path):
    wt = tmp_path / "wt"
    repo.git("worktree", "add", "-q", str(wt), "-b", "other")
    p = repo.soasync("guard", "--install-hook", cwd=wt)
    assert p.returncode == 0, p.stderr
    # Hooks are shared by all worktrees: the common directory's.
    assert (repo.path / ".git" / "hooks" / "pre-commit").exists()
    (wt / "example.com.zone").write_text(zone().replace("192.0.2.80", "192.0.2.81"))
    p = repo.git("-C", str(wt), "commit", "-q", "-am", "x", check=False)
    assert p.returncode != 0
    assert "records changed" in p.stderr


def test_hook_falls_back_to_path(repo, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    copy = bindir / "soasync-copy"
    shutil.copy(SOASYNC, copy)
    p = subprocess.run([str(copy), "guard", "--install-hook"], cwd=repo.path, env=repo.env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert str(copy) in (repo.path / ".git" / "hooks" / "pre-commit").read_text()
    copy.unlink()
    os.symlink(SOASYNC, bindir / "soasync")
    repo.env["PATH"] = f"{bindir}:{repo.env['PATH']}"
    repo.write("example.com.zone", zone().replace("192.0.2.80", "192.0.2.81"))
    p = repo.commit("example.com.zone")
    assert p.returncode != 0
    assert "records changed" in p.stderr


def test_git_from_subdirectory(hooked):
    (hooked.path / "sub").mkdir()
    hooked.write("sub/db.example.org", zone().replace("example.com", "example.org"))
    assert hooked.commit("sub/db.example.org").returncode == 0
    hooked.write("sub/db.example.org", hooked.read("sub/db.example.org").replace(
        "192.0.2.80", "192.0.2.81"))
    hooked.git("add", "sub/db.example.org")
    p = hooked.soasync("guard", "--git", cwd=hooked.path / "sub")
    assert p.returncode == 1
    assert "soasync: sub/db.example.org: records changed" in p.stderr
    p = hooked.soasync("guard", "--git", "--fix", cwd=hooked.path / "sub")
    assert p.returncode == 0, p.stderr
    # The fix names the file as the refusal does: as git names it.
    assert p.stdout == "sub/db.example.org: 2024010101 -> 2024010102\n"
    assert "2024010102" in hooked.show(":sub/db.example.org")


def test_initial_commit(tmp_path):
    r = Repo(tmp_path / "fresh", tmp_path)
    r.path.mkdir()
    r.git("init", "-q")
    assert r.soasync("guard", "--install-hook").returncode == 0
    r.write("example.com.zone", zone())
    p = r.commit("example.com.zone")
    assert p.returncode == 0, p.stderr


def test_git_outside_repository(tmp_path):
    # git still looks above a ceiling directory that is the current one: the
    # ceiling is tmp_path's parent (pytest's --basetemp may lie in a work tree)
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(tmp_path.parent))
    env.pop("GIT_DIR", None)
    p = run("guard", "--git", cwd=tmp_path, env=env)
    assert p.returncode == 2
    assert "not inside a git work tree" in p.stderr
    p = run("guard", "--install-hook", cwd=tmp_path, env=env)
    assert p.returncode == 2


def test_include_zone_skipped_with_note(hooked):
    hooked.write("records.inc", "www2 IN A 192.0.2.2\n")
    hooked.write("inc.example.com.zone", zone() + "$INCLUDE records.inc\n")
    p = hooked.commit("inc.example.com.zone", "records.inc")
    assert p.returncode == 0, p.stderr
    assert "inc.example.com.zone: skipped" in p.stderr


# A zone file whose name says nothing and that has no $ORIGIN, no $TTL and
# no TTL on its records.
BARE = """@ IN SOA ns1 hostmaster ( {serial} 3600 900 604800 300 )
@ IN NS ns1
www IN A 192.0.2.80
"""


def test_hook_keeps_every_option(repo):
    """--origin (and --default-ttl) given to --install-hook reach the hook:
    without the origin this file cannot be read and its unbumped change
    passed as 'skipped'."""
    repo.write("zonedata", BARE.format(serial=1))
    assert repo.commit("zonedata").returncode == 0
    p = repo.soasync("guard", "--install-hook", "--pattern", "zonedata", "--origin",
                     "example.net", "--default-ttl", "1h", "--fix", "--policy", "date")
    assert p.returncode == 0, p.stderr
    hook = (repo.path / ".git" / "hooks" / "pre-commit").read_text()
    assert ("guard --git '--fix' '--policy' 'date' '--pattern' 'zonedata' '--origin' "
            "'example.net' '--default-ttl' '1h'\n") in hook
    p = repo.soasync("guard", "--install-hook", "--pattern", "zonedata", "--origin",
                     "it's.example.net")
    assert p.returncode == 0, p.stderr
    hook = (repo.path / ".git" / "hooks" / "pre-commit").read_text()
    assert "'--origin' 'it'\\''s.example.net'\n" in hook
    repo.soasync("guard", "--install-hook", "--pattern", "zonedata", "--origin", "example.net")
    head = repo.head()
    repo.write("zonedata", BARE.format(serial=1).replace("192.0.2.80", "192.0.2.81"))
    p = repo.commit("zonedata")
    assert p.returncode != 0, p.stderr
    assert "zonedata: records changed but the SOA serial did not change" in p.stderr
    assert "+ www.example.net. 3600 IN A 192.0.2.81" in p.stderr
    assert repo.head() == head


def test_origin_from_file_name_is_said(tmp_path):
    """A name guessed from the file name is no longer taken silently."""
    old = tmp_path / "db.example.org"
    new = tmp_path / "new" / "db.example.org"
    new.parent.mkdir()
    old.write_text("$TTL 1h\n" + BARE.format(serial=1))
    new.write_text("$TTL 1h\n" + BARE.format(serial=2))
    p = run("guard", str(old), str(new))
    assert p.returncode == 0
    assert p.stderr == (f"soasync: warning: {new}: no $ORIGIN and a relative SOA owner: the "
                        "zone's name example.org. comes from the file name (--origin states "
                        "it)\n")
    p = run("guard", "--origin", "example.org", str(old), str(new))
    assert (p.returncode, p.stderr) == (0, "")


def test_default_ttl_warning_and_option(tmp_path):
    old = tmp_path / "old.example.com.zone"
    new = tmp_path / "new.example.com.zone"
    old.write_text("$ORIGIN example.com.\n" + BARE.format(serial=1))
    new.write_text("$ORIGIN example.com.\n$TTL 3600\n" + BARE.format(serial=1))
    p = run("guard", str(old), str(new))
    assert (p.returncode, p.stderr) == (0, "")  # the new file has $TTL: no warning
    p = run("guard", str(new), str(old))
    assert p.returncode == 0
    assert p.stderr == (f"soasync: warning: {old}: no $TTL and no TTL on the first record: 3 "
                        "records took the TTL 3600 (BIND takes the SOA minimum, 300); set "
                        "$TTL in the file, or give --default-ttl\n")
    # As BIND reads it, the records' TTLs changed under the same serial.
    p = run("guard", "--default-ttl", "300", str(new), str(old))
    assert p.returncode == 1
    assert "+ www.example.com. 300 IN A 192.0.2.80" in p.stderr
    assert "soasync: warning:" not in p.stderr
    assert run("guard", "--default-ttl", "5m", str(new), str(old)).returncode == 1



def test_generate_and_axfr_dump_files(tmp_path):
    """$GENERATE and a repeated SOA (an AXFR dump) are read, not refused."""
    gen = ("$ORIGIN 2.0.192.in-addr.arpa.\n$TTL 3600\n"
           "@ IN SOA ns1.example.net. h.example.net. ( {serial} 3600 900 604800 300 )\n"
           "@ IN NS ns1.example.net.\n$GENERATE 1-9 $ PTR {name}-$.example.net.\n"
           "@ IN SOA ns1.example.net. h.example.net. ( {serial} 3600 900 604800 300 )\n")
    old, new = tmp_path / "old.zone", tmp_path / "new.zone"
    old.write_text(gen.format(serial=1, name="host"))
    new.write_text(gen.format(serial=1, name="node"))
    p = run("guard", str(old), str(new))
    assert p.returncode == 1, p.stderr
    assert p.stderr.count("PTR host-") == 9 and p.stderr.count("PTR node-") == 9
    new.write_text(gen.format(serial=2, name="node"))
    p = run("guard", str(old), str(new))
    assert (p.returncode, p.stderr) == (0, "")
