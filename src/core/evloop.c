/* epoll event loop for the I/O thread. Handlers run on that thread only; a stop eventfd ends it. */
#include "core/evloop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EV_MAX 64

struct ev_entry {
	int fd;
	ev_fn fn;
	void *arg;
};

struct evloop {
	int epfd;
	int stopfd;
	bool stop;		/* set by evloop_stop() on another thread: atomic accesses only */
	struct ev_entry e[EV_MAX];
};

int evloop_create(struct evloop **out)
{
	struct evloop *ev = calloc(1, sizeof(*ev));
	struct epoll_event ee = { .events = EPOLLIN };

	if (!ev)
		return -ENOMEM;
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ee.data.ptr = NULL;
	if (ev->epfd < 0 || ev->stopfd < 0 ||
	    epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->stopfd, &ee) < 0) {
		int err = -errno;

		evloop_destroy(ev);
		return err;
	}
	for (int i = 0; i < EV_MAX; i++)
		ev->e[i].fd = -1;
	*out = ev;
	return 0;
}

void evloop_destroy(struct evloop *ev)
{
	if (!ev)
		return;
	if (ev->epfd >= 0)
		close(ev->epfd);
	if (ev->stopfd >= 0)
		close(ev->stopfd);
	free(ev);
}

int evloop_add(struct evloop *ev, int fd, uint32_t events, ev_fn fn, void *arg)
{
	struct epoll_event ee = { .events = events };
	int i;

	for (i = 0; i < EV_MAX && ev->e[i].fd >= 0; i++)
		;
	if (i == EV_MAX)
		return -ENOSPC;
	ev->e[i] = (struct ev_entry){ fd, fn, arg };
	ee.data.ptr = &ev->e[i];
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		ev->e[i].fd = -1;
		return -errno;
	}
	return 0;
}

int evloop_del(struct evloop *ev, int fd)
{
	for (int i = 0; i < EV_MAX; i++) {
		if (ev->e[i].fd == fd) {
			epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
			ev->e[i].fd = -1;
			return 0;
		}
	}
	return -ENOENT;
}

int evloop_run(struct evloop *ev)
{
	struct epoll_event evs[16];

	while (!__atomic_load_n(&ev->stop, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(ev->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !__atomic_load_n(&ev->stop, __ATOMIC_ACQUIRE); i++) {
			struct ev_entry *e = evs[i].data.ptr;

			if (e && e->fd >= 0)
				e->fn(e->arg, evs[i].events);
		}
	}
	return 0;
}

void evloop_stop(struct evloop *ev)
{
	uint64_t one = 1;

	__atomic_store_n(&ev->stop, true, __ATOMIC_RELEASE);
	if (write(ev->stopfd, &one, sizeof(one)) < 0)
		return;
}
