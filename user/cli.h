/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the command files of the CLI share: the command table entry, exit
 * codes and argument helpers. One file per command: user/cmd_*.c. */
#ifndef SYNGUARD_CLI_H
#define SYNGUARD_CLI_H

#include <stdbool.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *help;
};

/* "synguard CMD: <message>" plus a pointer to --help; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, const char *arg);
/* Prints the command's help text; returns EXIT_OK. */
int show_help(const char *cmd);
/* Decimal in [min, max]; 0, or -1 if s is not one. */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

extern const struct command cmd_attach, cmd_detach, cmd_stats, cmd_conns, cmd_run;

#endif
