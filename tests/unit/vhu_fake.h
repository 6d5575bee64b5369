/* A fake vhost-user back-end for unit tests: a thread on one end of a socketpair reads each request
 * (keeping the fds that came with it) and answers from a script of steps. */
#ifndef CKVM_VHU_FAKE_H
#define CKVM_VHU_FAKE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/vhost_user.h"

#define FAKE_MAX_STEPS 32	/* a net device's life: 4 to negotiate, 14 to activate, 4 to reset */

enum reply_kind { R_NONE, R_U64, R_RAW, R_HANG, R_CLOSE };

struct step {
	uint32_t req;		/* the request the back-end expects */
	enum reply_kind kind;
	uint64_t u64;		/* R_U64: a well-formed u64 reply */
	uint8_t raw[400];	/* R_RAW: header and payload exactly as sent */
	size_t raw_len;
	int send_fd;		/* attach an eventfd to the reply */
};

struct got {			/* what the back-end received */
	uint32_t req, flags, size;
	uint8_t payload[300];
	int fds[8], nfds;
};

struct fake {
	int fd;
	pthread_t thread;
	struct step steps[FAKE_MAX_STEPS];
	int nsteps;
	struct got got[FAKE_MAX_STEPS];
	int ngot, mismatch;
	int listen_fd;		/* fake_listen: the socket the front-end connects to, else -1 */
};

/* A socketpair: c gets one end (timeout 200 ms), the fake's thread the other. */
int fake_start(struct fake *f, struct vhu_conn *c);
/* A listening Unix socket at path (for code that connects by path, vudev_create): the thread accepts
 * one connection and answers on it. fake_stop(f, NULL) after the front-end has closed it. */
int fake_listen(struct fake *f, const char *path);
/* Close c (may be NULL), join the thread, close every fd the back-end received. */
void fake_stop(struct fake *f, struct vhu_conn *c);
struct step *fake_add(struct fake *f, uint32_t req, enum reply_kind kind, uint64_t u64);
/* Make s a raw reply: header fields and payload_len bytes of payload. */
void fake_raw(struct step *s, uint32_t req, uint32_t flags, uint32_t size, const void *payload,
	      size_t payload_len);
int fake_count_fds(void);

/* Lines written so far to the log file fd (the tests point ckvm's log at one). */
int fake_log_lines(int fd);

#endif
