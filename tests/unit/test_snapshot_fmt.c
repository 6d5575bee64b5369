/* The snapshot state file (core/snapshot_fmt.c) and the x86 state payload checks (cpu_state.c)
 * against hostile bytes: a round trip; every truncation and every single-byte flip refused with a
 * message; unknown, duplicate and out-of-range sections, trailing bytes, another format version;
 * vCPU/VM payloads whose counts disagree with their length. No KVM. */
#include <errno.h>
#include <stdlib.h>

#include "arch/x86/cpu_state.h"
#include "core/snapshot_fmt.h"
#include "test.h"

static struct snap_parsed parsed;

/* A file of two vCPUs, the VM, two devices and the memory layout. */
static void build(struct snap_writer *w, uint32_t ncpus, const char *extra)
{
	struct snap_header id = { .ncpus = ncpus, .ram_bytes = 128 << 20, .devlist_crc = 0x1234 };
	uint8_t blob[300];
	char *p;

	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7 + 1);
	snap_host_vendor(id.cpu_vendor);
	snap_writer_init(w);
	CHECK_EQ(snap_section_add(w, "vcpu0", 1, blob, 13), 0);
	CHECK_EQ(snap_section_add(w, "vcpu1", 1, blob, 300), 0);
	CHECK_EQ(snap_section_add(w, "vm", 1, blob + 5, 64), 0);
	p = snap_section_begin(w, "dev:com1", 3, 100);	/* reserved 100, used 7 */
	CHECK(p != NULL);
	memcpy(p, "uart-st", 7);
	snap_section_end(w, 7);
	CHECK_EQ(snap_section_add(w, "dev:vblk0", 1, NULL, 0), 0);
	if (extra)
		CHECK_EQ(snap_section_add(w, extra, 1, blob, 8), 0);
	CHECK_EQ(snap_section_add(w, "mem", 1, blob, 40), 0);
	CHECK_EQ(snap_finish(w, &id), 0);
}

static void test_roundtrip(void)
{
	struct snap_writer w;
	const struct snap_section *s;
	char err[256] = "";

	build(&w, 2, NULL);
	CHECK_EQ(w.len % 8, 0);
	CHECK_EQ(snap_parse(w.buf, w.len, &parsed, err, sizeof(err)), 0);
	CHECK_EQ(parsed.n, 6);
	CHECK_EQ(parsed.hdr.ncpus, 2);
	CHECK_EQ(parsed.hdr.ram_bytes, 128 << 20);
	CHECK_EQ(parsed.hdr.devlist_crc, 0x1234);
	CHECK_EQ(parsed.hdr.format_version, SNAP_FORMAT_VERSION);
	s = snap_find(&parsed, "dev:com1");
	CHECK(s && s->len == 7 && s->version == 3 && !memcmp(s->data, "uart-st", 7));
	s = snap_find(&parsed, "vcpu1");
	CHECK(s && s->len == 300 && ((const uint8_t *)s->data)[299] == (uint8_t)(299 * 7 + 1));
	s = snap_find(&parsed, "dev:vblk0");
	CHECK(s && s->len == 0);
	CHECK(snap_find(&parsed, "vcpu2") == NULL);
	snap_writer_free(&w);
}

/* Every prefix and every flipped byte: refused, with a message, never a crash (ASan watches). */
static void test_truncated_and_flipped(void)
{
	struct snap_writer w;
	char err[256];
	size_t len, i, bad_trunc = 0, bad_flip = 0;
	uint8_t *copy;

	build(&w, 2, NULL);
	len = w.len;
	for (i = 0; i < len; i++) {
		copy = malloc(i ? i : 1);	/* exactly i bytes: ASan sees any read past them */
		memcpy(copy, w.buf, i);
		err[0] = 0;
		if (snap_parse(copy, i, &parsed, err, sizeof(err)) == 0 || !err[0])
			bad_trunc++;
		free(copy);
	}
	CHECK_EQ(bad_trunc, 0);
	copy = malloc(len);
	for (i = 0; i < len; i++) {
		memcpy(copy, w.buf, len);
		copy[i] ^= (uint8_t)(1u << (i % 8));
		err[0] = 0;
		if (snap_parse(copy, len, &parsed, err, sizeof(err)) == 0 || !err[0])
			bad_flip++;
	}
	CHECK_EQ(bad_flip, 0);
	/* the messages say which */
	memcpy(copy, w.buf, len);
	CHECK(snap_parse(copy, len - 8, &parsed, err, sizeof(err)) != 0 && strstr(err, "truncated"));
	copy[len - 20] ^= 0x40;
	CHECK(snap_parse(copy, len, &parsed, err, sizeof(err)) == -EBADMSG && strstr(err, "checksum"));
	free(copy);
	snap_writer_free(&w);
}

static void test_refused_shapes(void)
{
	struct snap_writer w;
	struct snap_header h;
	char err[256];
	uint8_t *big;

	build(&w, 2, "gpu0");	/* a section this version does not know */
	CHECK(snap_parse(w.buf, w.len, &parsed, err, sizeof(err)) == -EPROTO && strstr(err, "unknown"));
	snap_writer_free(&w);
	build(&w, 2, "vcpu2");	/* a vCPU the header does not have */
	CHECK(snap_parse(w.buf, w.len, &parsed, err, sizeof(err)) == -EPROTO);
	snap_writer_free(&w);
	build(&w, 2, "vcpu01");	/* not a canonical index */
	CHECK(snap_parse(w.buf, w.len, &parsed, err, sizeof(err)) == -EPROTO);
	snap_writer_free(&w);
	build(&w, 2, "vm");	/* twice */
	CHECK(snap_parse(w.buf, w.len, &parsed, err, sizeof(err)) == -EINVAL && strstr(err, "twice"));
	snap_writer_free(&w);
	build(&w, 2, "dev:a b");	/* a space in a device name */
	CHECK(snap_parse(w.buf, w.len, &parsed, err, sizeof(err)) == -EPROTO);
	snap_writer_free(&w);

	build(&w, 2, NULL);
	big = calloc(1, w.len + 8);	/* trailing bytes */
	memcpy(big, w.buf, w.len);
	CHECK(snap_parse(big, w.len + 8, &parsed, err, sizeof(err)) == -EINVAL && strstr(err, "after"));
	free(big);
	/* another format version, with a valid header CRC: refused by version, not as damage */
	memcpy(&h, w.buf, sizeof(h));
	h.format_version = 2;
	h.header_crc = snap_crc32(0, &h, offsetof(struct snap_header, header_crc));
	memcpy(w.buf, &h, sizeof(h));
	CHECK(snap_parse(w.buf, w.len, &parsed, err, sizeof(err)) == -EPROTO && strstr(err, "version 2"));
	/* a section count beyond the limit */
	h.format_version = SNAP_FORMAT_VERSION;
	h.nsections = SNAP_MAX_SECTIONS + 1;
	h.header_crc = snap_crc32(0, &h, offsetof(struct snap_header, header_crc));
	memcpy(w.buf, &h, sizeof(h));
	CHECK(snap_parse(w.buf, w.len, &parsed, err, sizeof(err)) == -EINVAL);
	/* zero vCPUs */
	h.nsections = 6;
	h.ncpus = 0;
	h.header_crc = snap_crc32(0, &h, offsetof(struct snap_header, header_crc));
	memcpy(w.buf, &h, sizeof(h));
	CHECK(snap_parse(w.buf, w.len, &parsed, err, sizeof(err)) == -EINVAL);
	CHECK(snap_parse("CKVMSNAP", 8, &parsed, err, sizeof(err)) == -EINVAL);
	CHECK(snap_parse("NOTASNAPSHOT", 12, &parsed, err, sizeof(err)) == -EINVAL);
	snap_writer_free(&w);
}

static void test_writer_limits(void)
{
	struct snap_writer w;
	char name[40];

	snap_writer_init(&w);
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	CHECK(snap_section_begin(&w, name, 1, 8) == NULL || w.err == -ENAMETOOLONG);
	CHECK_EQ(w.err, -ENAMETOOLONG);
	snap_writer_free(&w);
	snap_writer_init(&w);
	CHECK(snap_section_begin(&w, "vm", 1, (size_t)SNAP_MAX_FILE + 1) == NULL);
	CHECK_EQ(w.err, -EFBIG);
	snap_writer_free(&w);
}

/* The vCPU and VM payloads are checked before any ioctl: lengths that disagree with their counts. */
static void test_state_payload_checks(void)
{
	static uint8_t buf[1 << 16];
	char err[256];
	uint32_t hdr[4];

	CHECK(x86_vcpu_state_check(buf, 10, err, sizeof(err)) == -EINVAL);
	CHECK(x86_vm_state_check(buf, 10, err, sizeof(err)) == -EINVAL);
	memset(buf, 0, sizeof(buf));
	hdr[0] = 0;		/* flags */
	hdr[1] = 0;		/* tsc_khz */
	hdr[2] = 100000;	/* nmsrs: far too many */
	hdr[3] = 0;
	memcpy(buf, hdr, sizeof(hdr));
	CHECK(x86_vcpu_state_check(buf, sizeof(buf), err, sizeof(err)) == -EINVAL);
	hdr[2] = 3;		/* 3 MSRs, but the length says otherwise */
	memcpy(buf, hdr, sizeof(hdr));
	CHECK(x86_vcpu_state_check(buf, sizeof(buf), err, sizeof(err)) == -EINVAL &&
	      strstr(err, "counts"));
	hdr[0] = 2;		/* XSAVE flag without an area */
	hdr[2] = 0;
	memcpy(buf, hdr, sizeof(hdr));
	CHECK(x86_vcpu_state_check(buf, sizeof(buf), err, sizeof(err)) == -EINVAL);
}

int main(void)
{
	RUN(test_roundtrip);
	RUN(test_truncated_and_flipped);
	RUN(test_refused_shapes);
	RUN(test_writer_limits);
	RUN(test_state_payload_checks);
	return test_summary();
}
