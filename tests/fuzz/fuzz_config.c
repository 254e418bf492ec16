/*
 * fuzz_config.c - the configuration parser on any bytes.
 *
 * The input is a configuration file. Whatever it holds, config_load_string()
 * must either accept it, or refuse it with a message and leave the
 * configuration as it was; and an accepted configuration, printed with
 * config_print(), must load back to the same settings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

static int config_same(const struct config *a, const struct config *b)
{
	return a->interval_ms == b->interval_ms && strcmp(a->log_path, b->log_path) == 0 &&
	       a->log.format == b->log.format && a->log.max_size == b->log.max_size &&
	       a->log.keep == b->log.keep && a->journal == b->journal;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg, before, again;
	char err[CONFIG_ERR_MAX] = "";
	char *text, *printed = NULL;
	size_t printed_len = 0;
	FILE *f;
	int r;

	text = malloc(size + 1);
	ASSERT(text);
	memcpy(text, data, size);
	text[size] = '\0';

	config_defaults(&cfg);
	before = cfg;
	r = config_load_string(&cfg, "fuzz.conf", text, err, sizeof(err));
	if (r < 0) {
		ASSERT(r == -EINVAL);
		ASSERT(strncmp(err, "fuzz.conf:", 10) == 0);
		ASSERT(config_same(&cfg, &before));
		free(text);
		return 0;
	}

	f = open_memstream(&printed, &printed_len);
	ASSERT(f);
	config_print(&cfg, f);
	ASSERT(fclose(f) == 0);
	config_defaults(&again);
	/* A path that fits PATH_MAX may still be too long for one INI line. */
	if (config_load_string(&again, "printed.conf", printed, err, sizeof(err)) == 0)
		ASSERT(config_same(&cfg, &again));
	else
		ASSERT(strlen(cfg.log_path) > 150);
	free(printed);
	free(text);
	return 0;
}
