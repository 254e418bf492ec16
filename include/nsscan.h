/* nsscan.h - provisional: the struct the nsscan branch defines (replaced at merge). */
#ifndef TCPSTATED_NSSCAN_H
#define TCPSTATED_NSSCAN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define NSSCAN_NAME_MAX 256

struct nsscan_ns {
	uint64_t ino;
	char path[PATH_MAX];
	char name[NSSCAN_NAME_MAX];
	bool host;
};

#include <stddef.h>
struct nsscan;
bool nsscan_is_dynamic(const char *spec);
int nsscan_new(struct nsscan **ret, const char *spec, char *err, size_t errlen);
void nsscan_free(struct nsscan *s);
int nsscan_run(struct nsscan *s, const struct nsscan_ns **ret, size_t *ret_n);

#endif
