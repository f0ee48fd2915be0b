/*
 * soasync serial bump|compare|plan: the zone-file serial tools.
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include <soasync/error.h>
#include <soasync/serial.h>

#include "bump.h"
#include "opts.h"
#include "render_cmds.h"

/* A file refused or not written exits 2 (1 is no verdict here); a usage
 * error exits 3, as in every command. */
enum { SERIAL_ERROR = 2 };

static const char serial_help[] =
    "Usage: soasync serial bump [options] FILE...\n"
    "       soasync serial compare A B\n"
    "       soasync serial plan [--zone ZONE] FROM TO\n"
    "\n"
    "Zone-file serial tools (RFC 1982 serial arithmetic).\n"
    "  bump     raise the SOA serial in zone files in place, byte-exact\n"
    "  compare  print less, equal, greater or undefined: A relative to B\n"
    "  plan     the serials to publish to get from FROM to TO safely\n"
    "\n"
    "Run 'soasync serial COMMAND --help' for details; see soasync(1).\n";

static const char bump_help[] =
    "Usage: soasync serial bump [options] FILE...\n"
    "\n"
    "Raise the SOA serial of each zone FILE in place: only the serial's digits\n"
    "change, every other byte (comments, blanks, parentheses, CR LF) stays. The\n"
    "file is replaced atomically, mode and owner kept. Prints 'FILE: OLD -> NEW'.\n"
    "\n"
    "  --policy P          increment (default): OLD + 1;\n"
    "                      date: YYYYMMDD00 of today (UTC) when greater, else OLD + 1;\n"
    "                      unixtime: the current Unix time when greater, else OLD + 1\n"
    "  --at-least N        never below N\n"
    "  --live ADDR[#PORT]  also greater than the serial this server serves for the\n"
    "                      zone now (it must answer authoritatively)\n"
    "  --timeout DURATION  wait for --live this long per try (default 1500ms; a\n"
    "                      bare number counts milliseconds)\n"
    "  --origin ZONE       the zone name (default: $ORIGIN, an absolute SOA owner,\n"
    "                      or the file name: example.com.zone, db.example.com)\n"
    "  -n, --dry-run       print old and new serial, change nothing\n"
    "  -h, --help          this help\n"
    "\n"
    "A file with no SOA, more than one, or that does not parse is refused and left\n"
    "untouched. Environment: SOASYNC_NOW=SECONDS takes that Unix time as now (a\n"
    "testing aid). Exit status: 0 all files bumped, 2 any file refused or not\n"
    "written, 3 a usage error.\n";

static const char compare_help[] =
    "Usage: soasync serial compare A B\n"
    "\n"
    "Print one word, A relative to B in RFC 1982 serial arithmetic: less, equal,\n"
    "greater, or undefined (exactly 2^31 apart). Exit 0; 3 (a usage error) when A\n"
    "or B is not a number from 0 to 4294967295.\n";

static const char plan_help[] =
    "Usage: soasync serial plan [--zone ZONE] FROM TO\n"
    "\n"
    "Print, one per line, the serials to publish to move a zone from FROM to TO so\n"
    "that secondaries follow: each is greater (RFC 1982) than the one before, at most\n"
    "2^31 - 1 ahead; the last line is TO. One line when TO is already greater.\n"
    "Between steps, wait until every secondary serves the step. The explanation\n"
    "goes to stderr; --zone names the zone in it. Exit 0; 3 (a usage error) when\n"
    "FROM or TO is not a number from 0 to 4294967295.\n";

enum { OPT_POLICY = 2000, OPT_AT_LEAST, OPT_LIVE, OPT_TIMEOUT_MS, OPT_ORIGIN, OPT_ZONE };

static int bump_option(cli_bump_t *b, int opt, const char *arg)
{
	uint64_t ms = 0;
	switch (opt) {
	case OPT_POLICY:
		if (ss_bump_policy_parse(arg, &b->opts.policy) != 0) {
			cli_err("--policy: expected increment, date or unixtime, got '%s'", arg);
			return -1;
		}
		return 0;
	case OPT_AT_LEAST:
		b->opts.has_at_least = true;
		return cli_parse_serial("--at-least", arg, &b->opts.at_least);
	case OPT_LIVE:
		b->has_live = true;
		return cli_parse_addr("--live", arg, &b->live);
	case OPT_TIMEOUT_MS:
		if (cli_parse_duration("--timeout", arg, 1, 1, 600000, &ms) != 0) {
			return -1;
		}
		b->timeout_ms = (unsigned)ms;
		return 0;
	case OPT_ORIGIN: {
		knot_dname_storage_t check;
		if (knot_dname_from_str(check, arg, sizeof(check)) == NULL) {
			cli_err("--origin: '%s' is not a domain name", arg);
			return -1;
		}
		b->origin = arg;
		return 0;
	}
	case 'n':
		b->dry_run = true;
		return 0;
	}
	cli_err("serial bump: unexpected option; see 'soasync serial bump --help'");
	return -1;
}

typedef struct {
	cli_bump_t b;
	char **files;
	int nfiles;
} bump_args_t;

static int bump_parse(void *arg, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"policy", required_argument, NULL, OPT_POLICY},
	    {"at-least", required_argument, NULL, OPT_AT_LEAST},
	    {"live", required_argument, NULL, OPT_LIVE},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT_MS},
	    {"origin", required_argument, NULL, OPT_ORIGIN},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bump_args_t *a = arg;
	cli_shared_t sh = {.cmd = "serial bump"};
	int opt;
	while ((opt = cli_getopt(argc, argv, "nh", longopts, &sh)) >= 0) {
		if (opt == 'h') {
			fputs(bump_help, stdout);
			return 1;
		}
		if (bump_option(&a->b, opt, optarg) != 0) {
			return -1;
		}
	}
	if (opt == -2) {
		return -1;
	}
	if (optind >= argc) {
		cli_err("serial bump: no file given; see 'soasync serial bump --help'");
		return -1;
	}
	a->files = argv + optind;
	a->nfiles = argc - optind;
	return cli_now(&a->b.opts.now) != 0 ? -1 : 0;
}

static int bump_run(void *arg)
{
	bump_args_t *a = arg;
	int code = 0;
	for (int i = 0; i < a->nfiles; i++) {
		uint32_t from, to;
		if (cli_bump_file(&a->b, a->files[i], &from, &to) != 0) {
			code = SERIAL_ERROR;
		}
	}
	return code;
}

static void nothing(void *arg)
{
	(void)arg;
}

static int serial_bump(int argc, char **argv)
{
	static const cli_steps_t steps = {bump_parse, bump_run, nothing};
	bump_args_t a = {0};
	cli_bump_init(&a.b);
	return cli_command(&steps, &a, argc, argv);
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			return true;
		}
	}
	return false;
}

/* compare A B, and plan [--zone ZONE] FROM TO: two serials. */
typedef struct {
	const char *zone;
	uint32_t a, b;
} pair_args_t;

static int compare_parse(void *arg, int argc, char **argv)
{
	pair_args_t *p = arg;
	if (wants_help(argc, argv)) {
		fputs(compare_help, stdout);
		return 1;
	}
	if (argc != 3) {
		cli_err("serial compare: expected two serials, A and B; see "
		        "'soasync serial compare --help'");
		return -1;
	}
	if (cli_parse_serial("serial compare", argv[1], &p->a) != 0 ||
	    cli_parse_serial("serial compare", argv[2], &p->b) != 0) {
		return -1;
	}
	return 0;
}

static int compare_run(void *arg)
{
	pair_args_t *p = arg;
	render_serial_order(stdout, ss_serial_cmp(p->a, p->b));
	return 0;
}

static int plan_parse(void *arg, int argc, char **argv)
{
	pair_args_t *p = arg;
	if (wants_help(argc, argv)) {
		fputs(plan_help, stdout);
		return 1;
	}
	int i = 1;
	if (argc > 2 && strcmp(argv[1], "--zone") == 0) {
		p->zone = argv[2];
		i = 3;
	} else if (argc > 1 && strncmp(argv[1], "--zone=", 7) == 0) {
		p->zone = argv[1] + 7;
		i = 2;
	}
	if (argc - i != 2) {
		cli_err("serial plan: expected two serials, FROM and TO; see "
		        "'soasync serial plan --help'");
		return -1;
	}
	if (cli_parse_serial("serial plan", argv[i], &p->a) != 0 ||
	    cli_parse_serial("serial plan", argv[i + 1], &p->b) != 0) {
		return -1;
	}
	return 0;
}

static int plan_run(void *arg)
{
	pair_args_t *p = arg;
	uint32_t steps[4];
	int n = ss_serial_plan(p->a, p->b, steps, sizeof(steps) / sizeof(steps[0]));
	if (n <= 0) {
		cli_err("serial plan: %s", ss_strerror(n));
		return SERIAL_ERROR;
	}
	render_plan(stdout, p->zone, p->a, steps, n);
	return 0;
}

int cmd_serial(int argc, char **argv)
{
	static const cli_steps_t compare = {compare_parse, compare_run, nothing};
	static const cli_steps_t plan = {plan_parse, plan_run, nothing};
	pair_args_t p = {.zone = "ZONE"};
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(serial_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "bump") == 0) {
		return serial_bump(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "compare") == 0) {
		return cli_command(&compare, &p, argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "plan") == 0) {
		return cli_command(&plan, &p, argc - 1, argv + 1);
	}
	cli_err("serial: unknown command '%s': expected bump, compare or plan", argv[1]);
	return EXIT_USAGE;
}
