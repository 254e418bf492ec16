/* cli.h - the command line, and the configuration it assembles: defaults, file, options. */
#ifndef TCPSTATED_CLI_H
#define TCPSTATED_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* The options that override a configuration key, each [section] key. */
enum cli_override {
	CLI_INTERVAL, /* --interval-ms: [poll] interval_ms */
	CLI_LOG_FILE, /* --log-file: [log] path */
	CLI_FORMAT,   /* --format: [log] format */
	CLI_NETNS,    /* --netns: [poll] netns */
	CLI_OVERRIDE_MAX
};

struct cli_options {
	const char *config_path;                /* --config; NULL: the default path, if it exists */
	bool once;                              /* --once */
	bool check_config;                      /* --check-config */
	const char *override[CLI_OVERRIDE_MAX]; /* the values given; NULL: not given */
};

/*
 * Reads the command line into *RET, and checks each override's value as the
 * configuration key it sets would. --help and --version print to standard
 * output and exit 0. A bad command line exits 64 (EX_USAGE) with a message
 * naming the option as it was written: an unknown or ambiguous option, a
 * missing or unexpected argument (with the usage on standard error), or a
 * value that the option's key refuses.
 */
void cli_parse_args(int argc, char **argv, struct cli_options *ret);

/*
 * Defaults, then the file, then the command line's overrides. Used at start
 * and on every reload, so a reload sees the same file and the same overrides.
 * Returns 0 with *RET_CFG and *RET_SOURCE (the file read, or "built-in
 * defaults"), or -errno with the message ("FILE:LINE: ...", "--option: ...")
 * in ERR.
 */
int cli_build_config(const struct cli_options *opt, struct config *ret_cfg, const char **ret_source,
                     char *err, size_t errlen);

/* cli_build_config(), exiting 78 (EX_CONFIG) with its message on any error:
 * after cli_parse_args(), only the file can have one. Start-up only. */
void cli_load_config(const struct cli_options *opt, struct config *ret_cfg,
                     const char **ret_source);

/* --check-config: "# SOURCE: configuration OK" and CFG, on standard output. */
void cli_print_config(const struct config *cfg, const char *source);

#endif
