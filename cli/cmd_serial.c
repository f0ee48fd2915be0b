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

/* Every error, usage errors included, exits 2: 1 is no verdict here. */
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
    "  --timeout MS        wait for --live this long per try (1500)\n"
    "  --origin ZONE       the zone name (default: $ORIGIN, an absolute SOA owner,\n"
    "                      or the file name: example.com.zone, db.example.com)\n"
    "  -n, --dry-run       print old and new serial, change nothing\n"
    "  -h, --help          this help\n"
    "\n"
    "A file with no SOA, more than one, or that does not parse is refused and left\n"
    "untouched. Environment: SOASYNC_NOW=SECONDS takes that Unix time as now (a\n"
    "testing aid). Exit status: 0 all files bumped, 2 any error.\n";

static const char compare_help[] =
    "Usage: soasync serial compare A B\n"
    "\n"
    "Print one word, A relative to B in RFC 1982 serial arithmetic: less, equal,\n"
    "greater, or undefined (exactly 2^31 apart). Exit 0; 2 when A or B is not a\n"
    "number from 0 to 4294967295.\n";

static const char plan_help[] =
    "Usage: soasync serial plan [--zone ZONE] FROM TO\n"
    "\n"
    "Print, one per line, the serials to publish to move a zone from FROM to TO so\n"
    "that secondaries follow: each is greater (RFC 1982) than the one before, at most\n"
    "2^31 - 1 ahead; the last line is TO. One line when TO is already greater.\n"
    "Between steps, wait until every secondary serves the step. The explanation\n"
    "goes to stderr; --zone names the zone in it.\n";

enum { OPT_POLICY = 2000, OPT_AT_LEAST, OPT_LIVE, OPT_TIMEOUT_MS, OPT_ORIGIN, OPT_ZONE };

static int bump_option(cli_bump_t *b, int opt, const char *arg)
{
	unsigned ms = 0;
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
		if (cli_parse_uint("--timeout", arg, 1, 600000, &ms) != 0) {
			return -1;
		}
		b->timeout_ms = ms;
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
	cli_err("serial bump: unknown or incomplete option; see 'soasync serial bump --help'");
	return -1;
}

static int serial_bump(int argc, char **argv)
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
	cli_bump_t b;
	cli_bump_init(&b);
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(bump_help, stdout);
			return 0;
		}
		if (bump_option(&b, opt, optarg) != 0) {
			return SERIAL_ERROR;
		}
	}
	if (optind >= argc) {
		cli_err("serial bump: no file given; see 'soasync serial bump --help'");
		return SERIAL_ERROR;
	}
	if (cli_now(&b.opts.now) != 0) {
		return SERIAL_ERROR;
	}
	int code = 0;
	for (int i = optind; i < argc; i++) {
		uint32_t from, to;
		if (cli_bump_file(&b, argv[i], &from, &to) != 0) {
			code = SERIAL_ERROR;
		}
	}
	return code;
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

static int serial_compare(int argc, char **argv)
{
	uint32_t a, b;
	if (wants_help(argc, argv)) {
		fputs(compare_help, stdout);
		return 0;
	}
	if (argc != 3) {
		cli_err("serial compare: expected two serials, A and B; see "
		        "'soasync serial compare --help'");
		return SERIAL_ERROR;
	}
	if (cli_parse_serial("serial compare", argv[1], &a) != 0 ||
	    cli_parse_serial("serial compare", argv[2], &b) != 0) {
		return SERIAL_ERROR;
	}
	puts(ss_serial_order_name(ss_serial_cmp(a, b)));
	return 0;
}

static void explain_plan(const char *zone, uint32_t from, const uint32_t *steps, int n)
{
	uint32_t to = steps[n - 1];
	if (from == to) {
		cli_err("plan: the zone is at %" PRIu32 " already: nothing to publish", to);
		return;
	}
	if (n == 1) {
		cli_err("plan: %" PRIu32 " is greater than %" PRIu32 ": publish it directly", to,
		        from);
		return;
	}
	cli_err("plan: %" PRIu32 " is not greater than %" PRIu32 " (RFC 1982): secondaries "
	        "would ignore it. Publish %d serials in turn, each at most %" PRIu32 " ahead:",
	        to, from, n, SS_SERIAL_MAX_STEP);
	for (int i = 0; i < n - 1; i++) {
		cli_err("plan: %d. publish %" PRIu32 ", then wait until every secondary serves it: "
		        "soasync wait %s --serial %" PRIu32,
		        i + 1, steps[i], zone, steps[i]);
	}
	cli_err("plan: %d. publish %" PRIu32 ", the target", n, to);
}

static int serial_plan(int argc, char **argv)
{
	const char *zone = "ZONE";
	if (wants_help(argc, argv)) {
		fputs(plan_help, stdout);
		return 0;
	}
	int i = 1;
	if (argc > 2 && strcmp(argv[1], "--zone") == 0) {
		zone = argv[2];
		i = 3;
	} else if (argc > 1 && strncmp(argv[1], "--zone=", 7) == 0) {
		zone = argv[1] + 7;
		i = 2;
	}
	uint32_t from, to, steps[4];
	if (argc - i != 2) {
		cli_err("serial plan: expected two serials, FROM and TO; see "
		        "'soasync serial plan --help'");
		return SERIAL_ERROR;
	}
	if (cli_parse_serial("serial plan", argv[i], &from) != 0 ||
	    cli_parse_serial("serial plan", argv[i + 1], &to) != 0) {
		return SERIAL_ERROR;
	}
	int n = ss_serial_plan(from, to, steps, sizeof(steps) / sizeof(steps[0]));
	if (n <= 0) {
		cli_err("serial plan: %s", ss_strerror(n));
		return SERIAL_ERROR;
	}
	for (int k = 0; k < n; k++) {
		printf("%" PRIu32 "\n", steps[k]);
	}
	fflush(stdout);
	explain_plan(zone, from, steps, n);
	return 0;
}

int cmd_serial(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(serial_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? SERIAL_ERROR : 0;
	}
	if (strcmp(argv[1], "bump") == 0) {
		return serial_bump(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "compare") == 0) {
		return serial_compare(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "plan") == 0) {
		return serial_plan(argc - 1, argv + 1);
	}
	cli_err("serial: unknown command '%s': expected bump, compare or plan", argv[1]);
	return SERIAL_ERROR;
}
