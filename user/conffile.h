/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The configuration file of `synguard run` (/etc/synguard/synguard.conf):
 *
 *	# comment
 *	interface = eth0
 *	ports = 80,443            # or: auto
 *	allow = 192.0.2.0/24      # list keys repeat, or take a comma list
 *	allow = 2001:db8::/32
 *	metrics = 127.0.0.1:9477  # or: off
 *
 * One `key = value` per line; '#' starts a comment (at the start of a line
 * or after a blank); values may be double-quoted; '_' and '-' are the same
 * in keys. The keys are `interface`, `metrics` and the long options of
 * `synguard attach` (sg_option_defs[] with SG_OPT_IN_ATTACH), with the same
 * values and ranges. A list key may repeat (each line appends; "none"
 * empties it); any other key set twice is an error. Unknown keys are errors.
 * Documented in synguard(8), CONFIGURATION FILE.
 */
#ifndef SYNGUARD_CONFFILE_H
#define SYNGUARD_CONFFILE_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define SG_CONFFILE_DEFAULT "/etc/synguard/synguard.conf"
#define SG_CONFFILE_MAX_BYTES (1 << 20)

struct sg_conffile {
	char ifname[IF_NAMESIZE];	/* "interface"; empty if the file has none */
	struct sg_options opt;		/* the attach options the file sets (opt.given) */
	char metrics[128];		/* "metrics": HOST:PORT; "" when "off" */
	bool metrics_given;
};

/*
 * Read and check a config file. On success fills *out (free it with
 * sg_conffile_free) and returns 0; on failure returns -1, leaves *out
 * empty and puts "PATH:LINE: what is wrong" in err. Safe to call again on
 * SIGHUP: load into a fresh struct, and swap only if it succeeded.
 */
int sg_conffile_load(const char *path, struct sg_conffile *out, char *err, size_t errlen);
/* The same, from text in memory; `name` stands for the path in messages. */
int sg_conffile_parse(const char *text, const char *name, struct sg_conffile *out, char *err,
		      size_t errlen);
void sg_conffile_init(struct sg_conffile *c);
void sg_conffile_free(struct sg_conffile *c);

/*
 * Attach (or re-attach: program replaced in place, maps, secret and flows
 * kept) with the options of a command line or a config file, as `synguard
 * attach IFACE ...` does; prints what it did. Returns an exit status
 * (EXIT_OK, EXIT_RUNTIME, or EXIT_USAGE without ports). Defined in
 * user/cmd_attach.c: for the commands only (synguard run), not the library.
 * `run` on SIGHUP: sg_conffile_load() into a fresh struct, then this with it.
 */
int sg_attach_options(const char *ifname, struct sg_options *o);

#endif
