/*
 * soasync CLI: shared declarations. Results go to stdout; diagnostics go to
 * stderr as "soasync: ZONE: message" (or "soasync: message").
 */
#ifndef SOASYNC_CLI_H
#define SOASYNC_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit codes, monitoring-plugin style (check, wait, doctor...). A usage
 * error (a bad option or value, a missing operand) exits 3 in every command. */
enum { EXIT_OK_ = 0, EXIT_WARNING = 1, EXIT_CRITICAL = 2, EXIT_UNKNOWN = 3, EXIT_USAGE = 3 };

typedef int (*cli_cmd_fn)(int argc, char **argv);

/* The steps of a command, run in this order by cli_command(). */
typedef struct {
	/* Fill args from argv: 1 when --help was printed, 0 to go on, -1 after a
	 * one-line message on a usage error. */
	int (*parse)(void *args, int argc, char **argv);
	/* Do the work; returns the exit status. */
	int (*run)(void *args);
	/* Free what parse and run left in args (also after a usage error). */
	void (*done)(void *args);
} cli_steps_t;

/* parse, then run (or exit 0 after --help, EXIT_USAGE after a usage
 * error), then done; returns the exit status. */
int cli_command(const cli_steps_t *steps, void *args, int argc, char **argv);

/* "soasync: msg" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "soasync: zone: msg" on stderr. */
void cli_zerr(const char *zone, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Colors: on when stdout is a terminal and NO_COLOR is unset, unless forced. */
typedef enum { CLI_COLOR_AUTO, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER } cli_color_t;
bool cli_use_color(cli_color_t mode, FILE *f);

/* Subcommands. */
int cmd_check(int argc, char **argv);
int cmd_notify(int argc, char **argv);
int cmd_xfr_check(int argc, char **argv);
int cmd_wait(int argc, char **argv);
/* Exit status: 0 same, 1 different, 2 error. */
int cmd_diff(int argc, char **argv);
int cmd_serial(int argc, char **argv);
int cmd_guard(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_history(int argc, char **argv);

#endif
