/* The snapshot state file: a versioned header (magic, format version, ckvm version, host CPU vendor,
 * the machine's shape) and named, versioned, CRC32-checked sections (one per vCPU, the VM, each
 * device, the memory layout). The writer builds it in a buffer; the parser is the only reader of
 * these bytes (a snapshot or a migration stream) and treats them as hostile. No KVM here, so unit
 * tests and the fuzz target drive it directly. Any thread; no shared state. */
#ifndef CKVM_SNAPSHOT_FMT_H
#define CKVM_SNAPSHOT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC		"CKVMSNAP"
#define SNAP_FORMAT_VERSION	1
#define SNAP_NAME_MAX		32	/* a section name with its NUL */
#define SNAP_MAX_SECTIONS	1024
#define SNAP_MAX_VCPUS		512
#define SNAP_MAX_FILE		(256u << 20)	/* the state file (not RAM): far above any real one */

/* Little-endian on disk; ckvm is x86-only, so host order is that order. */
struct snap_header {
	char magic[8];
	uint32_t format_version;
	uint32_t header_len;		/* sizeof(struct snap_header): a later format may grow it */
	char ckvm_version[32];		/* informational: the format version decides compatibility */
	char cpu_vendor[16];		/* CPUID leaf 0's 12 characters */
	uint32_t ncpus;
	uint32_t nsections;
	uint64_t ram_bytes;
	uint32_t devlist_crc;		/* CRC32 of the device list ("kind:name\n" each, in order) */
	uint32_t flags;			/* SNAP_F_* */
	uint64_t reserved[4];
	uint32_t pad;
	uint32_t header_crc;		/* CRC32 of everything above */
};

#define SNAP_F_DIFF	1u	/* the memory file holds only the pages dirtied since the previous one */

struct snap_section_hdr {
	char name[SNAP_NAME_MAX];	/* NUL-terminated: "vcpu0", "vm", "mem", "dev:com1" */
	uint32_t version;
	uint32_t crc;			/* CRC32 of this header (crc as 0) and the payload */
	uint64_t len;			/* payload bytes; the next section starts 8-aligned after it */
};

/* One parsed section: its payload points into the parsed buffer. */
struct snap_section {
	const char *name;
	uint32_t version;
	const void *data;
	size_t len;
};

struct snap_parsed {
	struct snap_header hdr;
	struct snap_section sec[SNAP_MAX_SECTIONS];
	unsigned n;
};

/* The writer: a growing buffer. */
struct snap_writer {
	uint8_t *buf;
	size_t len, cap;
	unsigned nsections;
	size_t last;			/* offset of the section header begun last */
	int err;			/* the first -errno; later calls do nothing */
};

/* Start a file: the header is filled in by snap_finish. */
void snap_writer_init(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);
/* Reserve a section's payload of len bytes and return where to write it (NULL on failure, w->err). */
void *snap_section_begin(struct snap_writer *w, const char *name, uint32_t version, size_t len);
/* Shrink the section begun last to used bytes (<= what was reserved) and seal its CRC. */
void snap_section_end(struct snap_writer *w, size_t used);
/* Append a whole section. */
int snap_section_add(struct snap_writer *w, const char *name, uint32_t version, const void *data,
		     size_t len);
/* Fill and seal the header (hdr's identity fields: ncpus, ram_bytes, devlist_crc, flags, vendor).
 * 0 or w->err. */
int snap_finish(struct snap_writer *w, const struct snap_header *identity);

/* Parse and check a whole file before anything is applied: the header (magic, format version,
 * header CRC), every section (length within the file, CRC, a known and unique name, vCPU index
 * below ncpus), and nothing left over. 0, or -EINVAL/-EPROTO/-EBADMSG with one sentence in err. */
int snap_parse(const void *buf, size_t len, struct snap_parsed *out, char *err, size_t errlen);
/* The section of that name, or NULL. */
const struct snap_section *snap_find(const struct snap_parsed *p, const char *name);

/* This host's CPU vendor string (12 characters), NUL-terminated in out[16]. */
void snap_host_vendor(char out[16]);
uint32_t snap_crc32(uint32_t crc, const void *buf, size_t len);

#endif
