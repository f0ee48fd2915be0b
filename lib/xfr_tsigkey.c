/*
 * TSIG keys. libknot builds the key from (algorithm, name, base64 secret);
 * what it does not read is BIND's key-file syntax, so a small tokenizer for
 * that syntax lives here.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>
#include <soasync/xfr.h>

int ss_tsig_from_string(const char *spec, knot_tsig_key_t *key)
{
	/* "NAME:SECRET" gets the default algorithm, as with dig -y. */
	size_t colons = 0;
	for (const char *p = spec; *p; p++) {
		colons += *p == ':';
	}
	char *full = NULL;
	if (colons == 1 && asprintf(&full, "hmac-sha256:%s", spec) < 0) {
		return SS_ENOMEM;
	}
	int ret = knot_tsig_key_init_str(key, full ? full : spec);
	free(full);
	return ret == KNOT_EOK ? 0 : SS_EINVAL;
}

typedef struct {
	const char *p, *end;
	unsigned line;
	char tok[512];
} lexer_t;

static void skip_space(lexer_t *lx)
{
	while (lx->p < lx->end) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->p++;
		} else if (isspace((unsigned char)*lx->p)) {
			lx->p++;
		} else if (*lx->p == '#' ||
		           (*lx->p == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
			while (lx->p < lx->end && *lx->p != '\n') {
				lx->p++;
			}
		} else {
			break;
		}
	}
}

/* Next token: a quoted string (unquoted into tok), a word, or one of {};
 * Returns false at the end of input or for a token too long. */
static bool next_token(lexer_t *lx)
{
	skip_space(lx);
	if (lx->p >= lx->end) {
		return false;
	}
	size_t n = 0;
	if (strchr("{};", *lx->p)) {
		lx->tok[n++] = *lx->p++;
	} else if (*lx->p == '"') {
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"' && n + 1 < sizeof(lx->tok)) {
			lx->tok[n++] = *lx->p++;
		}
		if (lx->p >= lx->end || *lx->p != '"') {
			return false;
		}
		lx->p++;
	} else {
		while (lx->p < lx->end && !isspace((unsigned char)*lx->p) &&
		       !strchr("{};\"", *lx->p) && n + 1 < sizeof(lx->tok)) {
			lx->tok[n++] = *lx->p++;
		}
	}
	lx->tok[n] = '\0';
	return true;
}

static bool expect(lexer_t *lx, const char *what)
{
	return next_token(lx) && strcmp(lx->tok, what) == 0;
}

/* key "NAME" { algorithm ALG; secret "B64"; }; */
static int parse_key(lexer_t *lx, char *name, char *alg, char *secret, char *err, size_t errlen)
{
	while (next_token(lx)) {
		if (strcmp(lx->tok, "key") != 0) {
			continue; /* other statements (e.g. rndc.conf options) */
		}
		if (!next_token(lx) || strlen(lx->tok) >= 256) {
			break;
		}
		snprintf(name, 256, "%s", lx->tok);
		if (!expect(lx, "{")) {
			break;
		}
		while (next_token(lx) && strcmp(lx->tok, "}") != 0) {
			char *dst = strcmp(lx->tok, "algorithm") == 0 ? alg
			            : strcmp(lx->tok, "secret") == 0  ? secret
			                                              : NULL;
			if (!next_token(lx)) {
				break;
			}
			if (dst != NULL) {
				snprintf(dst, 512, "%s", lx->tok);
			}
			if (!expect(lx, ";")) {
				snprintf(err, errlen, "line %u: expected ';'", lx->line);
				return SS_EPARSE;
			}
		}
		if (*alg && *secret) {
			return 0;
		}
		snprintf(err, errlen, "line %u: key \"%s\" lacks its algorithm or secret", lx->line,
		         name);
		return SS_EPARSE;
	}
	snprintf(err, errlen,
	         "line %u: no complete key statement (key \"NAME\" { algorithm ALG; "
	         "secret \"BASE64\"; };)",
	         lx->line);
	return SS_EPARSE;
}

int ss_tsig_from_bind_file(const char *path, knot_tsig_key_t *key, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open");
		return SS_EIO;
	}
	char buf[65536];
	size_t len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	lexer_t lx = {buf, buf + len, 1, {0}};
	char name[256] = "", alg[512] = "", secret[512] = "";
	int ret = parse_key(&lx, name, alg, secret, err, errlen);
	if (ret != 0) {
		return ret;
	}
	if (knot_tsig_key_init(key, alg, name, secret) != KNOT_EOK) {
		snprintf(err, errlen, "key \"%s\": unknown algorithm '%s' or bad secret", name,
		         alg);
		return SS_EPARSE;
	}
	return 0;
}
