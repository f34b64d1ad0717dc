// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Options of attach/config/the config file, CIDR lists and their LPM maps,
 * and the ports that have listeners. See policy.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "policy.h"

/* ---- CIDR prefixes ---- */

static void cidr_mask(struct sg_cidr *c)
{
	unsigned int bytes = c->family == 4 ? 4 : 16;

	for (unsigned int i = 0; i < bytes; i++) {
		unsigned int keep = c->len > i * 8 ? c->len - i * 8 : 0;

		if (keep < 8)
			c->addr[i] &= (uint8_t)(0xff00 >> keep);
	}
	memset(c->addr + bytes, 0, sizeof(c->addr) - bytes);
}

int sg_cidr_parse(const char *s, struct sg_cidr *out, char *msg, size_t msglen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len;
	int max;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		goto bad;
	memcpy(addr, s, alen);
	addr[alen] = 0;
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = 4;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = 6;
	else
		goto bad;
	max = out->family == 4 ? 32 : 128;
	if (slash) {
		char *end;

		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end || errno || len > (unsigned long)max) {
			snprintf(msg, msglen, "bad prefix length in '%s': IPv%d takes /0 to /%d", s,
				 out->family, max);
			return -1;
		}
	} else {
		len = max;
	}
	out->len = len;
	cidr_mask(out);
	return 0;
bad:
	snprintf(msg, msglen, "'%s' is not an address or prefix (use 192.0.2.0/24 or 2001:db8::/32)", s);
	return -1;
}

void sg_cidr_format(const struct sg_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->len);
}

bool sg_cidr_equal(const struct sg_cidr *a, const struct sg_cidr *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

bool sg_cidr_list_has(const struct sg_cidr_list *l, const struct sg_cidr *c)
{
	for (size_t i = 0; i < l->n; i++)
		if (sg_cidr_equal(&l->v[i], c))
			return true;
	return false;
}

int sg_cidr_list_add(struct sg_cidr_list *l, const struct sg_cidr *c)
{
	if (sg_cidr_list_has(l, c))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct sg_cidr *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *c;
	return 0;
}

void sg_cidr_list_remove(struct sg_cidr_list *l, const struct sg_cidr *c)
{
	for (size_t i = 0; i < l->n; i++) {
		if (sg_cidr_equal(&l->v[i], c)) {
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
			l->n--;
			return;
		}
	}
}

void sg_cidr_list_clear(struct sg_cidr_list *l)
{
	l->n = 0;
}

void sg_cidr_list_free(struct sg_cidr_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

size_t sg_cidr_list_count(const struct sg_cidr_list *l, int family)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].family == family;
	return n;
}

int sg_cidr_list_parse(struct sg_cidr_list *l, const char *text, char *msg, size_t msglen)
{
	size_t n0 = l->n, tokens = 0;
	const char *p = text;

	while (*p) {
		char tok[128];
		struct sg_cidr c;
		size_t len;

		p += strspn(p, ", \t");
		len = strcspn(p, ", \t");
		if (!len)
			break;
		if (len >= sizeof(tok)) {
			snprintf(msg, msglen, "'%.40s...' is not an address or prefix", p);
			goto fail;
		}
		memcpy(tok, p, len);
		tok[len] = 0;
		p += len;
		if (sg_cidr_parse(tok, &c, msg, msglen))
			goto fail;
		if (sg_cidr_list_add(l, &c)) {
			snprintf(msg, msglen, "out of memory");
			goto fail;
		}
		tokens++;
	}
	if (!tokens) {
		snprintf(msg, msglen, "empty prefix list");
		goto fail;
	}
	return 0;
fail:
	l->n = n0;
	return -1;
}

/* ---- the policy lists and their maps ---- */

const char *const sg_list_option[SG_LIST_MAX] = { "prefix", "allow", "deny" };
const char *const sg_list_map[SG_LIST_MAX][2] = {
	{ "sg_dst4", "sg_dst6" },
	{ "sg_allow4", "sg_allow6" },
	{ "sg_deny4", "sg_deny6" },
};
const uint8_t sg_list_flag[SG_LIST_MAX] = { SG_POLICY_DST_PREFIXES, SG_POLICY_ALLOW, SG_POLICY_DENY };
static const char *const list_what[SG_LIST_MAX] = {
	"protected prefix list", "allow list", "deny list"
};

void sg_policy_maps_init(struct sg_policy_maps *m)
{
	for (int l = 0; l < SG_LIST_MAX; l++)
		m->fd[l][0] = m->fd[l][1] = -1;
}

int sg_policy_maps_open(const char *ifname, struct sg_policy_maps *m)
{
	sg_policy_maps_init(m);
	for (int l = 0; l < SG_LIST_MAX; l++) {
		for (int f = 0; f < 2; f++) {
			m->fd[l][f] = sg_pinned_map_fd(ifname, sg_list_map[l][f]);
			if (m->fd[l][f] < 0) {
				sg_policy_maps_close(m);
				return -1;
			}
		}
	}
	return 0;
}

void sg_policy_maps_close(struct sg_policy_maps *m)
{
	for (int l = 0; l < SG_LIST_MAX; l++)
		for (int f = 0; f < 2; f++)
			if (m->fd[l][f] >= 0) {
				close(m->fd[l][f]);
				m->fd[l][f] = -1;
			}
}

/* The LPM key of a prefix: {prefixlen, addr}, as struct sg_lpm4/6. */
static size_t lpm_key(const struct sg_cidr *c, void *key)
{
	if (c->family == 4) {
		struct sg_lpm4 *k = key;

		k->prefixlen = c->len;
		memcpy(&k->addr, c->addr, 4);
		return sizeof(*k);
	} else {
		struct sg_lpm6 *k = key;

		k->prefixlen = c->len;
		memcpy(k->addr, c->addr, 16);
		return sizeof(*k);
	}
}

static void lpm_to_cidr(const void *key, int family, struct sg_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->family = family;
	if (family == 4) {
		const struct sg_lpm4 *k = key;

		c->len = k->prefixlen;
		memcpy(c->addr, &k->addr, 4);
	} else {
		const struct sg_lpm6 *k = key;

		c->len = k->prefixlen;
		memcpy(c->addr, k->addr, 16);
	}
}

/* Every prefix in one trie, appended to out. */
static int trie_read(int fd, int family, struct sg_cidr_list *out)
{
	struct sg_lpm6 key, next; /* big enough for either */
	struct sg_cidr c;
	void *prev = NULL;
	int err;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		lpm_to_cidr(&next, family, &c);
		err = sg_cidr_list_add(out, &c);
		if (err)
			return err;
		key = next;
		prev = &key;
	}
	return errno == ENOENT ? 0 : -errno;
}

int sg_policy_read(const struct sg_policy_maps *m, enum sg_list which, struct sg_cidr_list *out)
{
	int err = trie_read(m->fd[which][0], 4, out);

	return err ? err : trie_read(m->fd[which][1], 6, out);
}

int sg_policy_fill(const struct sg_policy_maps *m, const struct sg_cidr_list want[SG_LIST_MAX])
{
	const uint8_t one = 1;

	for (int l = 0; l < SG_LIST_MAX; l++) {
		for (size_t i = 0; i < want[l].n; i++) {
			const struct sg_cidr *c = &want[l].v[i];
			struct sg_lpm6 key;
			char s[SG_CIDR_STRLEN];

			lpm_key(c, &key);
			if (bpf_map_update_elem(m->fd[l][c->family == 6], &key, &one, BPF_ANY)) {
				int err = errno;

				sg_cidr_format(c, s, sizeof(s));
				if (err == ENOSPC || err == E2BIG)
					sg_err("cannot add %s: the %s is full (map %s); remove entries "
					       "first", s, list_what[l], sg_list_map[l][c->family == 6]);
				else
					sg_err("cannot add %s to the %s (map %s): %s", s, list_what[l],
					       sg_list_map[l][c->family == 6], strerror(err));
				return -1;
			}
		}
	}
	return 0;
}

int sg_policy_prune(const struct sg_policy_maps *m, const struct sg_cidr_list want[SG_LIST_MAX])
{
	int ret = 0;

	for (int l = 0; l < SG_LIST_MAX; l++) {
		struct sg_cidr_list have = {};
		int err = sg_policy_read(m, l, &have);

		if (err) {
			sg_err("cannot read the %s: %s", list_what[l], strerror(-err));
			ret = -1;
		}
		for (size_t i = 0; i < have.n; i++) {
			const struct sg_cidr *c = &have.v[i];
			struct sg_lpm6 key;

			if (sg_cidr_list_has(&want[l], c))
				continue;
			lpm_key(c, &key);
			if (bpf_map_delete_elem(m->fd[l][c->family == 6], &key) && errno != ENOENT) {
				char s[SG_CIDR_STRLEN];

				sg_cidr_format(c, s, sizeof(s));
				sg_err("cannot remove %s from the %s: %s", s, list_what[l], strerror(errno));
				ret = -1;
			}
		}
		sg_cidr_list_free(&have);
	}
	return ret;
}

uint8_t sg_policy_flags(const struct sg_cidr_list want[SG_LIST_MAX])
{
	uint8_t flags = 0;

	for (int l = 0; l < SG_LIST_MAX; l++)
		if (want[l].n)
			flags |= sg_list_flag[l];
	return flags;
}

/* ---- options ---- */

const char *sg_xdp_mode_name(enum sg_xdp_mode mode)
{
	return mode == SG_XDP_MODE_NATIVE ? "native" : mode == SG_XDP_MODE_GENERIC ? "generic" : "auto";
}

const char *sg_xdp_mode_of(int ifindex, uint32_t prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (!prog_id || bpf_xdp_query(ifindex, 0, &q))
		return "none";
	if (q.drv_prog_id == prog_id)
		return "native";
	if (q.skb_prog_id == prog_id)
		return "generic";
	if (q.hw_prog_id == prog_id)
		return "offload";
	return "none";
}

#define A SG_OPT_IN_ATTACH
#define C SG_OPT_IN_CONFIG
const struct sg_option_def sg_option_defs[SG_OPT_MAX] = {
	{ "ports", SG_OPT_PORTS, A | C, false, "LIST|auto" },
	{ "prefix", SG_OPT_PREFIX, A | C, true, "CIDR" },
	{ "allow", SG_OPT_ALLOW, A | C, true, "CIDR" },
	{ "deny", SG_OPT_DENY, A | C, true, "CIDR" },
	{ "add-prefix", SG_OPT_ADD_PREFIX, C, true, "CIDR" },
	{ "add-allow", SG_OPT_ADD_ALLOW, C, true, "CIDR" },
	{ "add-deny", SG_OPT_ADD_DENY, C, true, "CIDR" },
	{ "del-prefix", SG_OPT_DEL_PREFIX, C, true, "CIDR" },
	{ "del-allow", SG_OPT_DEL_ALLOW, C, true, "CIDR" },
	{ "del-deny", SG_OPT_DEL_DENY, C, true, "CIDR" },
	{ "xdp-mode", SG_OPT_XDP_MODE, A, false, "native|generic|auto" },
	{ "handoff", SG_OPT_HANDOFF, A, false, "local|legacy|auto" },
	{ "secret-file", SG_OPT_SECRET_FILE, A | C, false, "PATH" },
	{ "mss4", SG_OPT_MSS4, A | C, false, "N" },
	{ "mss6", SG_OPT_MSS6, A | C, false, "N" },
	{ "wscale", SG_OPT_WSCALE, A | C, false, "N" },
	{ "ttl", SG_OPT_TTL, A | C, false, "N" },
	{ "window", SG_OPT_WINDOW, A | C, false, "N" },
	{ "epoch-shift", SG_OPT_EPOCH_SHIFT, A, false, "N" },
	{ "syn-rate", SG_OPT_SYN_RATE, A | C, false, "N" },
	{ "syn-burst", SG_OPT_SYN_BURST, A | C, false, "N" },
	{ "rate-prefix4", SG_OPT_RATE_PREFIX4, A | C, false, "N" },
	{ "rate-prefix6", SG_OPT_RATE_PREFIX6, A | C, false, "N" },
	{ "msl", SG_OPT_MSL, A | C, false, "SECONDS" },
	{ "idle-timeout", SG_OPT_IDLE_TIMEOUT, A | C, false, "SECONDS" },
	{ "flow-table-size", SG_OPT_FLOW_TABLE_SIZE, A, false, "N" },
};
#undef A
#undef C

const struct sg_option_def *sg_option_find(const char *name)
{
	for (int i = 0; i < SG_OPT_MAX; i++) {
		const char *a = sg_option_defs[i].name, *b = name;

		while (*a && (*a == *b || (*a == '-' && *b == '_'))) {
			a++;
			b++;
		}
		if (!*a && !*b)
			return &sg_option_defs[i];
	}
	return NULL;
}

void sg_option_getopt_table(struct option *opts, unsigned int where)
{
	int n = 0;

	for (int i = 0; i < SG_OPT_MAX; i++)
		if (sg_option_defs[i].where & where)
			opts[n++] = (struct option){ sg_option_defs[i].name, required_argument, NULL,
						     sg_option_defs[i].id == SG_OPT_PORTS
							     ? 'p' : SG_OPT_GETOPT_BASE + i };
	opts[n++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n] = (struct option){};
}

int sg_option_set_getopt(struct sg_options *o, int c, const char *arg, char *msg, size_t msglen)
{
	const char *name;
	char shown[64];

	if (c == 'p')
		name = "ports";
	else if (c >= SG_OPT_GETOPT_BASE && c < SG_OPT_GETOPT_BASE + SG_OPT_MAX)
		name = sg_option_defs[c - SG_OPT_GETOPT_BASE].name;
	else
		return snprintf(msg, msglen, "unknown option"), -ENOENT;
	snprintf(shown, sizeof(shown), "--%s", name);
	return sg_option_set(o, name, arg, shown, msg, msglen);
}

void sg_options_init(struct sg_options *o)
{
	memset(o, 0, sizeof(*o));
	o->xdp_mode = SG_XDP_MODE_AUTO;
	o->handoff = SG_HANDOFF_AUTO;
}

void sg_options_free(struct sg_options *o)
{
	for (int l = 0; l < SG_LIST_MAX; l++) {
		sg_cidr_list_free(&o->list[l]);
		sg_cidr_list_free(&o->add[l]);
		sg_cidr_list_free(&o->del[l]);
	}
}

/* Numeric options: range and the sg_config field they set. */
static const struct {
	enum sg_opt id;
	unsigned long min, max;
	const char *note;
} ranges[] = {
	{ SG_OPT_MSS4, 536, 65495, NULL },
	{ SG_OPT_MSS6, 1220, 65475, NULL },
	{ SG_OPT_WSCALE, 0, 14, NULL },
	{ SG_OPT_TTL, 1, 255, NULL },
	{ SG_OPT_WINDOW, 1, 65535, NULL },
	{ SG_OPT_EPOCH_SHIFT, SG_MIN_EPOCH_SHIFT, SG_MAX_EPOCH_SHIFT, NULL },
	{ SG_OPT_SYN_RATE, 0, UINT32_MAX, " SYN-ACKs per second (0: no limit)" },
	{ SG_OPT_SYN_BURST, 1, UINT32_MAX, NULL },
	{ SG_OPT_RATE_PREFIX4, 1, 32, NULL },
	{ SG_OPT_RATE_PREFIX6, 1, 128, NULL },
	{ SG_OPT_MSL, 1, 600, " seconds" },
	{ SG_OPT_IDLE_TIMEOUT, 1, 30 * 86400, " seconds" },
	{ SG_OPT_FLOW_TABLE_SIZE, 1024, 1 << 24, " entries" },
};

static void config_set(struct sg_config *cfg, enum sg_opt id, unsigned long v)
{
	switch (id) {
	case SG_OPT_MSS4: cfg->mss4 = v; break;
	case SG_OPT_MSS6: cfg->mss6 = v; break;
	case SG_OPT_WSCALE: cfg->wscale = v; break;
	case SG_OPT_TTL: cfg->ttl = v; break;
	case SG_OPT_WINDOW: cfg->synack_window = v; break;
	case SG_OPT_EPOCH_SHIFT: cfg->epoch_shift = v; break;
	case SG_OPT_SYN_RATE: cfg->syn_rate = v; break;
	case SG_OPT_SYN_BURST: cfg->syn_burst = v; break;
	case SG_OPT_RATE_PREFIX4: cfg->rate_prefix4 = v; break;
	case SG_OPT_RATE_PREFIX6: cfg->rate_prefix6 = v; break;
	case SG_OPT_MSL: cfg->msl_s = v; break;
	case SG_OPT_IDLE_TIMEOUT: cfg->idle_timeout_s = v; break;
	default: break;
	}
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out < min || *out > max ? -1 : 0;
}

int sg_option_set(struct sg_options *o, const char *name, const char *value, const char *shown,
		  char *msg, size_t msglen)
{
	const struct sg_option_def *d = sg_option_find(name);
	char why[256];
	unsigned long v;

	if (!d) {
		snprintf(msg, msglen, "unknown option '%s'", name);
		return -ENOENT;
	}
	switch (d->id) {
	case SG_OPT_PORTS:
		if (!strcmp(value, "auto")) {
			o->ports_auto = true;
			memset(o->ports, 0, sizeof(o->ports));
		} else if (sg_ports_parse(value, o->ports, why, sizeof(why))) {
			snprintf(msg, msglen, "%s: %s", shown, why);
			return -EINVAL;
		} else {
			o->ports_auto = false;
		}
		break;
	case SG_OPT_PREFIX ... SG_OPT_DEL_DENY: {
		int idx = d->id - SG_OPT_PREFIX;
		struct sg_cidr_list *l = idx < 3 ? &o->list[idx] : idx < 6 ? &o->add[idx - 3] : &o->del[idx - 6];

		if (idx < 3 && !strcmp(value, "none")) {
			sg_cidr_list_clear(l);
		} else if (sg_cidr_list_parse(l, value, why, sizeof(why))) {
			snprintf(msg, msglen, "%s: %s", shown, why);
			return -EINVAL;
		}
		break;
	}
	case SG_OPT_XDP_MODE:
		if (!strcmp(value, "native"))
			o->xdp_mode = SG_XDP_MODE_NATIVE;
		else if (!strcmp(value, "generic"))
			o->xdp_mode = SG_XDP_MODE_GENERIC;
		else if (!strcmp(value, "auto"))
			o->xdp_mode = SG_XDP_MODE_AUTO;
		else
			goto bad_word;
		break;
	case SG_OPT_HANDOFF:
		if (!strcmp(value, "local"))
			o->handoff = SG_HANDOFF_LOCAL;
		else if (!strcmp(value, "legacy"))
			o->handoff = SG_HANDOFF_LEGACY;
		else if (!strcmp(value, "auto"))
			o->handoff = SG_HANDOFF_AUTO;
		else
			goto bad_word;
		break;
	case SG_OPT_SECRET_FILE:
		if (!*value || strlen(value) >= sizeof(o->secret_file)) {
			snprintf(msg, msglen, "%s takes a file name", shown);
			return -EINVAL;
		}
		strcpy(o->secret_file, value);
		break;
	default:
		for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
			if (ranges[i].id != d->id)
				continue;
			if (parse_ulong(value, ranges[i].min, ranges[i].max, &v)) {
				snprintf(msg, msglen, "%s takes %lu-%lu%s, not '%s'", shown, ranges[i].min,
					 ranges[i].max, ranges[i].note ? ranges[i].note : "", value);
				return -EINVAL;
			}
			o->num[d->id] = v;
		}
		break;
	}
	o->given |= 1ULL << d->id;
	return 0;
bad_word:
	snprintf(msg, msglen, "%s takes %s, not '%s'", shown, d->arg, value);
	return -EINVAL;
}

void sg_options_apply_config(const struct sg_options *o, struct sg_config *cfg)
{
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (sg_opt_given(o, ranges[i].id))
			config_set(cfg, ranges[i].id, o->num[ranges[i].id]);
	if (sg_opt_given(o, SG_OPT_SYN_RATE) && !sg_opt_given(o, SG_OPT_SYN_BURST) && !cfg->syn_burst)
		cfg->syn_burst = cfg->syn_rate;
}

int sg_options_lists(const struct sg_options *o, const struct sg_policy_maps *m,
		     struct sg_cidr_list want[SG_LIST_MAX])
{
	for (int l = 0; l < SG_LIST_MAX; l++) {
		const struct sg_cidr_list *src = NULL;

		sg_cidr_list_clear(&want[l]);
		if (sg_opt_given(o, SG_OPT_PREFIX + l)) {
			src = &o->list[l];
		} else if (m) {
			int err = sg_policy_read(m, l, &want[l]);

			if (err) {
				sg_err("cannot read the %s: %s", list_what[l], strerror(-err));
				return -1;
			}
		}
		for (size_t i = 0; src && i < src->n; i++)
			if (sg_cidr_list_add(&want[l], &src->v[i]))
				goto oom;
		for (size_t i = 0; i < o->add[l].n; i++)
			if (sg_cidr_list_add(&want[l], &o->add[l].v[i]))
				goto oom;
		for (size_t i = 0; i < o->del[l].n; i++)
			sg_cidr_list_remove(&want[l], &o->del[l].v[i]);
	}
	return 0;
oom:
	sg_err("out of memory");
	return -1;
}

/* ---- ports with listeners ---- */

static bool loopback(const uint8_t *a, bool v6)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!v6)
		return a[0] == 127;
	if (!memcmp(a, lo6, 16))
		return true;
	return !memcmp(a, mapped, 12) && a[12] == 127; /* ::ffff:127.x.y.z */
}

/* One /proc/net/tcp{,6} file: "sl local_address rem_address st ...", the
 * address as %08X words of the raw network-order value, LISTEN = 0A. */
static int listeners_from(const char *path, bool v6, uint64_t bitmap[SG_PORT_WORDS])
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return errno == ENOENT ? 0 : -errno; /* no IPv6 in this kernel */
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char local[40], remote[40];
		unsigned int port, state;
		uint8_t addr[16];
		int words = v6 ? 4 : 1;

		if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f:] %x", local, &port, remote,
			   &state) != 4 || state != 0x0A || strlen(local) != (size_t)words * 8)
			continue;
		for (int w = 0; w < words; w++) {
			char word[9];
			uint32_t raw;

			memcpy(word, local + w * 8, 8);
			word[8] = 0;
			raw = strtoul(word, NULL, 16);
			memcpy(addr + w * 4, &raw, 4); /* the kernel printed the raw u32 */
		}
		if (port && port < 65536 && !loopback(addr, v6))
			bitmap[port / 64] |= 1ULL << (port % 64);
	}
	fclose(f);
	return 0;
}

int sg_ports_auto(uint64_t bitmap[SG_PORT_WORDS])
{
	int err, n = 0;

	memset(bitmap, 0, SG_PORT_WORDS * sizeof(uint64_t));
	err = listeners_from("/proc/net/tcp", false, bitmap);
	if (!err)
		err = listeners_from("/proc/net/tcp6", true, bitmap);
	if (err)
		return err;
	for (int i = 0; i < SG_PORT_WORDS; i++)
		n += __builtin_popcountll(bitmap[i]);
	return n;
}
