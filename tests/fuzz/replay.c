/*
 * replay.c - runs a fuzz target over saved inputs, as an ordinary test.
 *
 * Linked with a fuzz_*.c file instead of libFuzzer's main: each argument is
 * an input file or a directory of them (dot files skipped), and every input
 * is handed to LLVMFuzzerTestOneInput() in a heap buffer of exactly its
 * size, so that a sanitizer build catches any read past its end. Fails when
 * a path cannot be read or no input was found at all: an empty or missing
 * corpus must not pass for a clean run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Runs the target on the file at PATH. Returns 0 or -errno. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	struct stat st;
	int err = 0;

	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) < 0) {
		err = -errno;
		goto out;
	}
	/* malloc(0) may return NULL; the target still gets a valid pointer. */
	data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!data) {
		err = -ENOMEM;
		goto out;
	}
	if (st.st_size > 0 && fread(data, (size_t)st.st_size, 1, f) != 1) {
		err = -EIO;
		goto out;
	}
	LLVMFuzzerTestOneInput(data, (size_t)st.st_size);
out:
	free(data);
	fclose(f);
	return err;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in DIR, in name order. Returns the number run, or -errno. */
static long run_dir(const char *dir)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	long run = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while (run == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*more));

			if (!more) {
				run = -ENOMEM;
				break;
			}
			names = more;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			run = -ENOMEM;
		else
			n++;
	}
	closedir(d);
	if (run == 0)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (run >= 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			int err = run_file(path);

			if (err < 0) {
				fprintf(stderr, "%s: %s\n", path, strerror(-err));
				run = err;
			} else {
				run++;
			}
		}
		free(names[i]);
	}
	free(names);
	return run;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
		if (n == 0 && !S_ISDIR(st.st_mode))
			n = 1;
		if (n < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror((int)-n));
			return 1;
		}
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "no inputs found: an empty corpus tests nothing\n");
		return 1;
	}
	printf("%ld input(s) run\n", total);
	return 0;
}
