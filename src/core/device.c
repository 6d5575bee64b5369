/* The device registry and the versioned device record (device.h). Runs on whichever thread drives
 * the lifecycle (main for create/destroy, the API thread for pause/resume); not locked itself: the
 * registry's shape is fixed once the VM runs. */
#include "core/device.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The record header, in host byte order (a record never leaves the host that wrote it without the
 * migration stream's own framing around it). */
struct device_record {
	char magic[4];			/* "CKDV" */
	uint32_t version;		/* the device's state_version */
	uint32_t len;			/* payload bytes after this header */
	char kind[20];
	char name[32];
};

void device_init(struct device *d, const struct device_ops *ops, const char *name)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->ops = ops;
}

int devreg_add(struct devreg *r, struct device *d)
{
	if (devreg_find(r, d->name))
		return -EEXIST;
	d->next = NULL;
	if (r->tail)
		r->tail->next = d;
	else
		r->head = d;
	r->tail = d;
	r->n++;
	return 0;
}

struct device *devreg_find(const struct devreg *r, const char *name)
{
	struct device *d;

	devreg_for_each(r, d)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

struct device *devreg_nth(const struct devreg *r, const char *kind, unsigned i)
{
	struct device *d;

	devreg_for_each(r, d)
		if (strcmp(d->ops->kind, kind) == 0 && i-- == 0)
			return d;
	return NULL;
}

unsigned devreg_count(const struct devreg *r, const char *kind)
{
	struct device *d;
	unsigned n = 0;

	devreg_for_each(r, d)
		n += strcmp(d->ops->kind, kind) == 0;
	return n;
}

/* The devices before stop, in reverse: what resume and destroy walk. n is small (tens). */
static struct device *before(const struct devreg *r, const struct device *stop)
{
	struct device *d, *prev = NULL;

	devreg_for_each(r, d) {
		if (d == stop)
			break;
		prev = d;
	}
	return prev;
}

int devreg_pause(struct devreg *r, int64_t deadline_ns)
{
	struct device *d;
	int ret;

	devreg_for_each(r, d) {
		if (d->paused)
			continue;
		ret = d->ops->pause ? d->ops->pause(d, deadline_ns) : 0;
		if (ret) {
			devreg_resume(r);
			return ret;
		}
		d->paused = 1;
	}
	return 0;
}

void devreg_resume(struct devreg *r)
{
	struct device *d;

	for (d = r->tail; d; d = before(r, d)) {
		if (!d->paused)
			continue;
		d->paused = 0;
		if (d->ops->resume)
			d->ops->resume(d);
	}
}

void devreg_reset(struct devreg *r)
{
	struct device *d;

	devreg_for_each(r, d)
		if (d->ops->reset)
			d->ops->reset(d);
}

unsigned devreg_stop(struct devreg *r, int64_t deadline_ns)
{
	struct device *d;
	unsigned stuck = 0;

	devreg_for_each(r, d) {
		if (d->ops->stop)
			stuck += d->ops->stop(d, deadline_ns);
		else if (d->ops->pause && !d->paused)
			(void)d->ops->pause(d, deadline_ns);	/* nothing better to do at the end */
		d->paused = 1;
	}
	return stuck;
}

void devreg_destroy(struct devreg *r)
{
	struct device *d = r->tail, *prev;

	while (d) {
		prev = before(r, d);
		d->ops->destroy(d);	/* may free d */
		d = prev;
	}
	memset(r, 0, sizeof(*r));
}

ssize_t device_save(struct device *d, void *buf, size_t cap)
{
	struct device_record h = { .magic = "CKDV", .version = d->ops->state_version };
	ssize_t n = 0;

	if (cap < sizeof(h))
		return -ENOSPC;
	if (d->ops->save && (n = d->ops->save(d, (char *)buf + sizeof(h), cap - sizeof(h))) < 0)
		return n;
	if ((size_t)n > UINT32_MAX)
		return -EOVERFLOW;
	h.len = (uint32_t)n;
	snprintf(h.kind, sizeof(h.kind), "%s", d->ops->kind);
	snprintf(h.name, sizeof(h.name), "%s", d->name);
	memcpy(buf, &h, sizeof(h));
	return (ssize_t)(sizeof(h) + (size_t)n);
}

int device_restore(struct device *d, const void *buf, size_t len, size_t *used)
{
	struct device_record h;
	int ret;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, "CKDV", 4) || h.version != d->ops->state_version ||
	    h.len > len - sizeof(h) || strnlen(h.kind, sizeof(h.kind)) == sizeof(h.kind) ||
	    strnlen(h.name, sizeof(h.name)) == sizeof(h.name) || strcmp(h.kind, d->ops->kind) ||
	    strcmp(h.name, d->name))
		return -EINVAL;
	if (d->ops->restore)
		ret = d->ops->restore(d, (const char *)buf + sizeof(h), h.len);
	else
		ret = h.len ? -EINVAL : 0;
	if (!ret)
		*used = sizeof(h) + h.len;
	return ret;
}
