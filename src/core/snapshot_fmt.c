/* The snapshot state file's container (snapshot_fmt.h): writer and the hostile-input parser. Every
 * length, count and offset read from the file is checked against what is left of the buffer before
 * it is used; nothing here applies state, so a refused file changes nothing. Any thread. */
#include "core/snapshot_fmt.h"

#include <cpuid.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "config.h"
#include "log.h"

_Static_assert(sizeof(struct snap_header) == 128, "the on-disk header is 128 bytes");
_Static_assert(sizeof(struct snap_section_hdr) == 48, "the on-disk section header is 48 bytes");

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

uint32_t snap_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/* zlib's crc32 takes a uInt length: feed it in pieces. */
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

/* A section's CRC covers its header (with crc 0) and its payload: a flipped name, version or
 * length is caught like a flipped payload byte. */
static uint32_t section_crc(const struct snap_section_hdr *h, const void *payload)
{
	struct snap_section_hdr c = *h;

	c.crc = 0;
	return snap_crc32(snap_crc32(0, &c, sizeof(c)), payload, (size_t)h->len);
}

void snap_host_vendor(char out[16])
{
	unsigned a = 0, b = 0, c = 0, d = 0;

	memset(out, 0, 16);
	__get_cpuid(0, &a, &b, &c, &d);
	memcpy(out, &b, 4);
	memcpy(out + 4, &d, 4);
	memcpy(out + 8, &c, 4);
}

void snap_writer_init(struct snap_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

static int reserve(struct snap_writer *w, size_t more)
{
	size_t want = w->len + more, cap = w->cap ? w->cap : 65536;
	uint8_t *nb;

	if (w->err)
		return w->err;
	if (more > SNAP_MAX_FILE || want > SNAP_MAX_FILE)
		return w->err = -EFBIG;
	if (want <= w->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (!(nb = realloc(w->buf, cap)))
		return w->err = -ENOMEM;
	memset(nb + w->cap, 0, cap - w->cap);
	w->buf = nb;
	w->cap = cap;
	return 0;
}

void *snap_section_begin(struct snap_writer *w, const char *name, uint32_t version, size_t len)
{
	struct snap_section_hdr h = { .version = version, .len = len };

	if (!w->len && reserve(w, sizeof(struct snap_header)) == 0)
		w->len = sizeof(struct snap_header);
	if (strlen(name) >= SNAP_NAME_MAX && !w->err)
		w->err = -ENAMETOOLONG;
	if (reserve(w, sizeof(h) + ALIGN8(len)))
		return NULL;
	snprintf(h.name, sizeof(h.name), "%s", name);
	w->last = w->len;
	memcpy(w->buf + w->len, &h, sizeof(h));
	w->len += sizeof(h);
	memset(w->buf + w->len, 0, ALIGN8(len));
	w->nsections++;
	return w->buf + w->len;
}

void snap_section_end(struct snap_writer *w, size_t used)
{
	struct snap_section_hdr h;

	if (w->err)
		return;
	memcpy(&h, w->buf + w->last, sizeof(h));
	if (used > h.len) {
		w->err = -EOVERFLOW;
		return;
	}
	h.len = used;
	h.crc = section_crc(&h, w->buf + w->last + sizeof(h));
	memcpy(w->buf + w->last, &h, sizeof(h));
	w->len = w->last + sizeof(h) + ALIGN8(used);
}

int snap_section_add(struct snap_writer *w, const char *name, uint32_t version, const void *data,
		     size_t len)
{
	void *p = snap_section_begin(w, name, version, len);

	if (!p)
		return w->err;
	if (len)
		memcpy(p, data, len);
	snap_section_end(w, len);
	return w->err;
}

int snap_finish(struct snap_writer *w, const struct snap_header *identity)
{
	struct snap_header h = *identity;

	if (!w->len && reserve(w, sizeof(h)) == 0)
		w->len = sizeof(h);
	if (w->err)
		return w->err;
	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	h.format_version = SNAP_FORMAT_VERSION;
	h.header_len = sizeof(h);
	memset(h.ckvm_version, 0, sizeof(h.ckvm_version));
	snprintf(h.ckvm_version, sizeof(h.ckvm_version), "%s", CKVM_VERSION);
	h.nsections = w->nsections;
	h.pad = 0;
	h.header_crc = snap_crc32(0, &h, offsetof(struct snap_header, header_crc));
	memcpy(w->buf, &h, sizeof(h));
	return 0;
}


/* A name this format version knows: "vm", "mem", "vcpuN" (N < ncpus, no leading zero) or
 * "dev:NAME" (a device name of printable characters). Anything else is a newer or damaged file. */
static bool name_known(const char *name, uint32_t ncpus)
{
	const char *p;
	unsigned long n = 0;

	if (!strcmp(name, "vm") || !strcmp(name, "mem"))
		return true;
	if (!strncmp(name, "vcpu", 4)) {
		p = name + 4;
		if (!*p || (*p == '0' && p[1]))
			return false;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || n > SNAP_MAX_VCPUS)
				return false;
			n = n * 10 + (unsigned long)(*p - '0');
		}
		return n < ncpus;
	}
	if (!strncmp(name, "dev:", 4) && name[4]) {
		for (p = name + 4; *p; p++)
			if (*p <= ' ' || *p > '~')
				return false;
		return true;
	}
	return false;
}

int snap_parse(const void *buf, size_t len, struct snap_parsed *out, char *err, size_t errlen)
{
	const uint8_t *b = buf;
	struct snap_header h;
	struct snap_section_hdr s;
	size_t off, left;
	unsigned i, j;

	out->n = 0;
	if (len < sizeof(h))
		return errf(err, errlen, -EINVAL, "truncated: %zu bytes, shorter than the header", len);
	memcpy(&h, b, sizeof(h));
	if (memcmp(h.magic, SNAP_MAGIC, sizeof(h.magic)))
		return errf(err, errlen, -EINVAL, "not a ckvm snapshot (bad magic)");
	if (h.header_crc != snap_crc32(0, &h, offsetof(struct snap_header, header_crc)))
		return errf(err, errlen, -EBADMSG, "damaged: the header's checksum does not match");
	if (h.format_version != SNAP_FORMAT_VERSION || h.header_len != sizeof(h))
		return errf(err, errlen, -EPROTO, "format version %u (header %u bytes); this ckvm reads "
			    "version %u only", h.format_version, h.header_len, SNAP_FORMAT_VERSION);
	if (!memchr(h.ckvm_version, 0, sizeof(h.ckvm_version)) || !memchr(h.cpu_vendor, 0, sizeof(h.cpu_vendor)))
		return errf(err, errlen, -EINVAL, "damaged: unterminated strings in the header");
	if (h.ncpus == 0 || h.ncpus > SNAP_MAX_VCPUS)
		return errf(err, errlen, -EINVAL, "damaged: %u vCPUs", h.ncpus);
	if (h.nsections > SNAP_MAX_SECTIONS)
		return errf(err, errlen, -EINVAL, "damaged: %u sections (at most %u)", h.nsections,
			    SNAP_MAX_SECTIONS);
	if (h.flags & ~SNAP_F_DIFF)
		return errf(err, errlen, -EPROTO, "unknown flags 0x%x", h.flags);
	out->hdr = h;
	off = sizeof(h);
	for (i = 0; i < h.nsections; i++) {
		left = len - off;
		if (left < sizeof(s))
			return errf(err, errlen, -EINVAL, "truncated: section %u of %u is missing", i + 1,
				    h.nsections);
		memcpy(&s, b + off, sizeof(s));
		off += sizeof(s);
		left -= sizeof(s);
		if (!memchr(s.name, 0, sizeof(s.name)))
			return errf(err, errlen, -EINVAL, "damaged: section %u's name is not terminated", i + 1);
		/* The name points into the caller's buffer, which outlives the parse result. */
		if (s.len > left || ALIGN8(s.len) > left)
			return errf(err, errlen, -EINVAL, "truncated: section \"%.31s\" needs %llu bytes, "
				    "%zu are left", s.name, (unsigned long long)s.len, left);
		if (s.crc != section_crc(&s, b + off))
			return errf(err, errlen, -EBADMSG, "damaged: section \"%.31s\" fails its checksum",
				    s.name);
		if (!name_known(s.name, h.ncpus))
			return errf(err, errlen, -EPROTO, "unknown section \"%.31s\" (a newer ckvm's, or "
				    "damaged)", s.name);
		for (j = 0; j < out->n; j++)
			if (!strcmp(out->sec[j].name, s.name))
				return errf(err, errlen, -EINVAL, "damaged: section \"%.31s\" twice", s.name);
		for (j = (unsigned)s.len; j < ALIGN8((size_t)s.len); j++)
			if (b[off + j])
				return errf(err, errlen, -EBADMSG, "damaged: padding after section \"%.31s\"",
					    s.name);
		out->sec[out->n].name = (const char *)(b + off - sizeof(s));	/* name is the first field */
		out->sec[out->n].version = s.version;
		out->sec[out->n].data = b + off;
		out->sec[out->n].len = (size_t)s.len;
		out->n++;
		off += ALIGN8((size_t)s.len);
	}
	if (off != len)
		return errf(err, errlen, -EINVAL, "damaged: %zu bytes after the last section", len - off);
	return 0;
}

const struct snap_section *snap_find(const struct snap_parsed *p, const char *name)
{
	for (unsigned i = 0; i < p->n; i++)
		if (!strcmp(p->sec[i].name, name))
			return &p->sec[i];
	return NULL;
}
