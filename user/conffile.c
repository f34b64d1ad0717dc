// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The configuration file: key = value lines. See conffile.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conffile.h"
#include "metrics.h"

void sg_conffile_init(struct sg_conffile *c)
{
	memset(c, 0, sizeof(*c));
	sg_options_init(&c->opt);
	snprintf(c->metrics, sizeof(c->metrics), "%s", SG_METRICS_DEFAULT_ADDR);
}

void sg_conffile_free(struct sg_conffile *c)
{
	sg_options_free(&c->opt);
	sg_conffile_init(c);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* Strips a comment ('#' at the start or after a blank, outside quotes). */
static void strip_comment(char *s)
{
	bool quoted = false;

	for (char *p = s; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted && (p == s || isspace((unsigned char)p[-1]))) {
			*p = 0;
			return;
		}
	}
}

static bool key_is(const char *key, const char *name)
{
	for (; *name; key++, name++)
		if (*key != *name && !(*key == '_' && *name == '-'))
			return false;
	return !*key;
}

/* One "key = value" line into c. 0, or -1 with msg (no location). */
static int parse_line(struct sg_conffile *c, char *line, int lineno, int *seen_line, char *msg,
		      size_t msglen)
{
	const struct sg_option_def *d;
	char *eq, *key, *value, why[512];
	size_t vlen;
	int slot;

	strip_comment(line);
	line = trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(msg, msglen, "expected 'key = value', got '%.60s'", line);
		return -1;
	}
	*eq = 0;
	key = trim(line);
	value = trim(eq + 1);
	vlen = strlen(value);
	if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
		value[vlen - 1] = 0;
		value++;
	} else if (strchr(value, '"')) {
		snprintf(msg, msglen, "unbalanced quote in the value of '%s'", key);
		return -1;
	}
	if (!*key) {
		snprintf(msg, msglen, "missing key before '='");
		return -1;
	}
	if (!*value) {
		snprintf(msg, msglen, "'%s' has no value", key);
		return -1;
	}
	/* Slots for "set twice" checks: options by id, then our own keys. */
	if (key_is(key, "interface")) {
		slot = SG_OPT_MAX;
	} else if (key_is(key, "metrics")) {
		slot = SG_OPT_MAX + 1;
	} else {
		d = sg_option_find(key);
		if (!d || !(d->where & SG_OPT_IN_ATTACH)) {
			snprintf(msg, msglen, "unknown key '%s' (the keys are listed in synguard(8), "
				 "CONFIGURATION FILE)", key);
			return -1;
		}
		slot = d->repeatable ? -1 : (int)d->id;
	}
	if (slot >= 0 && seen_line[slot]) {
		snprintf(msg, msglen, "'%s' is set twice (first on line %d); keep one", key,
			 seen_line[slot]);
		return -1;
	}
	if (slot >= 0)
		seen_line[slot] = lineno;

	if (slot == SG_OPT_MAX) {
		if (strlen(value) >= IF_NAMESIZE || strpbrk(value, " \t/,")) {
			snprintf(msg, msglen, "'%s' is not an interface name", value);
			return -1;
		}
		strcpy(c->ifname, value);
		return 0;
	}
	if (slot == SG_OPT_MAX + 1) {
		c->metrics_given = true;
		if (!strcmp(value, "off")) {
			c->metrics[0] = 0;
			return 0;
		}
		if (strlen(value) >= sizeof(c->metrics) || !strchr(value, ':')) {
			snprintf(msg, msglen, "metrics takes HOST:PORT (e.g. 127.0.0.1:9477) or off, "
				 "not '%s'", value);
			return -1;
		}
		strcpy(c->metrics, value);
		return 0;
	}
	if (key_is(key, "secret-file") && value[0] != '/') {
		snprintf(msg, msglen, "secret-file must be an absolute path, not '%s'", value);
		return -1;
	}
	if (sg_option_set(&c->opt, key, value, key, why, sizeof(why))) {
		snprintf(msg, msglen, "%s", why);
		return -1;
	}
	return 0;
}

int sg_conffile_parse(const char *text, const char *name, struct sg_conffile *out, char *err,
		      size_t errlen)
{
	int seen_line[SG_OPT_MAX + 2] = {}, lineno = 0;
	const char *p = text;
	char msg[768];

	sg_conffile_init(out);
	while (*p) {
		size_t len = strcspn(p, "\n");
		char line[4096];

		lineno++;
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "%s:%d: line longer than %zu bytes", name, lineno,
				 sizeof(line) - 1);
			goto fail;
		}
		memcpy(line, p, len);
		line[len] = 0;
		if (parse_line(out, line, lineno, seen_line, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s:%d: %s", name, lineno, msg);
			goto fail;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
fail:
	sg_conffile_free(out);
	return -1;
}

int sg_conffile_load(const char *path, struct sg_conffile *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;
	int ret;

	sg_conffile_init(out);
	if (!f) {
		snprintf(err, errlen, "cannot open the config file %s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(SG_CONFFILE_MAX_BYTES + 1);
	if (!text) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = fread(text, 1, SG_CONFFILE_MAX_BYTES + 1, f);
	if (ferror(f) || n > SG_CONFFILE_MAX_BYTES) {
		snprintf(err, errlen, ferror(f) ? "cannot read the config file %s: %s"
						: "the config file %s is larger than 1 MiB%s",
			 path, ferror(f) ? strerror(errno) : "");
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	text[n] = 0;
	if (strlen(text) != n) {
		snprintf(err, errlen, "%s: NUL byte in the file: is it a text file?", path);
		free(text);
		return -1;
	}
	ret = sg_conffile_parse(text, path, out, err, errlen);
	free(text);
	return ret;
}
