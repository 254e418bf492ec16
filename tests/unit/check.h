/* check.h - the unit tests' assertions: print file, line and both values, then fail. */
#ifndef TCPSTATED_CHECK_H
#define TCPSTATED_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		if (check_a_ != check_b_) {                                                        \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,        \
			        __LINE__, #a, #b, check_a_, check_b_);                             \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                   \
			fprintf(stderr, "%s:%d: %s == %s failed:\n  \"%s\"\n  \"%s\"\n", __FILE__, \
			        __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",                  \
			        check_b_ ? check_b_ : "(null)");                                   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

/* Substring match, for error messages. */
#define CHECK_CONTAINS(hay, needle)                                                                \
	do {                                                                                       \
		const char *check_h_ = (hay), *check_n_ = (needle);                                \
		if (!check_h_ || !strstr(check_h_, check_n_)) {                                    \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,       \
			        __LINE__, check_h_ ? check_h_ : "(null)", check_n_);               \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

/* Ends main(): prints a summary and returns the exit status. */
#define CHECK_DONE()                                                                               \
	(check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1) : 0)

#endif
