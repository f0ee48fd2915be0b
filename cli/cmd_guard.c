/*
 * soasync guard: refuse a zone-file change that secondaries would never load
 * because the SOA serial did not go up (RFC 1982), and lowered serials. Works
 * on two files, or on what is staged in git (a pre-commit hook).
 *
 * "Changed" means the records differ (the zone model's digest, serial left
 * out): comments, blanks, record order and name spelling are no change.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <soasync/error.h>
#include <soasync/serial.h>
#include <soasync/zone.h>

#include "bump.h"
#include "opts.h"
#include "render_cmds.h"

extern char **environ;

enum { GUARD_OK = 0, GUARD_REFUSED = 1, GUARD_ERROR = 2 };

/* The first line of every hook soasync writes, to know it again. */
#define HOOK_MARK "# soasync-guard-hook"

static const char guard_help[] =
    "Usage: soasync guard [--origin ZONE] [--default-ttl TTL] OLD NEW\n"
    "       soasync guard --git [--fix [--policy P]] [--pattern GLOB]... [--origin ZONE]\n"
    "       soasync guard --install-hook [--force] [options of --git]\n"
    "\n"
    "Refuse a zone-file change that secondaries would never load: the records\n"
    "changed but the SOA serial did not increase (RFC 1982), or the serial went\n"
    "down. Comments, blanks and record order are not changes.\n"
    "\n"
    "  OLD NEW             compare two zone files\n"
    "  --origin ZONE       their zone (default: $ORIGIN, the SOA owner, the file\n"
    "                      name, with a warning)\n"
    "  --default-ttl TTL   the TTL of records that have none, where a file has no\n"
    "                      $TTL and no TTL before them (default 3600, as Knot, NSD\n"
    "                      and ldns; BIND takes the SOA minimum)\n"
    "  --git               check each staged zone file (index) against HEAD: the\n"
    "                      pre-commit mode; a new file is fine\n"
    "  --fix               with --git: raise the serial of refused files in the work\n"
    "                      tree and stage them again (refused when the work-tree file\n"
    "                      has unstaged changes)\n"
    "  --policy P          for --fix: increment (default), date, unixtime (see\n"
    "                      'soasync serial bump --help')\n"
    "  --pattern GLOB      which files are zones, on the base name (repeatable);\n"
    "                      default: git config soasync.pattern (multi-valued), else\n"
    "                      *.zone, db.*, *.db\n"
    "  --install-hook      write the git pre-commit hook (git rev-parse --git-path\n"
    "                      hooks, so core.hooksPath and worktrees are respected) that\n"
    "                      runs 'soasync guard --git' with the options given here\n"
    "                      (--fix, --policy, --pattern, --origin, --default-ttl)\n"
    "  --force             replace a pre-commit hook soasync did not write\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 fine, 1 refused (the records and serials are named on stderr),\n"
    "2 error (a file does not parse, not a git repository, ...), 3 usage error.\n";

typedef struct {
	const char *origin;
	knot_dname_storage_t origin_dn;
	bool git, fix, install, force;
	const char *policy;           /* as given, for the hook; NULL: the default */
	ss_bump_policy_t bump_policy; /* what it says */
	const char *default_ttl_arg;  /* as given, for the hook */
	uint32_t default_ttl;         /* 0: the library's default */
	const char **patterns;
	size_t npatterns;
	const char *old_path, *new_path; /* OLD NEW */
	char *cfg;                       /* git config's patterns, kept alive */
} guard_args_t;

/* The verdict on nz against old (NULL: a new file); why goes to stderr.
 * v gets the judgment (for --fix and the hints). */
static int judge(const char *name, const ss_zone_t *old, const ss_zone_t *nz, ss_zone_change_t *v)
{
	int ret = ss_zone_change_judge(old, nz, v);
	if (ret != 0) {
		cli_zerr(name, "cannot compare the zones: %s", ss_strerror(ret));
		return GUARD_ERROR;
	}
	if (v->verdict == SS_CHANGE_OK) {
		return GUARD_OK;
	}
	render_guard_refusal(name, v, old, nz);
	return GUARD_REFUSED;
}

static const knot_dname_t *origin_of(const guard_args_t *a)
{
	return a->origin != NULL ? a->origin_dn : NULL;
}

static int guard_files(void *arg)
{
	const guard_args_t *a = arg;
	const char *oldp = a->old_path, *newp = a->new_path;
	ss_zone_t *old = NULL, *nz = NULL;
	ss_zone_error_t err = {0};
	int v = GUARD_ERROR;
	int r = ss_zone_load_file(oldp, origin_of(a), a->default_ttl, &old, &err);
	if (r == 0) {
		r = ss_zone_load_file(newp, origin_of(a), a->default_ttl, &nz, &err);
	}
	if (r != 0) {
		if (err.file[0] == '\0') {
			snprintf(err.file, sizeof(err.file), "%s", old == NULL ? oldp : newp);
		}
		cli_zone_error(&err, r);
		goto fail;
	}
	cli_zone_warnings(newp, nz, a->default_ttl != 0);
	ss_zone_change_t c;
	v = judge(newp, old, nz, &c);
	if (v == GUARD_REFUSED) {
		cli_zerr(newp, "raise it: soasync serial bump --at-least %" PRIu32 " %s",
		         c.at_least, newp);
	}
fail:
	ss_zone_free(old);
	ss_zone_free(nz);
	return v;
}

/* --- git ------------------------------------------------------------------ */

/*
 * Run "git ARGS..." and collect its standard output into *out (NUL-terminated;
 * out may be NULL to let it through). quiet: standard error to /dev/null.
 * Returns git's exit status, or -1 when it could not be run.
 */
static int git(const char *const args[], bool quiet, char **out, size_t *outlen)
{
	int fds[2] = {-1, -1}, status = -1;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (out != NULL && pipe2(fds, O_CLOEXEC) == 0) {
		posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	}
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	}
	int r = (out != NULL && fds[0] < 0)
	            ? -1
	            : posix_spawnp(&pid, "git", &fa, NULL, (char *const *)args, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (fds[1] >= 0) {
		close(fds[1]);
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	while (r == 0 && out != NULL) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *g = realloc(buf, cap);
			if (g == NULL) {
				break;
			}
			buf = g;
		}
		ssize_t n = read(fds[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
	}
	if (fds[0] >= 0) {
		close(fds[0]);
	}
	while (r == 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (out != NULL) {
		if (buf == NULL) {
			buf = calloc(1, 1);
		} else {
			buf[len] = '\0';
		}
		*out = buf;
		*outlen = len;
	}
	return r == 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* git's one-line answer with the newline taken off; NULL on failure. */
static char *git_line(const char *const args[])
{
	char *out = NULL;
	size_t len = 0;
	if (git(args, true, &out, &len) != 0) {
		free(out);
		return NULL;
	}
	if (len > 0 && out[len - 1] == '\n') {
		out[len - 1] = '\0';
	}
	return out;
}

static bool is_zone(const guard_args_t *a, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	for (size_t i = 0; i < a->npatterns; i++) {
		if (fnmatch(a->patterns[i], base, 0) == 0) {
			return true;
		}
	}
	return false;
}

/* Patterns from soasync.pattern in git config when --pattern was not given;
 * the built-in default otherwise. cfg keeps the strings alive. */
static int load_patterns(guard_args_t *a, char **cfg)
{
	static const char *defaults[] = {"*.zone", "db.*", "*.db"};
	static const char *const args[] = {"git", "config", "--get-all", "soasync.pattern", NULL};
	size_t len = 0;
	*cfg = NULL;
	if (a->npatterns > 0) {
		return 0;
	}
	if (git(args, true, cfg, &len) == 0 && len > 0) {
		for (char *save = NULL, *p = strtok_r(*cfg, "\n", &save); p != NULL;
		     p = strtok_r(NULL, "\n", &save)) {
			const char **g = realloc(a->patterns, (a->npatterns + 1) * sizeof(*g));
			if (g == NULL) {
				return -1;
			}
			a->patterns = g;
			a->patterns[a->npatterns++] = p;
		}
		return 0;
	}
	a->patterns = malloc(sizeof(defaults));
	if (a->patterns == NULL) {
		return -1;
	}
	memcpy(a->patterns, defaults, sizeof(defaults));
	a->npatterns = sizeof(defaults) / sizeof(defaults[0]);
	return 0;
}

/* A blob from the object database ("HEAD:path", ":path"); NULL if none. */
static char *git_blob(const char *spec, size_t *len)
{
	const char *const args[] = {"git", "cat-file", "blob", spec, NULL};
	char *out = NULL;
	if (git(args, true, &out, len) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static char *blob_of(const char *rev, const char *path, size_t *len)
{
	char *spec = NULL;
	if (asprintf(&spec, "%s:%s", rev, path) < 0) {
		return NULL;
	}
	char *b = git_blob(spec, len);
	free(spec);
	return b;
}

/* One staged file: its index and HEAD versions and the verdict. */
typedef struct {
	const char *path; /* relative to the top of the work tree, as git names it */
	bool added;       /* not in HEAD */
	ss_zone_change_t change;
} staged_t;

static int load_blob(const guard_args_t *a, const char *path, const char *text, size_t len,
                     ss_zone_t **z, ss_zone_error_t *err)
{
	memset(err, 0, sizeof(*err));
	return ss_zone_load_string(text, len, path, origin_of(a), a->default_ttl, z, err);
}

/* Index against HEAD for one staged file (warn: also what loading it
 * assumed). */
static int check_staged(const guard_args_t *a, staged_t *s, bool warn)
{
	size_t nlen = 0, olen = 0;
	char *ntext = blob_of("", s->path, &nlen);
	char *otext = s->added ? NULL : blob_of("HEAD", s->path, &olen);
	ss_zone_t *nz = NULL, *old = NULL;
	ss_zone_error_t nerr, oerr;
	int v = GUARD_ERROR;
	if (ntext == NULL) {
		cli_zerr(s->path, "cannot read the staged version");
		goto fail;
	}
	int nr = load_blob(a, s->path, ntext, nlen, &nz, &nerr);
	int orr = otext != NULL ? load_blob(a, s->path, otext, olen, &old, &oerr) : SS_ENOTFOUND;
	if (nr != 0 && (orr != 0 || s->added)) {
		/* Not a zone before either: a file the patterns caught by accident. */
		cli_zerr(s->path, "skipped: not a zone file that soasync can read (%s)",
		         nerr.message[0] != '\0' ? nerr.message : ss_strerror(nr));
		v = GUARD_OK;
		goto fail;
	}
	if (nr != 0) {
		snprintf(nerr.file, sizeof(nerr.file), "%s", s->path);
		cli_zone_error(&nerr, nr);
		goto fail;
	}
	if (warn) {
		cli_zone_warnings(s->path, nz, a->default_ttl != 0);
	}
	v = judge(s->path, orr == 0 ? old : NULL, nz, &s->change);
fail:
	ss_zone_free(nz);
	ss_zone_free(old);
	free(ntext);
	free(otext);
	return v;
}

/* --fix for one refused file: bump the work-tree copy, stage it. The
 * working directory is the top of the work tree, so the path git gave is
 * the one to print, as in the refusals. */
static int fix_staged(const guard_args_t *a, const staged_t *s)
{
	/* git's own comparison, so clean/smudge filters and autocrlf count as
	 * they do for git. */
	const char *const unstaged[] = {"git", "diff",  "--quiet", "--no-ext-diff",
	                                "--",  s->path, NULL};
	if (git(unstaged, true, NULL, NULL) != 0) {
		cli_zerr(s->path, "not fixed: the work-tree file differs from the staged one "
		                  "(partly staged?); --fix would commit unstaged changes. Stage "
		                  "or stash them, then run again");
		return GUARD_REFUSED;
	}
	cli_bump_t b;
	cli_bump_init(&b);
	b.origin = a->origin;
	if (a->policy != NULL) {
		b.opts.policy = a->bump_policy;
	}
	b.opts.has_above = !s->change.is_new;
	b.opts.above = s->change.above;
	uint32_t from, to;
	if (cli_now(&b.opts.now) != 0 || cli_bump_file(&b, s->path, &from, &to) != 0) {
		return GUARD_REFUSED;
	}
	const char *const add[] = {"git", "add", "--", s->path, NULL};
	if (git(add, false, NULL, NULL) != 0) {
		cli_zerr(s->path, "bumped, but 'git add' failed");
		return GUARD_ERROR;
	}
	return GUARD_OK;
}

/* The staged zone files: "A\0path\0M\0path\0..." from git diff. */
static staged_t *staged_files(const guard_args_t *a, char **raw, size_t *n)
{
	static const char *const args[] = {
	    "git", "diff",         "--cached",         "--name-status",
	    "-z",  "--no-renames", "--diff-filter=AM", NULL};
	size_t len = 0;
	*n = 0;
	if (git(args, false, raw, &len) != 0) {
		return NULL;
	}
	staged_t *list = calloc(len / 2 + 1, sizeof(*list));
	for (size_t i = 0; list != NULL && i < len;) {
		const char *status = *raw + i;
		i += strlen(status) + 1;
		if (i >= len) {
			break;
		}
		const char *path = *raw + i;
		i += strlen(path) + 1;
		if (is_zone(a, path)) {
			list[(*n)++] = (staged_t){.path = path, .added = status[0] == 'A'};
		}
	}
	return list;
}

static int worst(int a, int b)
{
	return a > b ? a : b;
}

static int guard_git(guard_args_t *a)
{
	static const char *const top_args[] = {"git", "rev-parse", "--show-toplevel", NULL};
	char *top = git_line(top_args), *raw = NULL;
	size_t n = 0;
	int v = GUARD_ERROR;
	if (top == NULL || *top == '\0') {
		cli_err("guard --git: not inside a git work tree");
		goto fail;
	}
	/* Paths from git diff are relative to the top; so are cat-file's ":path". */
	if (chdir(top) != 0 || load_patterns(a, &a->cfg) != 0) {
		cli_err("guard --git: %s: %s", top, strerror(errno));
		goto fail;
	}
	staged_t *list = staged_files(a, &raw, &n);
	if (list == NULL) {
		cli_err("guard --git: cannot list the staged files ('git diff --cached' failed)");
		goto fail;
	}
	v = GUARD_OK;
	for (size_t i = 0; i < n; i++) {
		int one = check_staged(a, &list[i], true);
		if (one == GUARD_REFUSED && a->fix) {
			one = fix_staged(a, &list[i]);
			one = one == GUARD_OK ? check_staged(a, &list[i], false) : one;
		} else if (one == GUARD_REFUSED) {
			cli_zerr(list[i].path,
			         "raise it: soasync guard --git --fix, or soasync serial bump "
			         "--at-least %" PRIu32 " %s && git add %s",
			         list[i].change.at_least, list[i].path, list[i].path);
		}
		v = worst(v, one);
	}
	free(list);
fail:
	free(top);
	free(raw);
	return v;
}

/* --- hook ----------------------------------------------------------------- */

/* word in single quotes for sh, into a new string. */
static char *sh_quote(const char *word)
{
	size_t n = strlen(word), k = 2;
	for (size_t i = 0; i < n; i++) {
		k += word[i] == '\'' ? 4 : 1;
	}
	char *q = malloc(k + 1), *p = q;
	if (q == NULL) {
		return NULL;
	}
	*p++ = '\'';
	for (size_t i = 0; i < n; i++) {
		if (word[i] == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = word[i];
		}
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

/* Append " WORD" (quoted) to the hook text. */
static int append_word(char **text, const char *word)
{
	char *q = sh_quote(word), *grown = NULL;
	if (q == NULL || asprintf(&grown, "%s %s", *text, q) < 0) {
		free(q);
		return -1;
	}
	free(q);
	free(*text);
	*text = grown;
	return 0;
}

static char *hook_text(const guard_args_t *a)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	char *qself = sh_quote(n > 0 ? self : "soasync"), *cmd = NULL, *text = NULL;
	if (qself == NULL || (cmd = strdup("exec \"$soasync\" guard --git")) == NULL) {
		goto fail;
	}
	int r = 0;
	if (a->fix) {
		r |= append_word(&cmd, "--fix");
		r |= a->policy != NULL
		         ? append_word(&cmd, "--policy") | append_word(&cmd, a->policy)
		         : 0;
	}
	for (size_t i = 0; i < a->npatterns; i++) {
		r |= append_word(&cmd, "--pattern") | append_word(&cmd, a->patterns[i]);
	}
	if (a->origin != NULL) {
		r |= append_word(&cmd, "--origin") | append_word(&cmd, a->origin);
	}
	if (a->default_ttl_arg != NULL) {
		r |= append_word(&cmd, "--default-ttl") | append_word(&cmd, a->default_ttl_arg);
	}
	if (r != 0 ||
	    asprintf(&text,
	             "#!/bin/sh\n" HOOK_MARK ": written by 'soasync guard --install-hook'.\n"
	             "# Refuses commits that change a zone file's records without\n"
	             "# raising its SOA serial. Delete this file to remove it.\n"
	             "soasync=%s\n"
	             "if [ ! -x \"$soasync\" ]; then\n"
	             "\tsoasync=soasync\n"
	             "fi\n"
	             "%s\n",
	             qself, cmd) < 0) {
		text = NULL;
	}
fail:
	free(qself);
	free(cmd);
	return text;
}

/* Write text to path through a temporary and a rename, mode 0755. */
static int write_hook(const char *path, const char *text)
{
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.soasync-XXXXXX", path) < 0) {
		return -1;
	}
	int fd = mkstemp(tmp), ret = -1;
	size_t len = strlen(text);
	if (fd >= 0 && write(fd, text, len) == (ssize_t)len && fchmod(fd, 0755) == 0 &&
	    fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		ret = rename(tmp, path);
	}
	int saved = errno;
	if (fd >= 0) {
		close(fd);
	}
	if (ret != 0) {
		unlink(tmp);
	}
	free(tmp);
	errno = saved;
	return ret;
}

/* An existing hook soasync did not write is left alone without --force;
 * with it, the old one is kept next to it. */
static int replace_foreign(const guard_args_t *a, const char *path)
{
	char *old = NULL, *backup = NULL;
	size_t len = 0;
	if (ss_file_read(path, &old, &len, NULL) != 0) {
		return errno == ENOENT ? 0 : -1;
	}
	bool ours = strstr(old, "\n" HOOK_MARK) != NULL;
	free(old);
	if (ours) {
		return 0;
	}
	if (!a->force) {
		cli_err("guard --install-hook: %s exists and soasync did not write it; left alone "
		        "(--force replaces it, keeping a copy)",
		        path);
		return -1;
	}
	if (asprintf(&backup, "%s.before-soasync", path) < 0 || rename(path, backup) != 0) {
		cli_err("guard --install-hook: cannot move %s aside: %s", path, strerror(errno));
		free(backup);
		return -1;
	}
	cli_err("guard --install-hook: the old hook is now %s", backup);
	free(backup);
	return 0;
}

static int install_hook(void *arg)
{
	const guard_args_t *a = arg;
	static const char *const args[] = {"git", "rev-parse", "--git-path", "hooks", NULL};
	char *dir = git_line(args), *path = NULL, *text = NULL;
	int v = GUARD_ERROR;
	if (dir == NULL || *dir == '\0') {
		cli_err("guard --install-hook: not inside a git repository");
		goto fail;
	}
	if (asprintf(&path, "%s/pre-commit", dir) < 0 || (text = hook_text(a)) == NULL) {
		goto fail;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		cli_err("guard --install-hook: %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (replace_foreign(a, path) != 0) {
		goto fail;
	}
	if (write_hook(path, text) != 0) {
		cli_err("guard --install-hook: %s: %s", path, strerror(errno));
		goto fail;
	}
	printf("%s: installed: runs 'soasync guard --git' before every commit\n", path);
	v = GUARD_OK;
fail:
	free(dir);
	free(path);
	free(text);
	return v;
}

/* --- options -------------------------------------------------------------- */

enum {
	OPT_GIT = 3000,
	OPT_FIX,
	OPT_POLICY,
	OPT_PATTERN,
	OPT_INSTALL,
	OPT_FORCE,
	OPT_ORIGIN,
	OPT_DEFAULT_TTL
};

static int guard_option(guard_args_t *a, int opt, const char *arg)
{
	switch (opt) {
	case OPT_GIT:
		a->git = true;
		return 0;
	case OPT_FIX:
		a->fix = true;
		return 0;
	case OPT_INSTALL:
		a->install = true;
		return 0;
	case OPT_FORCE:
		a->force = true;
		return 0;
	case OPT_POLICY:
		if (ss_bump_policy_parse(arg, &a->bump_policy) != 0) {
			cli_err("--policy: expected increment, date or unixtime, got '%s'", arg);
			return -1;
		}
		a->policy = arg;
		return 0;
	case OPT_PATTERN: {
		const char **g = realloc(a->patterns, (a->npatterns + 1) * sizeof(*g));
		if (g == NULL) {
			return -1;
		}
		a->patterns = g;
		a->patterns[a->npatterns++] = arg;
		return 0;
	}
	case OPT_ORIGIN:
		if (knot_dname_from_str(a->origin_dn, arg, sizeof(a->origin_dn)) == NULL) {
			cli_err("--origin: '%s' is not a domain name", arg);
			return -1;
		}
		knot_dname_to_lower(a->origin_dn);
		a->origin = arg;
		return 0;
	case OPT_DEFAULT_TTL:
		a->default_ttl_arg = arg;
		return cli_parse_ttl("--default-ttl", arg, &a->default_ttl);
	}
	cli_err("guard: unexpected option; see 'soasync guard --help'");
	return -1;
}

static int parse_args(void *arg, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"git", no_argument, NULL, OPT_GIT},
	    {"fix", no_argument, NULL, OPT_FIX},
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"pattern", required_argument, NULL, OPT_PATTERN},
	    {"install-hook", no_argument, NULL, OPT_INSTALL},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"origin", required_argument, NULL, OPT_ORIGIN},
	    {"default-ttl", required_argument, NULL, OPT_DEFAULT_TTL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	guard_args_t *a = arg;
	cli_shared_t sh = {.cmd = "guard"};
	int opt;
	while ((opt = cli_getopt(argc, argv, "h", longopts, &sh)) >= 0) {
		if (opt == 'h') {
			fputs(guard_help, stdout);
			return 1;
		}
		if (guard_option(a, opt, optarg) != 0) {
			return -1;
		}
	}
	int files = argc - optind;
	const char *bad = NULL;
	if (opt == -2) {
		return -1;
	} else if (a->git && a->install) {
		bad = "--git and --install-hook exclude each other";
	} else if ((a->git || a->install) && files != 0) {
		bad = "no files with --git or --install-hook";
	} else if (!a->git && !a->install && files != 2) {
		bad = "expected OLD and NEW (or --git)";
	} else if (a->fix && !a->git && !a->install) {
		bad = "--fix goes with --git";
	} else if (a->force && !a->install) {
		bad = "--force goes with --install-hook";
	}
	if (bad != NULL) {
		cli_err("guard: %s; see 'soasync guard --help'", bad);
		return -1;
	}
	if (files == 2) {
		a->old_path = argv[optind];
		a->new_path = argv[optind + 1];
	}
	return 0;
}

static int run(void *arg)
{
	guard_args_t *a = arg;
	return a->install ? install_hook(a) : a->git ? guard_git(a) : guard_files(a);
}

static void done(void *arg)
{
	guard_args_t *a = arg;
	free(a->patterns);
	free(a->cfg);
}

int cmd_guard(int argc, char **argv)
{
	static const cli_steps_t steps = {parse_args, run, done};
	guard_args_t a;
	memset(&a, 0, sizeof(a));
	return cli_command(&steps, &a, argc, argv);
}
