/* The GDB stub's thread (GDB manual, "Remote Protocol": "Overview", "Interrupts", "Stop Reply
 * Packets"): one listening socket, one client at a time, the packet layer in gdb_proto.c, the
 * commands in gdb_stub_cmd.c. It sleeps in poll() on the listener, the client, the vCPUs' event
 * eventfd and its own stop eventfd; the main thread starts and stops it. Role: SANDBOX_GDB. */
#include "osdev/gdb_stub.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "core/vm.h"
#include "log.h"
#include "osdev/gdb_stub_int.h"

#define HALT_TIMEOUT_NS	(10 * 1000000000LL)	/* a vCPU stuck in a device for this long: give up */
#define SEND_TIMEOUT_MS	5000	/* a client that reads nothing for this long is dropped */

/* ---- output ---- */

/* Write all of buf; a client that stops reading is cut off after SEND_TIMEOUT_MS. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			if (poll(&p, 1, SEND_TIMEOUT_MS) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}

int gdb_stub_send(struct gdb_stub *s, size_t len)
{
	int ret = gdb_encode(s->reply, len, true, s->out, sizeof(s->out), &s->out_len);

	if (ret)
		return ret;	/* cannot happen: out holds the worst case of a full reply */
	return write_all(s->client_fd, s->out, s->out_len);
}

int gdb_stub_send_str(struct gdb_stub *s, const char *str)
{
	size_t n = strlen(str);

	if (n > GDB_PACKET_MAX)
		n = GDB_PACKET_MAX;
	memmove(s->reply, str, n);
	return gdb_stub_send(s, n);
}

/* ---- the client ---- */

static void client_close(struct gdb_stub *s, const char *why)
{
	if (s->client_fd < 0)
		return;
	if (vm_stop_reason(s->vm) == VM_STOP_NONE)
		gdb_stub_release(s);	/* a client that vanished must not leave the guest stopped */
	close(s->client_fd);
	s->client_fd = -1;
	s->running = false;
	log_info("gdb", "client %s", why);
}

static void client_accept(struct gdb_stub *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), one = 1;

	if (fd < 0)
		return;
	if (s->client_fd >= 0) {
		close(fd);	/* one client at a time */
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));	/* fails harmlessly on AF_UNIX */
	s->client_fd = fd;
	gdb_parser_init(&s->parser);
	s->noack = false;
	s->features = 0;
	s->out_len = 0;
	/* GDB expects a stopped target when it attaches. */
	if (vm_debug_halt(s->vm, HALT_TIMEOUT_NS)) {
		client_close(s, "dropped: the vCPUs would not stop");
		return;
	}
	s->running = false;
	s->g_cpu = s->c_cpu = 0;
	log_info("gdb", "client connected; the VM is stopped");
}

/* A vCPU reported a breakpoint or the end of a step: halt the others, tell the client. */
static void on_vcpu_event(struct gdb_stub *s)
{
	uint64_t v;

	(void)!read(s->vm->dbg->notify_fd, &v, sizeof(v));
	if (s->client_fd < 0) {
		/* A breakpoint hit as its client vanished: nobody to stop for. */
		vm_debug_resume(s->vm, -1, UINT64_MAX);
		return;
	}
	if (!s->running)
		return;
	if (vm_debug_halt(s->vm, HALT_TIMEOUT_NS)) {
		client_close(s, "dropped: the vCPUs would not stop");
		return;
	}
	s->running = false;
	if (gdb_stub_send(s, gdb_stub_stop_reply(s, 5)))
		client_close(s, "gone");
}

static void on_interrupt(struct gdb_stub *s)
{
	if (!s->running)
		return;	/* GDB sends it only while the target runs */
	if (vm_debug_halt(s->vm, HALT_TIMEOUT_NS)) {
		client_close(s, "dropped: the vCPUs would not stop");
		return;
	}
	s->running = false;
	if (gdb_stub_send(s, gdb_stub_stop_reply(s, 2)))
		client_close(s, "gone");
}

static void on_client(struct gdb_stub *s)
{
	char buf[4096];
	ssize_t n = recv(s->client_fd, buf, sizeof(buf), MSG_DONTWAIT);
	size_t at = 0, used;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(s, "disconnected; the VM runs on");
		return;
	}
	while (n > 0 && at < (size_t)n && s->client_fd >= 0) {
		enum gdb_event ev = gdb_parser_feed(&s->parser, buf + at, (size_t)n - at, &used);
		int ret = 0;

		at += used;
		switch (ev) {
		case GDB_EV_NAK:
			if (s->out_len && !s->noack)
				ret = write_all(s->client_fd, s->out, s->out_len);
			break;
		case GDB_EV_INTERRUPT:
			on_interrupt(s);
			break;
		case GDB_EV_BAD_CHECKSUM:
			if (!s->noack)
				ret = write_all(s->client_fd, "-", 1);
			break;
		case GDB_EV_BAD_PACKET:
			if (!s->noack)
				ret = write_all(s->client_fd, "+", 1);
			if (!ret)
				ret = gdb_stub_send_str(s, "E01");
			break;
		case GDB_EV_PACKET:
			if (!s->noack)
				ret = write_all(s->client_fd, "+", 1);
			if (ret)
				break;
			if (s->running) {
				/* all-stop: nothing but Ctrl-C while the VM runs; answering would
				 * be taken for the stop reply */
				break;
			}
			gdb_cmd_decode(s->parser.pkt, s->parser.pkt_len, &s->cmd);
			gdb_stub_command(s);
			break;
		case GDB_EV_ACK:
		case GDB_EV_NONE:
			break;
		}
		if (ret)
			client_close(s, "gone");
	}
}

static void *stub_thread(void *arg)
{
	struct gdb_stub *s = arg;

	pthread_setname_np(pthread_self(), "gdb");
	sandbox_enter(SANDBOX_GDB);
	for (;;) {
		/* The listener stays watched with a client attached: a second one is turned away at
		 * once rather than left waiting in the backlog. */
		struct pollfd p[4] = {
			{ .fd = s->stop_fd, .events = POLLIN },
			{ .fd = s->listen_fd, .events = POLLIN },
			{ .fd = s->client_fd, .events = POLLIN },	/* -1: ignored by poll */
			{ .fd = s->vm->dbg->notify_fd, .events = POLLIN },
		};

		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_errno(LOG_ERR, "gdb", -errno, "poll");
			break;
		}
		if (p[0].revents)
			break;
		if (p[2].revents)
			on_client(s);
		if (p[1].revents)
			client_accept(s);
		if (p[3].revents)
			on_vcpu_event(s);
	}
	return NULL;
}

/* ---- start and stop (main thread) ---- */

static int listen_on(struct gdb_stub *s, const struct gdb_spec *sp)
{
	int one = 1, fd, ret;

	fd = socket(sp->is_unix ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (sp->is_unix) {
		ret = bind(fd, (const struct sockaddr *)&sp->un, sizeof(sp->un));
		if (!ret)
			snprintf(s->unix_path, sizeof(s->unix_path), "%s", sp->un.sun_path);
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ret = bind(fd, (const struct sockaddr *)&sp->in, sizeof(sp->in));
	}
	if (ret || listen(fd, 1)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	s->listen_fd = fd;
	return 0;
}

int gdb_stub_start(struct gdb_stub **out, struct vm *vm, const char *spec, bool wait)
{
	struct gdb_stub *s = calloc(1, sizeof(*s));
	struct gdb_spec sp;
	char err[160];
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->listen_fd = s->client_fd = s->stop_fd = -1;
	if ((ret = gdb_spec_parse(spec, &sp, err, sizeof(err)))) {
		log_err("gdb", "%s", err);
		goto fail;
	}
	if ((ret = listen_on(s, &sp))) {
		log_errno(LOG_ERR, "gdb", ret, "cannot listen on %s", spec);
		goto fail;
	}
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0 || (ret = vm_debug_init(vm, wait))) {
		ret = s->stop_fd < 0 ? -errno : ret;
		log_errno(LOG_ERR, "gdb", ret, "debug state");
		goto fail;
	}
	if ((ret = -pthread_create(&s->thread, NULL, stub_thread, s))) {
		log_errno(LOG_ERR, "gdb", ret, "cannot start the GDB stub thread");
		vm_debug_destroy(vm);
		goto fail;
	}
	s->started = true;
	log_info("gdb", "waiting for a GDB client on %s%s", spec,
		 wait ? "; the vCPUs start when it continues" : "");
	*out = s;
	return 0;
fail:
	gdb_stub_stop(s);
	return ret;
}

void gdb_stub_stop(struct gdb_stub *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (s->started) {
		(void)!write(s->stop_fd, &one, sizeof(one));
		pthread_join(s->thread, NULL);
	}
	if (s->client_fd >= 0) {
		/* The VM is gone: a waiting GDB hears that it exited (W00) rather than nothing. */
		if (s->running) {
			(void)gdb_stub_send_str(s, "W00");
		}
		close(s->client_fd);
	}
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->unix_path[0])
		unlink(s->unix_path);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	vm_debug_destroy(s->vm);
	free(s);
}
