/* A small epoll event loop run by the I/O thread: stdin, tap devices, virtqueue doorbells (ioeventfd).
 * Handlers run on the loop thread; add and del may be called from any thread. */
#ifndef CKVM_EVLOOP_H
#define CKVM_EVLOOP_H

#include <stdint.h>

typedef void (*ev_fn)(void *arg, uint32_t events);

struct evloop;

int evloop_create(struct evloop **out);
void evloop_destroy(struct evloop *ev);
/* Watch fd for events (EPOLLIN...) and call fn(arg, events) on the loop thread. 0 or -errno. */
int evloop_add(struct evloop *ev, int fd, uint32_t events, ev_fn fn, void *arg);
int evloop_del(struct evloop *ev, int fd);
/* Run until evloop_stop(); returns 0 or -errno. */
int evloop_run(struct evloop *ev);
/* Thread-safe; wakes the loop and makes evloop_run return. */
void evloop_stop(struct evloop *ev);

#endif
