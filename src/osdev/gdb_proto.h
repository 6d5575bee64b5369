/* GDB remote serial protocol, the parts that need no socket and no VM (GDB manual, "Remote
 * Protocol"): an incremental packet parser ($data#cs, +/- acks, Ctrl-C, '}' escapes, '*' run-length
 * decoding, checksums, a size cap), the reply encoder, hex helpers, and a decoder that turns a packet
 * into a struct gdb_cmd whose every field is validated, so the stub's logic is a switch.
 * Everything here treats the client's bytes as untrusted. One thread per parser (the stub's). */
#ifndef CKVM_OSDEV_GDB_PROTO_H
#define CKVM_OSDEV_GDB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest packet accepted, counted both as raw bytes between '$' and '#' and as data after
 * decoding; advertised as PacketSize so GDB never sends more. */
#define GDB_PACKET_MAX		4096
#define GDB_PACKET_SIZE_FEATURE	"PacketSize=1000"	/* for the qSupported reply: GDB_PACKET_MAX in hex */
/* The most memory one m/M/X packet moves: an m reply is two hex digits per byte. */
#define GDB_MEM_MAX		(GDB_PACKET_MAX / 2 - 16)
#define GDB_VCONT_MAX		32	/* actions in one vCont packet */
#define GDB_ANNEX_MAX		32	/* qXfer annex name */
#define GDB_REGNO_MAX		4096	/* p/P register numbers accepted (the stub checks its own count) */

/* ---- packet layer ---- */

enum gdb_event {
	GDB_EV_NONE,		/* byte consumed, nothing complete */
	GDB_EV_PACKET,		/* a packet with a good checksum: p->pkt[0, p->pkt_len), NUL-terminated */
	GDB_EV_ACK,		/* '+' */
	GDB_EV_NAK,		/* '-': resend the last reply */
	GDB_EV_INTERRUPT,	/* Ctrl-C (0x03) outside a packet */
	GDB_EV_BAD_CHECKSUM,	/* answer '-': the client resends */
	GDB_EV_BAD_PACKET,	/* checksum fine but oversized or badly run-length encoded: answer '+'
				 * and an error reply (a resend would fail again) */
};

struct gdb_parser {
	enum { GP_IDLE, GP_DATA, GP_ESC, GP_RLE, GP_CS1, GP_CS2 } st;
	uint8_t sum;		/* running sum of the raw bytes */
	uint8_t cs;		/* the checksum's first hex digit */
	bool bad;		/* oversized or malformed: report GDB_EV_BAD_PACKET at its end */
	size_t raw_len;
	size_t pkt_len;
	char pkt[GDB_PACKET_MAX + 1];
};

void gdb_parser_init(struct gdb_parser *p);
enum gdb_event gdb_parser_byte(struct gdb_parser *p, uint8_t c);
/* Feed up to len bytes, stop after the first event other than GDB_EV_NONE; *used gets the bytes
 * consumed. Returns that event (GDB_EV_NONE when all were consumed without one). */
enum gdb_event gdb_parser_feed(struct gdb_parser *p, const void *buf, size_t len, size_t *used);

/* Frame data as "$...#cs" in out: '#', '$', '}' and '*' escaped, runs of 4 or more equal bytes
 * run-length encoded when rle. out_cap must hold the framed packet; -ENOSPC if it does not (the
 * worst case is 2 * len + 4 bytes). *out_len gets the length. */
int gdb_encode(const void *data, size_t len, bool rle, char *out, size_t out_cap, size_t *out_len);

/* ---- hex ---- */

/* Two lowercase hex digits per byte into out (2 * len bytes, not NUL-terminated). */
void gdb_hex_encode(const void *bytes, size_t len, char *out);
/* hex_len digits (must be even) into hex_len / 2 bytes. -EINVAL for an odd length or a non-digit. */
int gdb_hex_decode(const char *hex, size_t hex_len, void *out);
/* A little-endian value of `bytes` bytes (1-8) as register hex, as GDB wants x86 registers. */
void gdb_hex_le(uint64_t v, unsigned bytes, char *out);
/* A hex number of 1-16 digits at *s (not past end): *s moves past it. -EINVAL if none or too long. */
int gdb_hex_u64(const char **s, const char *end, uint64_t *v);

/* ---- commands ---- */

enum gdb_cmd_kind {
	GDB_CMD_UNKNOWN,	/* not one the stub implements: reply with an empty packet */
	GDB_CMD_INVALID,	/* a known command with bad arguments: reply "E01" */
	GDB_CMD_SUPPORTED,	/* qSupported[:features] */
	GDB_CMD_HALT_REASON,	/* ? */
	GDB_CMD_READ_REGS,	/* g */
	GDB_CMD_WRITE_REGS,	/* G hex: data, data_len */
	GDB_CMD_READ_REG,	/* p n: regno */
	GDB_CMD_WRITE_REG,	/* P n=hex: regno, data, data_len */
	GDB_CMD_READ_MEM,	/* m addr,len: addr, len (<= GDB_MEM_MAX) */
	GDB_CMD_WRITE_MEM,	/* M addr,len:hex and X addr,len:binary: addr, len, data (len bytes) */
	GDB_CMD_CONTINUE,	/* c [addr]: has_addr, addr */
	GDB_CMD_STEP,		/* s [addr]: has_addr, addr */
	GDB_CMD_VCONT_QUERY,	/* vCont? */
	GDB_CMD_VCONT,		/* vCont;action[:thread]...: actions, n_actions */
	GDB_CMD_INSERT_BP,	/* Z0/Z1 addr,kind: bp, addr, kind */
	GDB_CMD_REMOVE_BP,	/* z0/z1 addr,kind */
	GDB_CMD_SET_THREAD,	/* Hg / Hc thread: h_op ('g' or 'c'), thread */
	GDB_CMD_THREADS_FIRST,	/* qfThreadInfo */
	GDB_CMD_THREADS_NEXT,	/* qsThreadInfo */
	GDB_CMD_CURRENT_THREAD,	/* qC */
	GDB_CMD_ATTACHED,	/* qAttached */
	GDB_CMD_THREAD_ALIVE,	/* T thread */
	GDB_CMD_XFER_FEATURES,	/* qXfer:features:read:annex:offset,length: annex, offset, len */
	GDB_CMD_NOACK,		/* QStartNoAckMode */
	GDB_CMD_KILL,		/* k */
	GDB_CMD_DETACH,		/* D, D;pid */
};

enum gdb_bp { GDB_BP_SW = 0, GDB_BP_HW = 1 };

/* Thread ids as GDB writes them: -1 all threads, 0 any thread, else 1..INT32_MAX (no
 * multiprocess "pPID.TID" form: the stub does not offer multiprocess+). */
#define GDB_THREAD_ALL	(-1)
#define GDB_THREAD_ANY	0

struct gdb_vcont_action {
	char action;		/* 'c', 's', 'C', 'S' or 't' */
	uint8_t signal;		/* C and S */
	int32_t thread;		/* GDB_THREAD_ALL when the action names none */
};

#define GDB_FEAT_SWBREAK	0x1u	/* the client understands swbreak stop reasons */
#define GDB_FEAT_HWBREAK	0x2u
#define GDB_FEAT_XML_I386	0x4u	/* xmlRegisters=... includes i386 */
#define GDB_FEAT_MULTIPROCESS	0x8u	/* offered by the client (the stub does not take it up) */

struct gdb_cmd {
	enum gdb_cmd_kind kind;
	uint64_t addr;		/* m/M/X/Z/z, c/s with has_addr; addr + len never wraps */
	uint32_t len;		/* m/M/X bytes; qXfer length */
	uint32_t offset;	/* qXfer offset */
	uint32_t kind_arg;	/* Z/z kind (breakpoint length: 1 for x86 int3) */
	enum gdb_bp bp;
	bool has_addr;
	char h_op;
	int32_t thread;
	unsigned regno;
	unsigned features;	/* qSupported: GDB_FEAT_* */
	const uint8_t *data;	/* G/P/M decoded into buf; X points into the packet */
	size_t data_len;
	unsigned n_actions;
	struct gdb_vcont_action actions[GDB_VCONT_MAX];
	char annex[GDB_ANNEX_MAX + 1];
	uint8_t buf[GDB_PACKET_MAX / 2];
};

/* Decode one packet (from the parser: pkt, pkt_len) into *cmd. Never fails: a packet the stub does
 * not implement is GDB_CMD_UNKNOWN, a bad one GDB_CMD_INVALID. cmd->data may point into pkt. */
void gdb_cmd_decode(const char *pkt, size_t pkt_len, struct gdb_cmd *cmd);

#endif
