// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* synguard COMMAND [options]: the operator's CLI. The commands live in
 * user/cmd_*.c; this file holds the table, the dispatch and shared helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "synguard.h"

#ifndef SYNGUARD_VERSION
#define SYNGUARD_VERSION "dev"
#endif

static const struct command *find_command(const char *name);

int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "synguard %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'synguard %s --help'.\n", cmd);
	return EXIT_USAGE;
}

int show_help(const char *cmd)
{
	const struct command *c = find_command(cmd);

	fputs(c->help, stdout);
	return EXIT_OK;
}

int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || end == s || *end || *out < min || *out > max || s[0] == '-' ? -1 : 0;
}

static const char main_help[] =
	"Usage: synguard COMMAND [options]\n"
	"\n"
	"XDP SYN-cookie front end that keeps TCP services reachable under SYN floods.\n"
	"\n"
	"Commands:\n"
	"%s"
	"\n"
	"Global options: --version, --help; 'synguard COMMAND --help' for each command.\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage error.\n"
	"\n"
	"Examples:\n"
	"  synguard attach eth0 --ports 80,443\n"
	"  synguard stats eth0 --json\n"
	"  synguard detach eth0\n";

/* Commands in the order `--help` lists them. Each lives in its own
 * user/cmd_*.c; weak references let a command file arrive on its own. */
extern const struct command cmd_status __attribute__((weak));
extern const struct command cmd_config __attribute__((weak));
extern const struct command cmd_run __attribute__((weak));
extern const struct command cmd_conns __attribute__((weak));

static const struct command *const commands[] = {
	&cmd_attach, &cmd_detach, &cmd_status, &cmd_stats, &cmd_conns, &cmd_config, &cmd_run,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (commands[i] && !strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static void print_main_help(FILE *f)
{
	char list[1024];
	size_t used = 0;

	list[0] = 0;
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (commands[i])
			used += snprintf(list + used, sizeof(list) - used, "  %-8s %s\n",
					 commands[i]->name, commands[i]->summary);
	fprintf(f, main_help, list);
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	sg_libbpf_log_setup();
	if (argc < 2) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		print_main_help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("synguard %s (libbpf %s)\n", SYNGUARD_VERSION, libbpf_version_string());
		return EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "synguard: unknown command '%s'\n", argv[1]);
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
