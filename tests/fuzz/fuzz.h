/* fuzz.h - the libFuzzer entry point every tests/fuzz/fuzz_*.c defines. */
#ifndef TCPSTATED_FUZZ_H
#define TCPSTATED_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* A failed invariant: abort, so that libFuzzer saves the input. */
#define ASSERT(cond)                                                                               \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* Runs the target on one input. Returns 0; aborts on a failed invariant. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
