/* config.h - the configuration: its keys, built-in defaults, the INI file (read by inifile.h). */
#ifndef TCPSTATED_CONFIG_H
#define TCPSTATED_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "logfile.h"
#include "filter.h"
#include "record.h"

#define CONFIG_DEFAULT_PATH "/etc/tcpstated/tcpstated.conf"

/* [log] path when the configuration names none; tcpstatectl reads it there too. */
#define CONFIG_DEFAULT_LOG "/var/log/tcpstated/transitions.log"

/* Exit status for a configuration error (sysexits.h EX_CONFIG). */
#define CONFIG_EXIT 78

/* Room for one error message, "FILE:LINE: [section] key: what is wrong". */
#define CONFIG_ERR_MAX (PATH_MAX + 256)

struct config {
	uint32_t interval_ms;     /* [poll] interval_ms */
	char netns[PATH_MAX];     /* [poll] netns; "" = the namespace we run in */
	uint32_t netns_rescan_ms; /* [poll] netns_rescan_ms: between two searches for namespaces */
	uint32_t netns_budget; /* [poll] netns_budget: % of a CPU the polls may take; 0 = no cap */
	bool destroy_events;   /* [poll] destroy_events */
	uint64_t event_buffer; /* [poll] event_buffer, bytes; 0 = what the system allows */
	uint32_t event_batch_ms;    /* [poll] event_batch_ms; 0 = read each notification at once */
	char log_path[PATH_MAX];    /* [log] path; "-" = standard output */
	struct logfile_options log; /* [log] format, max_size, keep, compress, fsync,
	                               fsync_interval_ms, mode */
	bool journal;               /* [journal] enabled */
	uint32_t journal_rate;      /* [journal] rate: entries a second */
	uint32_t journal_burst;     /* [journal] burst: entries at once */
	bool attrib_cgroups;        /* [attribution] cgroups */
	bool attrib_processes;      /* [attribution] processes */
	struct filter filter; /* [filter] ports, local_ports, remote_ports, addresses, states */
	bool metrics;         /* [metrics] enabled */
	char metrics_path[PATH_MAX]; /* [metrics] path: the node_exporter textfile */
	uint32_t metrics_interval_s; /* [metrics] interval, seconds between two writes */
	uint32_t metrics_units;      /* [metrics] units: units with their own label; 0 = none */
};

/* Fills CFG with the built-in defaults. */
void config_defaults(struct config *cfg);

/*
 * Sets SECTION's KEY to VALUE (as text, the way the file spells it), checking
 * type and bounds. Returns 0, or -EINVAL with a message in ERR ("[poll]
 * interval_ms: ..."; no file or line), -ENOENT for an unknown section or key.
 */
int config_set(struct config *cfg, const char *section, const char *key, const char *value,
               char *err, size_t errlen);

/*
 * Reads the INI file PATH over CFG (which holds the defaults). Strict: an
 * unknown section or key, a value out of range or with trailing junk, a key
 * given twice, a line that is not "[section]", "key = value" or a comment, are
 * errors. Returns 0, or -errno with "PATH:LINE: ..." (or "PATH: ..." for an
 * unreadable file or a directory) in ERR. CFG is changed only on success.
 */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* As config_load_file(), from the NUL-terminated TEXT, named NAME in messages. */
int config_load_string(struct config *cfg, const char *name, const char *text, char *err,
                       size_t errlen);

/* Writes the effective configuration as an INI file to F (for --check-config). */
void config_print(const struct config *cfg, FILE *f);

#endif
