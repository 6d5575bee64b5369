/* `ckvm ctl`: a small client of ckvm's API (like cloud-hypervisor's ch-remote): one request over
 * the Unix socket, the response read with the same HTTP parser the server uses, the body printed.
 * Runs alone in its own process. */
#include "control/api_cli.h"

#include <errno.h>
#include <http_parser.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_BODY_MAX (1 << 20)
#define CTL_TIMEOUT_S 10

static const struct {
	const char *cmd, *method, *path, *body, *help;
} cmds[] = {
	{ "info", "GET", "/", NULL, "the instance: id, state, version" },
	{ "pause", "PATCH", "/vm", "{\"state\":\"Paused\"}", "pause every vCPU" },
	{ "resume", "PATCH", "/vm", "{\"state\":\"Resumed\"}", "resume a paused VM" },
	{ "shutdown", "PUT", "/actions", "{\"action_type\":\"Shutdown\"}", "stop the VM; ckvm exits 0" },
	{ "config", "GET", "/vm/config", NULL, "the whole configuration" },
	{ "ctrl-alt-del", "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", "the keystrokes" },
	{ "flush-metrics", "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", "one metrics line now" },
	{ "snapshot", "PUT", "/snapshot/create", NULL, "--to DIR [--diff]: the paused VM into DIR/state, DIR/mem" },
	{ "migrate", "PUT", "/migrate", NULL, "--to tcp:HOST:PORT|unix:PATH [--downtime-ms N] [--bandwidth-mbps N] [--migrate-disks]" },
	{ "migrate-status", "GET", "/migrate", NULL, "the live migration's progress" },
};

struct reply {
	char *body;
	size_t len;
	bool done, too_big;
};

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct reply *r = p->data;
	char *nb;

	if (r->len + n > CTL_BODY_MAX) {
		r->too_big = true;
		return 1;
	}
	nb = realloc(r->body, r->len + n + 1);
	if (!nb)
		return 1;
	r->body = nb;
	memcpy(r->body + r->len, at, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

static int on_complete(http_parser *p)
{
	((struct reply *)p->data)->done = true;
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: ckvm ctl --api-sock PATH COMMAND\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-14s %s %s: %s\n", cmds[i].cmd, cmds[i].method, cmds[i].path, cmds[i].help);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Send one request and read its response: the HTTP status, or -1 (errno) without one. */
static int exchange(int fd, const char *method, const char *path, const char *body, struct reply *r)
{
	static const http_parser_settings s = { .on_body = on_body, .on_message_complete = on_complete };
	char req[512], buf[4096];
	http_parser p;
	ssize_t n;
	int len;

	len = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
		       "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		       method, path, body ? strlen(body) : 0);
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len)
		return -1;
	/* the body apart: a snapshot's paths may be long */
	if (body && *body && send(fd, body, strlen(body), MSG_NOSIGNAL) != (ssize_t)strlen(body))
		return -1;
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = r;
	while (!r->done) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (http_parser_execute(&p, &s, buf, (size_t)n) != (size_t)n && !r->done) {
			errno = EPROTO;
			return -1;
		}
		if (n == 0)
			break;
	}
	if (!r->done) {
		errno = ECONNRESET;
		return -1;
	}
	return p.status_code;
}

/* snapshot --to DIR [--diff]: DIR made if missing, and absolute (the server resolves paths in its own
 * working directory). The JSON body, malloc'd, or NULL after one line. */
static char *snapshot_body(const char *dir, bool diff)
{
	char abs[PATH_MAX], state[PATH_MAX + 8], mem[PATH_MAX + 8];
	struct json_object *o;
	char *out;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "ckvm ctl: snapshot: %s: %s\n", dir, strerror(errno));
		return NULL;
	}
	if (!realpath(dir, abs)) {
		fprintf(stderr, "ckvm ctl: snapshot: %s: %s\n", dir, strerror(errno));
		return NULL;
	}
	snprintf(state, sizeof(state), "%s/state", abs);
	snprintf(mem, sizeof(mem), "%s/mem", abs);
	o = json_object_new_object();
	json_object_object_add(o, "snapshot_path", json_object_new_string(state));
	json_object_object_add(o, "mem_file_path", json_object_new_string(mem));
	json_object_object_add(o, "snapshot_type", json_object_new_string(diff ? "Diff" : "Full"));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

/* migrate --to URL [--downtime-ms N] [--bandwidth-mbps N]: PUT /migrate's body. */
struct migrate_args {
	const char *to;
	unsigned long downtime_ms, bandwidth_mbps;
	bool disks;	/* --migrate-disks */
};

static int migrate_arg(const char *opt, const char *val, struct migrate_args *m)
{
	char *end;
	unsigned long v;

	if (!strcmp(opt, "--to")) {
		m->to = val;
		return 0;
	}
	errno = 0;
	v = strtoul(val, &end, 10);
	if (!*val || *end || errno || v > 1000000 || (v == 0 && !strcmp(opt, "--downtime-ms"))) {
		fprintf(stderr, "ckvm ctl: migrate: %s %s: expected a number (1-1000000)\n", opt, val);
		return -1;
	}
	if (!strcmp(opt, "--downtime-ms"))
		m->downtime_ms = v;
	else
		m->bandwidth_mbps = v;
	return 0;
}

static char *migrate_body(const struct migrate_args *m)
{
	struct json_object *o;
	char *out;

	if (!m->to) {
		fprintf(stderr, "ckvm ctl: migrate: --to tcp:HOST:PORT|unix:PATH is needed\n");
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "destination_url", json_object_new_string(m->to));
	json_object_object_add(o, "downtime_ms", json_object_new_int64((int64_t)m->downtime_ms));
	json_object_object_add(o, "bandwidth_mbps", json_object_new_int64((int64_t)m->bandwidth_mbps));
	if (m->disks)
		json_object_object_add(o, "migrate_disks", json_object_new_boolean(1));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

int ctl_main(int argc, char **argv)
{
	const char *sock = NULL, *cmd = NULL, *to = NULL, *body;
	char *snap_body = NULL;
	bool diff = false;
	struct migrate_args mig = { NULL, 300, 0, false };
	struct reply r = { 0 };
	struct json_object *o;
	size_t i;
	int fd, status, a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--api-sock") && a + 1 < argc)
			sock = argv[++a];
		else if (!strncmp(argv[a], "--api-sock=", 11))
			sock = argv[a] + 11;
		else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			usage(stdout);
			return 0;
		} else if (cmd && !strcmp(cmd, "snapshot") && !strcmp(argv[a], "--to") && a + 1 < argc) {
			to = argv[++a];
		} else if (cmd && !strcmp(cmd, "snapshot") && !strcmp(argv[a], "--diff")) {
			diff = true;
		} else if (cmd && !strcmp(cmd, "migrate") && !strcmp(argv[a], "--migrate-disks")) {
			mig.disks = true;
		} else if (cmd && !strcmp(cmd, "migrate") && a + 1 < argc &&
			   (!strcmp(argv[a], "--to") || !strcmp(argv[a], "--downtime-ms") ||
			    !strcmp(argv[a], "--bandwidth-mbps"))) {
			if (migrate_arg(argv[a], argv[a + 1], &mig))
				return 1;
			a++;
		} else if (!cmd && argv[a][0] != '-')
			cmd = argv[a];
		else {
			fprintf(stderr, "ckvm ctl: unexpected argument '%s'\n", argv[a]);
			usage(stderr);
			return 1;
		}
	}
	for (i = 0; cmd && i < sizeof(cmds) / sizeof(cmds[0]) && strcmp(cmds[i].cmd, cmd); i++)
		;
	if (!sock || !cmd || i == sizeof(cmds) / sizeof(cmds[0])) {
		fprintf(stderr, "ckvm ctl: %s\n", !sock ? "--api-sock PATH is needed" :
			!cmd ? "a command is needed" : "unknown command");
		usage(stderr);
		return 1;
	}
	body = cmds[i].body;
	if (!strcmp(cmd, "snapshot")) {
		if (!to) {
			fprintf(stderr, "ckvm ctl: snapshot: --to DIR is needed\n");
			return 1;
		}
		if (!(snap_body = snapshot_body(to, diff)))
			return 1;
		body = snap_body;
	}
	if (!strcmp(cmd, "migrate")) {
		if (!(snap_body = migrate_body(&mig)))
			return 1;
		body = snap_body;
	}
	if ((fd = ctl_connect(sock)) < 0) {
		fprintf(stderr, "ckvm ctl: %s: %s\n", sock, strerror(errno));
		return 2;
	}
	status = exchange(fd, cmds[i].method, cmds[i].path, body, &r);
	close(fd);
	free(snap_body);
	if (status < 0) {
		fprintf(stderr, "ckvm ctl: %s: no answer: %s\n", sock, strerror(errno));
		free(r.body);
		return 2;
	}
	if (status >= 200 && status < 300) {
		if (r.len)
			printf("%s\n", r.body);
		free(r.body);
		return 0;
	}
	o = r.body ? json_tokener_parse(r.body) : NULL;
	if (o && json_object_object_get_ex(o, "fault_message", NULL))
		fprintf(stderr, "ckvm ctl: %s: %d: %s\n", cmd, status,
			json_object_get_string(json_object_object_get(o, "fault_message")));
	else
		fprintf(stderr, "ckvm ctl: %s: HTTP %d\n", cmd, status);
	json_object_put(o);
	free(r.body);
	return 1;
}
