/* once.h - --once: the socket table of one dump, like ss -tan(p), as text or JSON. */
#ifndef TCPSTATED_ONCE_H
#define TCPSTATED_ONCE_H

#include <stdio.h>

#include "config.h"
#include "diag.h"

/*
 * Dumps the sockets through DIAG (its filter already set) and writes those
 * in CFG's [filter] states to OUT: a table with a header, or with
 * [log] format = json one JSON object per socket; with the owner's unit,
 * pid and command as [attribution] asks. Returns 0 or -errno.
 */
int once_print(struct diag *diag, const struct config *cfg, FILE *out);

#endif
