/* Inside the GDB stub: its state, shared by gdb_stub.c (thread, sockets, packets),
 * gdb_stub_cmd.c (commands) and gdb_stub_regs.c (the register set). Stub thread only. */
#ifndef CKVM_OSDEV_GDB_STUB_INT_H
#define CKVM_OSDEV_GDB_STUB_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vcpu_debug.h"
#include "osdev/gdb_proto.h"

struct vm;

struct gdb_sw_bp {
	uint64_t lin, gpa;
	uint8_t orig;
};

struct gdb_stub {
	struct vm *vm;
	pthread_t thread;
	bool started;
	int listen_fd, client_fd, stop_fd;
	char unix_path[108];	/* unlinked at the end; empty for TCP */
	struct gdb_parser parser;
	bool noack;
	bool running;		/* the client resumed the VM and waits for a stop reply */
	unsigned features;	/* GDB_FEAT_* the client announced */
	unsigned g_cpu, c_cpu;	/* Hg / Hc: the vCPU for registers and memory, and for c/s */
	unsigned n_sw;
	struct gdb_sw_bp sw[VM_DEBUG_SW_BPS];
	unsigned hw_mask;
	uint64_t hw_addr[VM_DEBUG_HW_BPS];
	struct gdb_cmd cmd;
	char reply[GDB_PACKET_MAX + 1];		/* unframed */
	char out[2 * GDB_PACKET_MAX + 8];	/* framed; kept for a '-' resend */
	size_t out_len;
};

/* gdb_stub.c: frame and send reply[0, len). 0 or -errno (the client is gone). */
int gdb_stub_send(struct gdb_stub *s, size_t len);
int gdb_stub_send_str(struct gdb_stub *s, const char *str);

/* gdb_stub_cmd.c: one decoded packet (s->cmd). A reply sent, or the VM resumed (s->running). */
void gdb_stub_command(struct gdb_stub *s);
/* The stop reply for the current halt into s->reply; sig: 5 (SIGTRAP) or 2 (SIGINT). */
size_t gdb_stub_stop_reply(struct gdb_stub *s, int sig);
/* Take every breakpoint out and let the VM run (detach, disconnect). */
void gdb_stub_release(struct gdb_stub *s);

/* gdb_stub_regs.c: the x86-64 register set GDB sees. */
#define GDB_NREGS 64
/* target.xml; its length in *len. */
const char *gdb_regs_target_xml(size_t *len);
/* Register n of r as little-endian hex into out (2 * size digits); returns the digits, 0 if n is
 * not a register. */
size_t gdb_regs_get(const struct vcpu_dbg_regs *r, unsigned n, char *out);
/* All registers (the g reply), returns the digits. */
size_t gdb_regs_get_all(const struct vcpu_dbg_regs *r, char *out);
/* Register n from size bytes of data: 0, -ENOENT (no such register), -EINVAL (wrong size),
 * -EPERM (read-only: segments, control registers; a write of the same value is accepted). */
int gdb_regs_set(struct vcpu_dbg_regs *r, unsigned n, const uint8_t *data, size_t len);
/* The G packet: every register, in order; -EINVAL when the length is wrong. */
int gdb_regs_set_all(struct vcpu_dbg_regs *r, const uint8_t *data, size_t len);

#endif
