/*
 * inifile.h - the strict INI reader that tcpstated and tcpstatectl share: one
 * pass over a file or a string with the configuration's syntax rules, each
 * header and key handed to the caller, errors as "FILE:LINE: ...". It knows no
 * section or key; the caller's handler does. No logging.
 */
#ifndef TCPSTATED_INIFILE_H
#define TCPSTATED_INIFILE_H

#include <limits.h>
#include <stddef.h>

/* Room for one message, "FILE:LINE: [section] key: what is wrong". */
#define INIFILE_ERR_MAX (PATH_MAX + 256)

/*
 * Called once for each "[section]" line, with KEY and VALUE NULL, and once for
 * each "key = value" line, in the file's order; LINENO counts from 1. VALUE is
 * as written, without the blanks around it and its inline comment, its quotes
 * kept (see inifile_unquote()). Returns 0 to read on, or -errno with a message
 * ("[section] key: ...", no file or line) in ERR of ERRLEN, which ends the read.
 */
typedef int inifile_handler(void *user, const char *section, const char *key, const char *value,
                            int lineno, char *err, size_t errlen);

/*
 * Reads the INI file PATH through HANDLER. The rules: lines are "[section]",
 * "key = value" (a key in a section), blank or comments (';' or '#' first, or
 * after a blank anywhere); nothing indented, no "key: value", no line longer
 * than inih's buffer, no NUL byte. Returns 0, or -errno with a message in ERR:
 * "PATH:LINE: ..." (-EINVAL) for a line that breaks them or that the handler
 * refuses (its error), "PATH: ..." for a file that cannot be read (-EISDIR for
 * a directory). Stops at the first error: later ones are often its consequences.
 */
int inifile_parse_file(const char *path, inifile_handler *handler, void *user, char *err,
                       size_t errlen);

/* As inifile_parse_file(), from the NUL-terminated TEXT, named NAME in messages. */
int inifile_parse_string(const char *name, const char *text, inifile_handler *handler, void *user,
                         char *err, size_t errlen);

/*
 * A value in matching quotes, "..." or '...', without them: the quote rule of
 * both programs, applied by the caller so that its message can name the key.
 * Returns VALUE, or its inside copied into BUF of SIZE bytes, or NULL when a
 * quote is left at either end (one that does not match, or a second pair).
 */
const char *inifile_unquote(const char *value, char *buf, size_t size);

#endif
