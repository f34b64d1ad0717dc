/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What synguard protects and how, as the operator states it: the options of
 * `attach`, `config` and the config file (one table, one parser, so every
 * option has the same name, range and message everywhere), CIDR lists and
 * their LPM maps (bpf/policy.h), and the ports that have listeners.
 */
#ifndef SYNGUARD_POLICY_H
#define SYNGUARD_POLICY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synguard.h"

/* ---- CIDR prefixes ---- */

struct sg_cidr {
	uint8_t family;		/* 4 or 6 */
	uint8_t len;		/* prefix length */
	uint8_t addr[16];	/* network order, host bits cleared; IPv4 in bytes 0-3 */
};

struct sg_cidr_list {
	struct sg_cidr *v;
	size_t n, cap;
};

/* "10.0.0.0/8", "2001:db8::/32", or an address alone (/32, /128). Host bits
 * are cleared. Returns 0, or -1 with msg filled in. */
int sg_cidr_parse(const char *s, struct sg_cidr *out, char *msg, size_t msglen);
/* "10.0.0.0/8": at most SG_CIDR_STRLEN bytes with the NUL. */
#define SG_CIDR_STRLEN (46 + 4)
void sg_cidr_format(const struct sg_cidr *c, char *buf, size_t len);
bool sg_cidr_equal(const struct sg_cidr *a, const struct sg_cidr *b);
/* A list of prefixes separated by commas and/or blanks; appended, without
 * duplicates. Returns 0, or -1 with msg filled in (the list is unchanged). */
int sg_cidr_list_parse(struct sg_cidr_list *l, const char *text, char *msg, size_t msglen);
int sg_cidr_list_add(struct sg_cidr_list *l, const struct sg_cidr *c); /* 0 or -ENOMEM */
bool sg_cidr_list_has(const struct sg_cidr_list *l, const struct sg_cidr *c);
void sg_cidr_list_remove(struct sg_cidr_list *l, const struct sg_cidr *c);
void sg_cidr_list_clear(struct sg_cidr_list *l);
void sg_cidr_list_free(struct sg_cidr_list *l);
size_t sg_cidr_list_count(const struct sg_cidr_list *l, int family);

/* ---- the policy lists and their maps ---- */

enum sg_list {
	SG_LIST_DST,		/* protected destination prefixes: sg_dst4/6 */
	SG_LIST_ALLOW,		/* trusted sources: sg_allow4/6 */
	SG_LIST_DENY,		/* blocked sources: sg_deny4/6 */
	SG_LIST_MAX
};

extern const char *const sg_list_option[SG_LIST_MAX];	 /* "prefix", "allow", "deny" */
extern const char *const sg_list_map[SG_LIST_MAX][2];	 /* map names, [IPv4, IPv6] */
extern const uint8_t sg_list_flag[SG_LIST_MAX];		 /* SG_POLICY_* */

/* Map fds by list and family (0: IPv4, 1: IPv6); -1 when closed. */
struct sg_policy_maps {
	int fd[SG_LIST_MAX][2];
};

void sg_policy_maps_init(struct sg_policy_maps *m);
/* The pinned maps of an attached interface; -1 with a message. */
int sg_policy_maps_open(const char *ifname, struct sg_policy_maps *m);
void sg_policy_maps_close(struct sg_policy_maps *m);
/* Read a list back from its maps (appends to out). 0 or -errno. */
int sg_policy_read(const struct sg_policy_maps *m, enum sg_list which, struct sg_cidr_list *out);
/*
 * Changing lists without a moment where the data path sees a wrong one:
 *   1. sg_policy_fill():  add every wanted prefix (old ones stay);
 *   2. write struct sg_config with policy_flags = sg_policy_flags(want);
 *   3. sg_policy_prune(): delete the prefixes no longer wanted.
 * A list being emptied has its flag cleared in step 2, before its entries
 * go; a list being filled has its entries in place before its flag is set.
 * Both return 0, or -1 with a message.
 */
int sg_policy_fill(const struct sg_policy_maps *m, const struct sg_cidr_list want[SG_LIST_MAX]);
int sg_policy_prune(const struct sg_policy_maps *m, const struct sg_cidr_list want[SG_LIST_MAX]);
uint8_t sg_policy_flags(const struct sg_cidr_list want[SG_LIST_MAX]);

/* ---- options of attach, config and the config file ---- */

enum sg_xdp_mode {
	SG_XDP_MODE_AUTO,	/* native if the driver has it, else generic; reported */
	SG_XDP_MODE_NATIVE,
	SG_XDP_MODE_GENERIC,
};
const char *sg_xdp_mode_name(enum sg_xdp_mode mode);
/* How program prog_id is attached to ifindex (this netns): "native",
 * "generic", "offload", or "none" when it is not. */
const char *sg_xdp_mode_of(int ifindex, uint32_t prog_id);

/* One bit per option in sg_options.given. */
enum sg_opt {
	SG_OPT_PORTS,
	SG_OPT_PREFIX,		/* the three lists: SG_OPT_PREFIX + enum sg_list */
	SG_OPT_ALLOW,
	SG_OPT_DENY,
	SG_OPT_ADD_PREFIX,	/* incremental edits (config): SG_OPT_ADD_PREFIX + list */
	SG_OPT_ADD_ALLOW,
	SG_OPT_ADD_DENY,
	SG_OPT_DEL_PREFIX,
	SG_OPT_DEL_ALLOW,
	SG_OPT_DEL_DENY,
	SG_OPT_XDP_MODE,
	SG_OPT_HANDOFF,
	SG_OPT_SECRET_FILE,
	SG_OPT_MSS4,
	SG_OPT_MSS6,
	SG_OPT_WSCALE,
	SG_OPT_TTL,
	SG_OPT_WINDOW,
	SG_OPT_EPOCH_SHIFT,
	SG_OPT_SYN_RATE,
	SG_OPT_SYN_BURST,
	SG_OPT_RATE_PREFIX4,
	SG_OPT_RATE_PREFIX6,
	SG_OPT_MSL,
	SG_OPT_IDLE_TIMEOUT,
	SG_OPT_FLOW_TABLE_SIZE,	/* not in struct sg_config: sizes the map at load */
	SG_OPT_MAX
};

/* Where an option may appear. */
#define SG_OPT_IN_ATTACH 0x1
#define SG_OPT_IN_CONFIG 0x2	/* changeable at runtime, in the maps */

struct sg_option_def {
	const char *name;	/* long option and config file key ('-' or '_') */
	enum sg_opt id;
	unsigned int where;	/* SG_OPT_IN_* */
	bool repeatable;	/* lists: each use appends */
	const char *arg;	/* for help and the man page */
};
extern const struct sg_option_def sg_option_defs[SG_OPT_MAX];
const struct sg_option_def *sg_option_find(const char *name); /* '_' == '-' */

struct sg_options {
	uint64_t given;				/* 1ULL << SG_OPT_* */
	uint32_t num[SG_OPT_MAX];		/* values of the numeric options */
	uint64_t ports[SG_PORT_WORDS];
	bool ports_auto;
	struct sg_cidr_list list[SG_LIST_MAX];	/* --prefix/--allow/--deny (replace) */
	struct sg_cidr_list add[SG_LIST_MAX];	/* --add-* */
	struct sg_cidr_list del[SG_LIST_MAX];	/* --del-* */
	enum sg_xdp_mode xdp_mode;
	enum sg_handoff handoff;
	char secret_file[PATH_MAX];
};

void sg_options_init(struct sg_options *o);
void sg_options_free(struct sg_options *o);
static inline bool sg_opt_given(const struct sg_options *o, enum sg_opt id)
{
	return o->given >> id & 1;
}
/*
 * Set option `name` (a long option or config file key) from its text value.
 * `shown` is how the message names it ("--mss4", or "mss4" for the file).
 * Returns 0; -ENOENT for an unknown name; -EINVAL for a bad value; both with
 * msg filled in. List options append; "none" empties the list.
 */
int sg_option_set(struct sg_options *o, const char *name, const char *value, const char *shown,
		  char *msg, size_t msglen);
/*
 * getopt_long() tables from sg_option_defs: the options of a command (where:
 * SG_OPT_IN_*), then --verbose (-v) and --help (-h). --ports is 'p'; the
 * others return SG_OPT_GETOPT_BASE + their index in sg_option_defs.
 * sg_option_set_getopt() sets the option getopt_long() returned.
 */
#define SG_OPT_GETOPT_BASE 0x100
#define SG_OPT_GETOPT_TABLE (SG_OPT_MAX + 3)
struct option;
void sg_option_getopt_table(struct option *opts, unsigned int where);
int sg_option_set_getopt(struct sg_options *o, int c, const char *arg, char *msg, size_t msglen);
/* Copy the given configuration fields of o onto cfg. A --syn-rate without
 * --syn-burst gets a burst of one second's worth when none is set. */
void sg_options_apply_config(const struct sg_options *o, struct sg_config *cfg);
/*
 * The lists o asks for, in want[] (initialised by the caller, freed by it):
 * a given list replaces; without one, `current` (the maps' content, or NULL
 * for empty) stays; then --add-* and --del-* edit it. With m == NULL the
 * current content counts as empty (a first attach). 0 or -1 with a message.
 */
int sg_options_lists(const struct sg_options *o, const struct sg_policy_maps *m,
		     struct sg_cidr_list want[SG_LIST_MAX]);

/* ---- ports with listeners ---- */

/* The TCP ports that have a listening socket in this network namespace
 * (/proc/net/tcp and tcp6), except listeners bound to loopback addresses
 * only, which no packet from an interface can reach. Returns the number of
 * ports, or -errno. `run` calls it again to follow listeners. */
int sg_ports_auto(uint64_t bitmap[SG_PORT_WORDS]);

#endif
