/* The guest's debug output ports: the debug console on 0xe9/0x402 (QEMU isa-debugcon, Bochs 0xe9 hack,
 * SeaBIOS's 0x402; a read returns 0xe9) and POST codes on 0x80 (the PC's diagnostic port).
 * Runs on vCPU threads; the console's line buffer is under its own lock, the POST port uses atomics. */
#include "dev/debugcon.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct debugcon {
	struct device dev;
	pthread_mutex_t lock;		/* line buffer and output order */
	int out_fd;
	void (*write)(void *arg, const char *buf, size_t len);
	void *write_arg;
	bool own_fd, timestamps, crlf;
	uint64_t (*now_ns)(void);
	size_t len;
	uint64_t line_ns;		/* when the buffered line's first byte came */
	char line[DEBUGCON_LINE_MAX];
};

/* Write all of buf, retrying short writes; errors drop the rest (the guest must never block on us). */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Out with the buffered line (lock held): "[+12.345 ms] " (its first byte's time) first if asked,
 * CR before its LF if asked. */
static void debugcon_flush(struct debugcon *d)
{
	char out[32 + DEBUGCON_LINE_MAX + 1];
	size_t n = 0;

	if (!d->len)
		return;
	if (d->timestamps)
		n = (size_t)snprintf(out, 32, "[+%llu.%03llu ms] ", (unsigned long long)(d->line_ns / 1000000),
				     (unsigned long long)(d->line_ns / 1000 % 1000));
	memcpy(out + n, d->line, d->len);
	n += d->len;
	if (d->crlf && out[n - 1] == '\n') {
		out[n - 1] = '\r';
		out[n++] = '\n';
	}
	if (d->write)
		d->write(d->write_arg, out, n);
	else
		write_all(d->out_fd, out, n);
	d->len = 0;
}

static void debugcon_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	(void)dev;
	(void)off;
	memset(data, DEBUGCON_READBACK, len);
}

static void debugcon_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct debugcon *d = dev;
	char c = *(const char *)data;

	(void)off;
	(void)len;
	pthread_mutex_lock(&d->lock);
	if (!d->len && d->timestamps)
		d->line_ns = d->now_ns();
	d->line[d->len++] = c;
	if (c == '\n' || d->len == sizeof(d->line))
		debugcon_flush(d);
	pthread_mutex_unlock(&d->lock);
}

const struct bus_ops debugcon_bus_ops = {
	.read = debugcon_read,
	.write = debugcon_write,
};

/* Lifecycle (device.h): no guest-visible state (a read returns a constant; a partial line is host output, not guest state), so no save or restore: the registry
 * records an empty payload and refuses a non-empty one. */
static void debugcon_dev_destroy(struct device *d)
{
	debugcon_destroy(device_of(d, struct debugcon, dev));
}

static const struct device_ops debugcon_dev_ops = {
	.kind = "debugcon",
	.state_version = 1,
	.destroy = debugcon_dev_destroy,
};

struct device *debugcon_device(struct debugcon *d)
{
	return &d->dev;
}

int debugcon_create(struct debugcon **out, const struct debugcon_config *cfg)
{
	struct debugcon *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	device_init(&d->dev, &debugcon_dev_ops, "debugcon");
	pthread_mutex_init(&d->lock, NULL);
	d->out_fd = cfg->out_fd;
	d->own_fd = cfg->own_fd;
	d->write = cfg->write;
	d->write_arg = cfg->write_arg;
	d->timestamps = cfg->timestamps;
	d->crlf = cfg->crlf;
	d->now_ns = cfg->now_ns ? cfg->now_ns : log_since_exec_ns;
	*out = d;
	return 0;
}

void debugcon_destroy(struct debugcon *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	debugcon_flush(d);
	pthread_mutex_unlock(&d->lock);
	if (d->own_fd && d->out_fd >= 0)
		close(d->out_fd);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* POST codes */

struct post {
	uint64_t (*now_ns)(void);
	int last;			/* atomic; -1 before the first write */
	unsigned long log_sec;		/* log_ratelimit state */
	unsigned log_count;
};

static void post_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	int last = post_last_code(dev);

	(void)off;
	memset(data, last < 0 ? 0xff : last, len);
}

static void post_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct post *p = dev;
	int code = *(const uint8_t *)data, old;
	uint64_t ns;

	(void)off;
	(void)len;
	old = __atomic_exchange_n(&p->last, code, __ATOMIC_RELAXED);
	if (old == code || !log_ratelimit(&p->log_sec, &p->log_count))
		return;
	ns = p->now_ns();
	log_debug("post", "+%llu.%03llu ms POST code 0x%02x", (unsigned long long)(ns / 1000000),
		  (unsigned long long)(ns / 1000 % 1000), code);
}

const struct bus_ops post_bus_ops = {
	.read = post_read,
	.write = post_write,
};

int post_create(struct post **out, uint64_t (*now_ns)(void))
{
	struct post *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->now_ns = now_ns ? now_ns : log_since_exec_ns;
	p->last = -1;
	*out = p;
	return 0;
}

void post_destroy(struct post *p)
{
	free(p);
}

int post_last_code(const struct post *p)
{
	return __atomic_load_n(&p->last, __ATOMIC_RELAXED);
}
