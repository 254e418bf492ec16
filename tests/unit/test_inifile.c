/* test_inifile.c - the strict INI reader: what the handler sees, every rule, every error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "inifile.h"

static char err[INIFILE_ERR_MAX];
static char tmpdir[] = "/tmp/test_inifile.XXXXXX";

/* What the handler saw, one "LINE [section]" or "LINE section.key=<value>" a line. */
struct seen {
	char log[4096];
	const char *refuse; /* a key to refuse, with -EPERM */
};

static int record(void *user, const char *section, const char *key, const char *value, int lineno,
                  char *msg, size_t msglen)
{
	struct seen *s = user;
	size_t used = strlen(s->log);

	if (key)
		snprintf(s->log + used, sizeof(s->log) - used, "%d %s.%s=<%s>\n", lineno, section,
		         key, value);
	else
		snprintf(s->log + used, sizeof(s->log) - used, "%d [%s]\n", lineno, section);
	if (key && s->refuse && strcmp(key, s->refuse) == 0) {
		snprintf(msg, msglen, "[%s] %s: refused", section, key);
		return -EPERM;
	}
	return 0;
}

/* Reads TEXT, named "t.ini", into S. */
static int parse(struct seen *s, const char *text)
{
	err[0] = '\0';
	s->log[0] = '\0';
	return inifile_parse_string("t.ini", text, record, s, err, sizeof(err));
}

/* Reads TEXT and expects -EINVAL with exactly the message MSG. */
#define CHECK_PARSE_ERROR(text, msg)                                                               \
	do {                                                                                       \
		struct seen s_ = {.refuse = NULL};                                                 \
		CHECK_INT(parse(&s_, text), -EINVAL);                                              \
		CHECK_STR(err, msg);                                                               \
	} while (0)

static void test_handler_sees(void)
{
	struct seen s = {.refuse = NULL};

	CHECK_INT(parse(&s, "; top\n[a]\nx = 1\n\n# c\ny=two words  \n[b] ; c\nz =\n"), 0);
	CHECK_STR(err, "");
	CHECK_STR(s.log, "2 [a]\n3 a.x=<1>\n6 a.y=<two words>\n7 [b]\n8 b.z=<>\n");

	/* Inline comments: ';' or '#' after a blank, on every kind of line. */
	CHECK_INT(parse(&s, "[a] # c\nx = 1 # c\ny = 2 ; c\nz = a#b;c\n"), 0);
	CHECK_STR(s.log, "1 [a]\n2 a.x=<1>\n3 a.y=<2>\n4 a.z=<a#b;c>\n");

	/* Quotes are the caller's, through inifile_unquote(). */
	CHECK_INT(parse(&s, "[log]\npath = \"/some/x.log\"  # comment\n"), 0);
	CHECK_STR(s.log, "1 [log]\n2 log.path=<\"/some/x.log\">\n");

	/* CRLF ends a line; a byte order mark before the first is skipped. */
	CHECK_INT(parse(&s, "\xEF\xBB\xBF[a]\r\nx = 1\r\n"), 0);
	CHECK_STR(s.log, "1 [a]\n2 a.x=<1>\n");

	/* Nothing at all, and comments only, call nothing. */
	CHECK_INT(parse(&s, ""), 0);
	CHECK_INT(parse(&s, "; a\n# b\n\n"), 0);
	CHECK_STR(s.log, "");
}

static void test_syntax_errors(void)
{
	const char *syntax = "expected \"key = value\", \"[section]\" or a comment";
	char line[300], msg[128];

	CHECK_PARSE_ERROR("x = 1\n", "t.ini:1: x: key before the first [section]");
	CHECK_PARSE_ERROR(
	    "[a]\nx = 1\n  y = 2\n",
	    "t.ini:3: [a] x: indented line (values cannot continue onto a second line)");
	CHECK_PARSE_ERROR("[a]\n\tx = 1\n", "t.ini:2: indented line (keys and [section] headers "
	                                    "start in the first column)");
	/* A header ends what an indented line could continue. */
	CHECK_PARSE_ERROR("[a]\nx = 1\n[b]\n y = 2\n",
	                  "t.ini:4: indented line (keys and "
	                  "[section] headers start in the first column)");
	snprintf(msg, sizeof(msg), "t.ini:2: %s", syntax);
	CHECK_PARSE_ERROR("[a]\nx: 1\n", msg);
	CHECK_PARSE_ERROR("[a]\n= 1\n", msg);
	CHECK_PARSE_ERROR("[a]\nx\n", msg);
	CHECK_PARSE_ERROR("[a]\n[b\n", msg);
	CHECK_PARSE_ERROR("[a]\n[b] x\n", msg);
	memset(line, 'k', sizeof(line));
	memcpy(line, "[a]\n", 4);
	line[sizeof(line) - 1] = '\0';
	CHECK_INT(parse(&(struct seen){.refuse = NULL}, line), -EINVAL);
	CHECK_CONTAINS(err, "t.ini:2: line longer than ");
}

/* A NUL byte can come only from a file (a string ends at the first). */
static void test_file_errors(void)
{
	struct seen s = {.refuse = NULL};
	char path[64], msg[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/nul.ini", tmpdir);
	f = fopen(path, "w");
	CHECK(f && fwrite("[a]\nx = 1\0\n", 1, 11, f) == 11 && fclose(f) == 0);
	CHECK_INT(inifile_parse_file(path, record, &s, err, sizeof(err)), -EINVAL);
	snprintf(msg, sizeof(msg), "%s:2: NUL byte in line (not a text file?)", path);
	CHECK_STR(err, msg);

	CHECK_INT(inifile_parse_file(tmpdir, record, &s, err, sizeof(err)), -EISDIR);
	snprintf(msg, sizeof(msg), "%s: is a directory", tmpdir);
	CHECK_STR(err, msg);

	snprintf(path, sizeof(path), "%s/none.ini", tmpdir);
	CHECK_INT(inifile_parse_file(path, record, &s, err, sizeof(err)), -ENOENT);
	snprintf(msg, sizeof(msg), "%s: No such file or directory", path);
	CHECK_STR(err, msg);

	/* A file reads as the same text does. */
	snprintf(path, sizeof(path), "%s/ok.ini", tmpdir);
	f = fopen(path, "w");
	CHECK(f && fputs("[a]\nx = 1 ; c\n", f) >= 0 && fclose(f) == 0);
	s.log[0] = '\0';
	CHECK_INT(inifile_parse_file(path, record, &s, err, sizeof(err)), 0);
	CHECK_STR(s.log, "1 [a]\n2 a.x=<1>\n");
	unlink(path);
	snprintf(path, sizeof(path), "%s/nul.ini", tmpdir);
	unlink(path);
}

static void test_handler_errors(void)
{
	struct seen s = {.refuse = "y"};
	char tiny[12];

	/* The handler's errno and message, with FILE:LINE; nothing after it is read. */
	CHECK_INT(parse(&s, "[a]\nx = 1\ny = 2\nz = 3\n"), -EPERM);
	CHECK_STR(err, "t.ini:3: [a] y: refused");
	CHECK_STR(s.log, "1 [a]\n2 a.x=<1>\n3 a.y=<2>\n");

	/* The first error is the one reported. */
	CHECK_INT(parse(&s, "[a]\ny = 1\n z\n"), -EPERM);
	CHECK_STR(err, "t.ini:2: [a] y: refused");

	/* A message is cut to the caller's buffer, or not written at all. */
	CHECK_INT(inifile_parse_string("t.ini", "[a]\ny = 1\n", record, &s, tiny, sizeof(tiny)),
	          -EPERM);
	CHECK_STR(tiny, "t.ini:2: [a");
	CHECK_INT(inifile_parse_string("t.ini", "[a]\ny = 1\n", record, &s, NULL, 0), -EPERM);
}

static void test_unquote(void)
{
	char buf[16];

	CHECK_STR(inifile_unquote("plain", buf, sizeof(buf)), "plain");
	CHECK_STR(inifile_unquote("\"/x.log\"", buf, sizeof(buf)), "/x.log");
	CHECK_STR(inifile_unquote("'/x.log'", buf, sizeof(buf)), "/x.log");
	CHECK_STR(inifile_unquote("\"\"", buf, sizeof(buf)), "");
	CHECK_STR(inifile_unquote("a\"b", buf, sizeof(buf)), "a\"b");
	CHECK(!inifile_unquote("\"/x.log", buf, sizeof(buf)));
	CHECK(!inifile_unquote("\"/x.log'", buf, sizeof(buf)));
	CHECK(!inifile_unquote("\"'x'\"", buf, sizeof(buf)));
	CHECK(!inifile_unquote("\"", buf, sizeof(buf)));
	/* An inside too long for BUF is not cut: the quotes stay, and refuse it. */
	CHECK(!inifile_unquote("\"0123456789abcdefghij\"", buf, sizeof(buf)));
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_handler_sees();
	test_syntax_errors();
	test_file_errors();
	test_handler_errors();
	test_unquote();
	rmdir(tmpdir);
	return CHECK_DONE();
}
