/* The live-migration stream (issue 10 item 3): a hello (magic, version, RAM size, vCPU count),
 * then records of one guest page each (data, or a flag for a page of zeros) and, with
 * --migrate-disks, of one block of a disk image each, then one record with
 * the state stream (snapshot_fmt.h). Every record carries a CRC32 of its header and payload. The
 * receiver treats the stream as hostile: every address, length and CRC is checked, pages go only
 * into guest RAM through gm_write, and the state is handed back only once complete. No KVM here,
 * so unit tests and the fuzz target drive it directly. Addresses: "tcp:HOST:PORT" (IPv4 numbers
 * or localhost) and "unix:PATH". Any thread. */
#ifndef CKVM_MIGRATE_STREAM_H
#define CKVM_MIGRATE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct guest_mem;

#define MIG_MAGIC		"CKVMMIG1"
#define MIG_VERSION		1
#define MIG_PAGE		4096u
#define MIG_CONFIRM		"CKVMRUN!"	/* the destination's 8 bytes: restored, running */
#define MIG_IO_TIMEOUT_S	30		/* a peer silent this long is gone */

/* Record types. */
enum { MIG_REC_PAGE = 1, MIG_REC_ZERO = 2, MIG_REC_STATE = 3, MIG_REC_DISK = 4 };

/* --migrate-disks: a DISK record's payload (its arg: the payload's length, this header plus
 * len bytes) is this header, then len bytes of the image disk (its index among the writable
 * --disk images, in order) at byte off. */
#define MIG_DISK_MAX_BLOCK	(1u << 20)	/* the largest len a receiver takes */
struct mig_disk_hdr {
	uint32_t disk;
	uint32_t len;
	uint64_t off;
};

struct mig_hello {
	char magic[8];
	uint32_t version;
	uint32_t page_size;
	uint64_t ram_bytes;
	uint32_t ncpus;
	uint32_t crc;		/* CRC32 of the fields above */
};

struct mig_rec {
	uint32_t type;
	uint32_t crc;		/* CRC32 of this header (crc as 0) and the payload */
	uint64_t arg;		/* PAGE/ZERO: the guest physical address; STATE: the payload length */
};

/* The sender: records are gathered in a buffer and written in large pieces. */
struct mig_out {
	int fd;
	uint8_t *buf;
	size_t len, cap;
	uint64_t bytes;		/* written to the socket so far */
	uint64_t bw_bytes_per_s;	/* a limit (0: none): the sender waits to keep under it */
	int64_t t_start;	/* when the limit's accounting began */
	uint64_t t_bytes;	/* ... and the bytes since */
	int err;		/* the first -errno; later calls do nothing */
};

int mig_out_init(struct mig_out *o, int fd, uint64_t bw_bytes_per_s);
void mig_out_free(struct mig_out *o);
int mig_out_hello(struct mig_out *o, uint64_t ram_bytes, uint32_t ncpus);
/* A page of guest RAM at gpa: data, or a ZERO record when it holds only zeros. */
int mig_out_page(struct mig_out *o, uint64_t gpa, const void *data);
int mig_out_state(struct mig_out *o, const void *state, size_t len);
/* len bytes (1..MIG_DISK_MAX_BLOCK) of disk at off. */
int mig_out_disk(struct mig_out *o, uint32_t disk, uint64_t off, const void *data, uint32_t len);
int mig_out_flush(struct mig_out *o);

/* The receiver reads through a callback (a socket; memory for the fuzz target): bytes read (0 at
 * the end of the stream) or -errno. */
typedef ssize_t (*mig_read_fn)(void *ctx, void *buf, size_t len);

struct mig_in_stats {
	uint64_t pages, zero_pages, bytes;
	uint64_t disk_blocks, disk_bytes;
};

/* The destination's disks for DISK records: n images of sizes[i] bytes; write puts a checked
 * block (inside its image) there: 0 or -errno. NULL or n 0: a DISK record is refused. */
struct mig_disks {
	uint32_t n;
	const uint64_t *sizes;
	int (*write)(void *ctx, uint32_t disk, uint64_t off, const void *data, uint32_t len);
	void *ctx;
};

/* Read a whole stream into gm (whose RAM must be ram_bytes over ncpus vCPUs) until the state
 * record, which is returned malloc'ed in *state. 0, or -errno with one sentence in err and
 * nothing returned (pages may have been written into gm; the caller does not start the VM). */
int mig_receive(mig_read_fn rd, void *ctx, const struct guest_mem *gm, uint32_t ncpus,
		const struct mig_disks *disks, uint8_t **state, size_t *state_len,
		struct mig_in_stats *st, char *err, size_t errlen);
ssize_t mig_read_fd(void *ctx, void *buf, size_t len);	/* ctx: an int * */

/* The destination: listen on url, accept one peer (the listening socket closed, a unix path
 * unlinked). The source: connect. Both set MIG_IO_TIMEOUT_S send/receive timeouts. The socket or
 * -errno with one sentence in err. */
int mig_listen_accept(const char *url, char *err, size_t errlen);
int mig_connect(const char *url, char *err, size_t errlen);

#endif
