/*
 * Fuzz target: the monitor's config parser (libyaml and the strict walk over
 * it) on untrusted text, without reading the files it names. A config that
 * parses must be usable: a database, intervals that make sense.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/mon_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20) {
		return 0;
	}
	ss_mon_config_t *cfg = NULL;
	ss_mon_error_t err;
	memset(&err, 0, sizeof(err));
	if (mon_config_parse_nofiles((const char *)data, size, &cfg, &err) == 0) {
		if (cfg->database == NULL || cfg->fast_interval_ms > cfg->interval_ms ||
		    cfg->lag_warning_ms > cfg->lag_critical_ms) {
			abort();
		}
		for (size_t i = 0; i < cfg->nzones; i++) {
			if (cfg->zones[i].name == NULL) {
				abort();
			}
		}
	} else if (cfg != NULL || err.message[0] == '\0') {
		abort(); /* a failure always says why, and leaves nothing */
	}
	ss_mon_config_free(cfg);
	return 0;
}
