/* Bus dispatch: binary search over sorted ranges. Registration happens on the main thread before
 * boot; after bus_freeze() vCPU threads dispatch concurrently (devices lock themselves). */
#include "core/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Generations are unique process-wide, so a cache can never match a bus rebuilt at the same address. */
static unsigned long bus_gen_new(void)
{
	static unsigned long next;

	return __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
}

void bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	b->gen = bus_gen_new();
}

void bus_free(struct bus *b)
{
	free(b->r);
	memset(b, 0, sizeof(*b));
	b->gen = bus_gen_new();
}

int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops, void *dev,
	    const char *name)
{
	int i, pos;

	if (b->frozen)
		return -EPERM;
	if (!len || base + len - 1 < base || !ops)
		return -EINVAL;
	for (pos = 0; pos < b->nr && b->r[pos].base < base; pos++)
		;
	if (pos > 0 && b->r[pos - 1].base + b->r[pos - 1].len - 1 >= base)
		return -EEXIST;
	if (pos < b->nr && base + len - 1 >= b->r[pos].base)
		return -EEXIST;
	if (b->nr == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		struct bus_range *r = realloc(b->r, (size_t)cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		b->r = r;
		b->cap = cap;
	}
	for (i = b->nr; i > pos; i--)
		b->r[i] = b->r[i - 1];
	b->r[pos] = (struct bus_range){ base, len, ops, dev, name };
	b->nr++;
	b->gen = bus_gen_new();
	return 0;
}

void bus_freeze(struct bus *b)
{
	b->frozen = true;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr, uint32_t len)
{
	int lo = 0, hi = b->nr - 1;

	if (!len)
		return NULL;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &b->r[mid];

		if (addr < r->base) {
			hi = mid - 1;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			/* the whole access must fit inside the range */
			if (len > r->len - (addr - r->base))
				return NULL;
			return r;
		}
	}
	return NULL;
}

int bus_read(const struct bus *b, uint64_t addr, void *data, uint32_t len)
{
	const struct bus_range *r = bus_find(b, addr, len);

	if (!r || !r->ops->read) {
		memset(data, 0xff, len);
		return r ? 0 : -ENOENT;
	}
	r->ops->read(r->dev, addr - r->base, data, len);
	return 0;
}

int bus_write(const struct bus *b, uint64_t addr, const void *data, uint32_t len)
{
	const struct bus_range *r = bus_find(b, addr, len);

	if (!r)
		return -ENOENT;
	if (r->ops->write)
		r->ops->write(r->dev, addr - r->base, data, len);
	return 0;
}

static bool range_fits(const struct bus_range *r, uint64_t addr, uint32_t len)
{
	return addr - r->base < r->len && len <= r->len - (addr - r->base);
}

int bus_access(const struct bus *b, struct bus_cache *c, uint64_t addr, void *data, uint32_t len,
	       bool is_write)
{
	const struct bus_range *r;

	if (c->gen == b->gen && c->hit && len && range_fits(c->hit, addr, len)) {
		r = c->hit;
	} else if (c->gen == b->gen && c->miss_len && c->miss_len == len && c->miss_addr == addr) {
		r = NULL;
	} else {
		r = bus_find(b, addr, len);
		if (c->gen != b->gen)
			*c = (struct bus_cache){ .gen = b->gen };
		if (r) {
			c->hit = r;
		} else {
			c->miss_addr = addr;
			c->miss_len = len;
		}
	}
	if (is_write) {
		if (r && r->ops->write)
			r->ops->write(r->dev, addr - r->base, data, len);
	} else if (r && r->ops->read) {
		r->ops->read(r->dev, addr - r->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	return r ? 0 : -ENOENT;
}
