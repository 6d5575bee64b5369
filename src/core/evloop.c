/* epoll event loop for the I/O thread. Handlers run on that thread only; a stop eventfd ends it.
 * evloop_add/evloop_del may be called from any thread (a device's reset on a vCPU thread, a tap
 * swap on the API thread): the entry table is under a lock, and each epoll event carries its
 * entry's slot and generation, so an event that was already fetched when its entry was deleted (or
 * its slot reused) calls nobody. */
#include "core/evloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EV_MAX 64
#define EV_STOP UINT64_MAX	/* the stop eventfd's epoll data */

struct ev_entry {
	int fd;			/* -1: a free slot */
	uint32_t gen;		/* bumped at every add into this slot */
	ev_fn fn;
	void *arg;
};

struct evloop {
	int epfd;
	int stopfd;
	bool stop;		/* set by evloop_stop() on another thread: atomic accesses only */
	pthread_mutex_t lock;	/* e[] */
	struct ev_entry e[EV_MAX];
};

int evloop_create(struct evloop **out)
{
	struct evloop *ev = calloc(1, sizeof(*ev));
	struct epoll_event ee = { .events = EPOLLIN, .data.u64 = EV_STOP };

	if (!ev)
		return -ENOMEM;
	pthread_mutex_init(&ev->lock, NULL);
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
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
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

int evloop_add(struct evloop *ev, int fd, uint32_t events, ev_fn fn, void *arg)
{
	struct epoll_event ee = { .events = events };
	int i, ret = 0;

	pthread_mutex_lock(&ev->lock);
	for (i = 0; i < EV_MAX && ev->e[i].fd >= 0; i++)
		;
	if (i == EV_MAX) {
		ret = -ENOSPC;
	} else {
		ev->e[i] = (struct ev_entry){ fd, ev->e[i].gen + 1, fn, arg };
		ee.data.u64 = (uint64_t)ev->e[i].gen << 32 | (uint64_t)i;
		if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
			ret = -errno;
			ev->e[i].fd = -1;
		}
	}
	pthread_mutex_unlock(&ev->lock);
	return ret;
}

int evloop_del(struct evloop *ev, int fd)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&ev->lock);
	for (int i = 0; i < EV_MAX; i++) {
		if (ev->e[i].fd == fd) {
			epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
			ev->e[i].fd = -1;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ev->lock);
	return ret;
}

/* The handler of one fetched event, if its entry is still the one the event was armed for. */
static bool entry_of(struct evloop *ev, uint64_t data, ev_fn *fn, void **arg)
{
	uint32_t slot = (uint32_t)data, gen = (uint32_t)(data >> 32);
	bool live;

	pthread_mutex_lock(&ev->lock);
	live = slot < EV_MAX && ev->e[slot].fd >= 0 && ev->e[slot].gen == gen;
	if (live) {
		*fn = ev->e[slot].fn;
		*arg = ev->e[slot].arg;
	}
	pthread_mutex_unlock(&ev->lock);
	return live;
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
			ev_fn fn;
			void *arg;

			if (evs[i].data.u64 != EV_STOP && entry_of(ev, evs[i].data.u64, &fn, &arg))
				fn(arg, evs[i].events);
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
