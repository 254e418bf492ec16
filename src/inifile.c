/*
 * inifile.c - the strict INI reader: inih, fed through a reader that counts
 * and checks each line before inih sees it, so that a file means one thing to
 * tcpstated and to tcpstatectl, and every refusal names its line.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "inifile.h"

/*
 * inih reads each line into a buffer of INI_MAX_LINE bytes, which must also
 * hold the line's '\r', '\n' and NUL. inih 55 (Debian 12) cuts a longer line in
 * two and parses the second half as a line of its own, so the reader below
 * refuses such a line instead of handing it over.
 */
#define LINE_MAX_CHARS (INI_MAX_LINE - 3)

/*
 * The state of one read. inih hides three things a strict parser needs: the
 * line number (Debian builds it without INI_HANDLER_LINENO), section headers
 * (it never reports them), and continuation lines (it hands them to the
 * handler as the previous key again). So inih reads through read_line(),
 * which counts lines and looks at each one before inih does; the caller's
 * handler then sees only lines the reader has let through.
 */
struct reader {
	const char *name;         /* of the file, for messages */
	FILE *f;                  /* the source: a file, */
	const char *s;            /* or a string */
	inifile_handler *handler; /* the caller's */
	void *user;               /* its argument */
	int lineno;               /* of the line inih is working on */
	bool prev;                /* a key was given since the last header: */
	char prev_section[LINE_MAX_CHARS + 1];
	char prev_key[LINE_MAX_CHARS + 1];
	int error;      /* 0, or the first error as -errno */
	int error_line; /* where it is, 0 for the whole file */
	char *err;
	size_t errlen;
};

/* Records the first error only: later ones are often its consequences. */
static __attribute__((format(printf, 4, 5))) void fail(struct reader *p, int error, int lineno,
                                                       const char *fmt, ...)
{
	va_list ap;

	if (p->error)
		return;
	p->error = error;
	p->error_line = lineno;
	if (!p->err || p->errlen == 0)
		return;
	if (lineno > 0)
		snprintf(p->err, p->errlen, "%s:%d: ", p->name, lineno);
	else
		snprintf(p->err, p->errlen, "%s: ", p->name);
	va_start(ap, fmt);
	vsnprintf(p->err + strlen(p->err), p->errlen - strlen(p->err), fmt, ap);
	va_end(ap);
}

static void syntax_error(struct reader *p)
{
	fail(p, -EINVAL, p->lineno, "expected \"key = value\", \"[section]\" or a comment");
}

/* Hands one header (KEY NULL) or key to the caller. Returns false after recording its error. */
static bool handle(struct reader *p, const char *section, const char *key, const char *value)
{
	char msg[INIFILE_ERR_MAX] = "";
	int r = p->handler(p->user, section, key, value, p->lineno, msg, sizeof(msg));

	if (r < 0)
		fail(p, r, p->lineno, "%s", msg);
	return r >= 0;
}

/* The next byte of the source, or EOF at its end or on a read error. */
static int next_byte(struct reader *p)
{
	int c;

	if (p->s)
		return *p->s ? (unsigned char)*p->s++ : EOF;
	errno = 0;
	c = getc(p->f);
	if (c == EOF && ferror(p->f))
		fail(p, errno ? -errno : -EIO, 0, "%s", strerror(errno ? errno : EIO));
	return c;
}

/*
 * The first of CHARS in S, or an inline comment (a ';' or '#' after a blank),
 * or the end of S.
 */
static const char *scan(const char *s, const char *chars)
{
	bool blank = false;

	for (; *s; s++) {
		if (strchr(chars, *s) || (blank && (*s == ';' || *s == '#')))
			break;
		blank = isspace((unsigned char)*s);
	}
	return s;
}

/*
 * Cuts LINE at its inline comment. inih knows only ';' there (Debian builds
 * it with INI_INLINE_COMMENT_PREFIXES ";"), but a '#' begins the comments of
 * whole lines, and "interval_ms = 100 # poll often" is what people write; so
 * both begin one after a blank, on every kind of line, before inih sees it.
 */
static void cut_comment(char *line)
{
	char *c = (char *)scan(line, "");

	*c = '\0';
}

/*
 * Checks a "[section]" line, T at its '[', the way inih is about to read it,
 * and hands it to the caller. Returns false after recording an error.
 */
static bool check_section(struct reader *p, const char *t)
{
	const char *end = scan(t + 1, "]");
	char section[LINE_MAX_CHARS + 1];

	if (*end != ']') {
		syntax_error(p);
		return false;
	}
	memcpy(section, t + 1, (size_t)(end - t - 1));
	section[end - t - 1] = '\0';
	/* inih ignores what follows the ']'; only a comment may. */
	for (end++; isspace((unsigned char)*end); end++)
		;
	if (*end != '\0' && *end != ';' && *end != '#') {
		syntax_error(p);
		return false;
	}
	if (!handle(p, section, NULL, NULL))
		return false;
	p->prev = false;
	return true;
}

/*
 * Checks one line (without its newline) the way inih is about to read it.
 * Returns false after recording an error.
 */
static bool check_line(struct reader *p, const char *line)
{
	const char *s = line, *t, *end;

	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3; /* a UTF-8 byte order mark, which inih skips */
	for (t = s; isspace((unsigned char)*t); t++)
		;
	if (*t == '\0' || *t == ';' || *t == '#')
		return true;

	/*
	 * An indented line right after a key is, for inih, more of that key's
	 * value; anywhere else it is an ordinary line. A file whose meaning
	 * depends on that difference is too easy to misread, so neither
	 * program has multi-line values, and no line may be indented.
	 */
	if (t > s) {
		if (p->prev)
			fail(p, -EINVAL, p->lineno,
			     "[%s] %s: indented line (values cannot continue onto a second line)",
			     p->prev_section, p->prev_key);
		else
			fail(
			    p, -EINVAL, p->lineno,
			    "indented line (keys and [section] headers start in the first column)");
		return false;
	}
	if (*t == '[')
		return check_section(p, t);

	/*
	 * inih also takes "key: value", which this file does not, and a line
	 * with nothing before the '='.
	 */
	end = scan(t, "=:");
	if (*end != '=' || end == t) {
		syntax_error(p);
		return false;
	}
	return true;
}

/*
 * An fgets() for inih: reads one line of the source into STR, of NUM bytes,
 * after counting and checking it. Returns NULL at the end of the source and
 * after the first error, which stops inih there.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct reader *p = stream;
	size_t len = 0, limit = LINE_MAX_CHARS;
	bool cr = false;
	int c;

	if (p->error)
		return NULL;
	if (num < 2)
		return NULL;
	if (limit > (size_t)num - 2)
		limit = (size_t)num - 2;

	c = next_byte(p);
	if (c == EOF)
		return NULL;
	p->lineno++;
	for (; c != EOF && c != '\n'; c = next_byte(p)) {
		/* "\r\n" counts as the end of the line; a lone '\r' is kept. */
		if (cr) {
			cr = false;
			if (len >= limit)
				goto too_long;
			str[len++] = '\r';
		}
		if (c == '\r') {
			cr = true;
			continue;
		}
		if (c == '\0') {
			fail(p, -EINVAL, p->lineno, "NUL byte in line (not a text file?)");
			return NULL;
		}
		if (len >= limit)
			goto too_long;
		str[len++] = (char)c;
	}
	if (p->error) /* a read error */
		return NULL;
	str[len] = '\0';
	if (!check_line(p, str))
		return NULL;
	cut_comment(str);
	len = strlen(str);
	str[len++] = '\n';
	str[len] = '\0';
	return str;

too_long:
	fail(p, -EINVAL, p->lineno, "line longer than %zu characters", limit);
	return NULL;
}

/* inih's handler: a key of a line the reader let through. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct reader *p = user;

	if (p->error)
		return 1;
	if (section[0] == '\0') {
		fail(p, -EINVAL, p->lineno, "%s: key before the first [section]", name);
		return 1;
	}
	p->prev = true;
	snprintf(p->prev_section, sizeof(p->prev_section), "%s", section);
	snprintf(p->prev_key, sizeof(p->prev_key), "%s", name);
	handle(p, section, name, value);

	/*
	 * Errors are kept in P rather than returned, so that what inih
	 * returns is only ever a line it could not parse itself.
	 */
	return 1;
}

static int run(struct reader *p)
{
	int r = ini_parse_stream(read_line, p, on_key, p);

	/*
	 * The reader stops inih at the first error it or the handler records.
	 * A line inih refused before that is earlier, so it comes first. The
	 * reader checks every line inih could refuse, so this is a safety net.
	 */
	if (r > 0 && (!p->error || r < p->error_line)) {
		p->error = 0;
		fail(p, -EINVAL, r, "expected \"key = value\", \"[section]\" or a comment");
	} else if (r < 0 && !p->error) {
		fail(p, -ENOMEM, 0, "%s", strerror(ENOMEM));
	}
	return p->error;
}

int inifile_parse_string(const char *name, const char *text, inifile_handler *handler, void *user,
                         char *err, size_t errlen)
{
	struct reader p = {.name = name,
	                   .s = text,
	                   .handler = handler,
	                   .user = user,
	                   .err = err,
	                   .errlen = errlen};

	return run(&p);
}

/* Opens PATH for reading, refusing a directory. Returns a stream, or NULL with *RET_ERROR set. */
static FILE *open_file(const char *path, int *ret_error)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*ret_error = -errno;
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		*ret_error = -errno;
	else if (S_ISDIR(st.st_mode))
		*ret_error = -EISDIR;
	else
		*ret_error = 0;
	if (*ret_error < 0) {
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		*ret_error = -errno;
		close(fd);
	}
	return f;
}

int inifile_parse_file(const char *path, inifile_handler *handler, void *user, char *err,
                       size_t errlen)
{
	struct reader p = {
	    .name = path, .handler = handler, .user = user, .err = err, .errlen = errlen};
	int r;

	p.f = open_file(path, &r);
	if (!p.f) {
		fail(&p, r, 0, "%s", r == -EISDIR ? "is a directory" : strerror(-r));
		return r;
	}
	r = run(&p);
	fclose(p.f);
	return r;
}

static bool is_quote(char c)
{
	return c == '"' || c == '\'';
}

/*
 * Quotes are a habit from shells and other INI dialects, and no value of
 * either program starts or ends with one. So a quote left at either end after
 * the pair is taken off is refused rather than kept as part of a file name,
 * and config_print() never has to quote.
 */
const char *inifile_unquote(const char *value, char *buf, size_t size)
{
	size_t n = strlen(value);

	if (n >= 2 && is_quote(value[0]) && value[n - 1] == value[0] && n - 2 < size) {
		memcpy(buf, value + 1, n - 2);
		buf[n - 2] = '\0';
		value = buf;
		n -= 2;
	}
	if (n > 0 && (is_quote(value[0]) || is_quote(value[n - 1])))
		return NULL;
	return value;
}
