/* nsscan.c - provisional (replaced by the nsscan branch at merge): /run/netns and our own. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include "nsscan.h"
#include "util.h"

struct nsscan {
	char spec[PATH_MAX];
	struct nsscan_ns *v;
	size_t n, cap;
};

bool nsscan_is_dynamic(const char *spec)
{
	return strcmp(spec, "all") == 0 || strpbrk(spec, " \t*?[") != NULL;
}

int nsscan_new(struct nsscan **ret, const char *spec, char *err, size_t errlen)
{
	struct nsscan *s = calloc(1, sizeof(*s));

	(void)err;
	(void)errlen;
	if (!s)
		return -ENOMEM;
	snprintf(s->spec, sizeof(s->spec), "%s", spec);
	*ret = s;
	return 0;
}

void nsscan_free(struct nsscan *s)
{
	if (s)
		free(s->v);
	free(s);
}

static bool matches(const struct nsscan *s, const char *name)
{
	char buf[PATH_MAX], *save = NULL, *tok;

	if (strcmp(s->spec, "all") == 0)
		return true;
	snprintf(buf, sizeof(buf), "%s", s->spec);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		if (fnmatch(tok, name, 0) == 0)
			return true;
	return false;
}

static void add(struct nsscan *s, const char *path, const char *name)
{
	struct stat st;

	if (stat(path, &st) < 0 || !matches(s, name))
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].ino == st.st_ino)
			return;
	if (util_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v), 16) < 0)
		return;
	s->v[s->n] = (struct nsscan_ns){.ino = st.st_ino};
	snprintf(s->v[s->n].path, sizeof(s->v[s->n].path), "%s", path);
	snprintf(s->v[s->n].name, sizeof(s->v[s->n].name), "%s", name);
	s->n++;
}

int nsscan_run(struct nsscan *s, const struct nsscan_ns **ret, size_t *ret_n)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	char path[PATH_MAX];

	s->n = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		add(s, path, de->d_name);
	}
	if (d)
		closedir(d);
	add(s, "/proc/1/ns/net", "host");
	*ret = s->v;
	*ret_n = s->n;
	return 0;
}
