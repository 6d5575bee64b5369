/* GDB remote protocol command decoder (GDB manual, "Packets", "General Query Packets", "vCont"):
 * one packet -> struct gdb_cmd with every number bounded and every hex digit checked, so the stub
 * switches on cmd->kind and never parses. Pure; runs on the GDB stub's thread. */
#include "osdev/gdb_proto.h"

#include <stddef.h>
#include <string.h>

/* A cursor over the packet's arguments. */
struct cur {
	const char *s, *end;
};

static bool cur_eat(struct cur *c, char ch)
{
	if (c->s < c->end && *c->s == ch) {
		c->s++;
		return true;
	}
	return false;
}

static bool cur_done(const struct cur *c)
{
	return c->s == c->end;
}

static bool cur_prefix(struct cur *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->s) < n || memcmp(c->s, word, n))
		return false;
	c->s += n;
	return true;
}

/* The whole rest of the packet is exactly word. */
static bool cur_is(const struct cur *c, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(c->end - c->s) == n && !memcmp(c->s, word, n);
}

static bool cur_hex(struct cur *c, uint64_t *v)
{
	return !gdb_hex_u64(&c->s, c->end, v);
}

static bool cur_hex_max(struct cur *c, uint64_t max, uint64_t *v)
{
	return cur_hex(c, v) && *v <= max;
}

/* A thread id: "-1" (all), "0" (any) or a positive hex number that fits an int32_t. */
static bool cur_thread(struct cur *c, int32_t *t)
{
	uint64_t v;

	if (cur_prefix(c, "-1")) {
		*t = GDB_THREAD_ALL;
		return true;
	}
	if (!cur_hex_max(c, INT32_MAX, &v))
		return false;
	*t = (int32_t)v;
	return true;
}

/* addr,len with [addr, addr + len) inside the 64-bit address space. */
static bool cur_range(struct cur *c, uint64_t max_len, struct gdb_cmd *cmd)
{
	uint64_t addr, len;

	if (!cur_hex(c, &addr) || !cur_eat(c, ',') || !cur_hex(c, &len))
		return false;
	if (len > max_len)
		return false;
	if (len && addr > UINT64_MAX - (len - 1))
		return false;
	cmd->addr = addr;
	cmd->len = (uint32_t)len;
	return true;
}

/* The rest of the packet as hex, decoded into cmd->buf (at most max bytes). */
static bool cur_hex_data(struct cur *c, size_t max, struct gdb_cmd *cmd)
{
	size_t n = (size_t)(c->end - c->s);

	if (n % 2 || n / 2 > max || n / 2 > sizeof(cmd->buf))
		return false;
	if (gdb_hex_decode(c->s, n, cmd->buf))
		return false;
	cmd->data = cmd->buf;
	cmd->data_len = n / 2;
	c->s = c->end;
	return true;
}

static enum gdb_cmd_kind decode_mem(struct cur *c, char op, struct gdb_cmd *cmd)
{
	uint64_t len;

	if (op == 'm') {
		uint64_t addr;

		/* A longer read is cut to GDB_MEM_MAX: GDB accepts a short m reply and asks again. */
		if (!cur_hex(c, &addr) || !cur_eat(c, ',') || !cur_hex(c, &len) || !cur_done(c))
			return GDB_CMD_INVALID;
		if (len > GDB_MEM_MAX)
			len = GDB_MEM_MAX;
		if (len && addr > UINT64_MAX - (len - 1))
			return GDB_CMD_INVALID;
		cmd->addr = addr;
		cmd->len = (uint32_t)len;
		return GDB_CMD_READ_MEM;
	}
	if (!cur_range(c, GDB_MEM_MAX, cmd) || !cur_eat(c, ':'))
		return GDB_CMD_INVALID;
	if (op == 'M') {
		if (!cur_hex_data(c, GDB_MEM_MAX, cmd) || cmd->data_len != cmd->len)
			return GDB_CMD_INVALID;
		return GDB_CMD_WRITE_MEM;
	}
	/* X: binary data, already unescaped by the packet layer. */
	if ((size_t)(c->end - c->s) != cmd->len)
		return GDB_CMD_INVALID;
	cmd->data = (const uint8_t *)c->s;
	cmd->data_len = cmd->len;
	return GDB_CMD_WRITE_MEM;
}

static enum gdb_cmd_kind decode_bp(struct cur *c, char op, struct gdb_cmd *cmd)
{
	uint64_t addr, kind;

	/* Only software (0) and hardware execution (1) breakpoints: watchpoints (2-4) get the empty
	 * "not supported" reply, so GDB says so instead of waiting for a hit that cannot come. */
	if (cur_eat(c, '0'))
		cmd->bp = GDB_BP_SW;
	else if (cur_eat(c, '1'))
		cmd->bp = GDB_BP_HW;
	else
		return GDB_CMD_UNKNOWN;
	if (!cur_eat(c, ',') || !cur_hex(c, &addr) || !cur_eat(c, ',') ||
	    !cur_hex_max(c, 16, &kind) || !kind || !cur_done(c))
		return GDB_CMD_INVALID;
	if (addr > UINT64_MAX - (kind - 1))
		return GDB_CMD_INVALID;
	cmd->addr = addr;
	cmd->kind_arg = (uint32_t)kind;
	return op == 'Z' ? GDB_CMD_INSERT_BP : GDB_CMD_REMOVE_BP;
}

static enum gdb_cmd_kind decode_vcont(struct cur *c, struct gdb_cmd *cmd)
{
	if (cur_is(c, "?"))
		return GDB_CMD_VCONT_QUERY;
	if (cur_done(c))
		return GDB_CMD_INVALID;
	while (!cur_done(c)) {
		struct gdb_vcont_action *a;
		uint64_t sig;

		if (!cur_eat(c, ';') || cur_done(c) || cmd->n_actions == GDB_VCONT_MAX)
			return GDB_CMD_INVALID;
		a = &cmd->actions[cmd->n_actions++];
		a->action = *c->s++;
		a->signal = 0;
		a->thread = GDB_THREAD_ALL;
		if (a->action == 'C' || a->action == 'S') {
			if (!cur_hex_max(c, 0xff, &sig))
				return GDB_CMD_INVALID;
			a->signal = (uint8_t)sig;
		} else if (a->action != 'c' && a->action != 's' && a->action != 't') {
			return GDB_CMD_INVALID;	/* 'r' (range step) is not offered in the vCont? reply */
		}
		if (cur_eat(c, ':') && !cur_thread(c, &a->thread))
			return GDB_CMD_INVALID;
	}
	return GDB_CMD_VCONT;
}

static void decode_features(struct cur *c, struct gdb_cmd *cmd)
{
	while (!cur_done(c)) {
		const char *semi = memchr(c->s, ';', (size_t)(c->end - c->s));
		struct cur f = { c->s, semi ? semi : c->end };

		if (cur_is(&f, "swbreak+"))
			cmd->features |= GDB_FEAT_SWBREAK;
		else if (cur_is(&f, "hwbreak+"))
			cmd->features |= GDB_FEAT_HWBREAK;
		else if (cur_is(&f, "multiprocess+"))
			cmd->features |= GDB_FEAT_MULTIPROCESS;
		else if (cur_prefix(&f, "xmlRegisters=")) {
			/* a comma-separated list of architectures */
			while (!cur_done(&f)) {
				const char *comma = memchr(f.s, ',', (size_t)(f.end - f.s));
				struct cur arch = { f.s, comma ? comma : f.end };

				if (cur_is(&arch, "i386"))
					cmd->features |= GDB_FEAT_XML_I386;
				f.s = comma ? comma + 1 : f.end;
			}
		}
		c->s = semi ? semi + 1 : c->end;
	}
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH (the "qXfer:features:read:" prefix already eaten). */
static enum gdb_cmd_kind decode_xfer(struct cur *c, struct gdb_cmd *cmd)
{
	size_t n = 0;
	uint64_t off, len;

	while (c->s < c->end && *c->s != ':') {
		char ch = *c->s++;

		if (n == GDB_ANNEX_MAX || !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
					    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return GDB_CMD_INVALID;
		cmd->annex[n++] = ch;
	}
	cmd->annex[n] = '\0';
	if (!n || !cur_eat(c, ':') || !cur_hex_max(c, UINT32_MAX, &off) || !cur_eat(c, ',') ||
	    !cur_hex(c, &len) || !cur_done(c))
		return GDB_CMD_INVALID;
	/* The reply is 'm' or 'l' and escaped binary: cut long requests as for m. */
	cmd->offset = (uint32_t)off;
	cmd->len = (uint32_t)(len > GDB_MEM_MAX ? GDB_MEM_MAX : len);
	return GDB_CMD_XFER_FEATURES;
}

static enum gdb_cmd_kind decode_query(struct cur *c, struct gdb_cmd *cmd)
{
	if (cur_is(c, "Supported"))
		return GDB_CMD_SUPPORTED;
	if (cur_prefix(c, "Supported:")) {
		decode_features(c, cmd);
		return GDB_CMD_SUPPORTED;
	}
	if (cur_is(c, "fThreadInfo"))
		return GDB_CMD_THREADS_FIRST;
	if (cur_is(c, "sThreadInfo"))
		return GDB_CMD_THREADS_NEXT;
	if (cur_is(c, "C"))
		return GDB_CMD_CURRENT_THREAD;
	if (cur_is(c, "Attached") || cur_prefix(c, "Attached:"))
		return GDB_CMD_ATTACHED;
	if (cur_prefix(c, "Xfer:features:read:"))
		return decode_xfer(c, cmd);
	return GDB_CMD_UNKNOWN;
}

static enum gdb_cmd_kind decode(struct cur *c, struct gdb_cmd *cmd)
{
	char op = *c->s++;
	uint64_t v;

	switch (op) {
	case '?': return cur_done(c) ? GDB_CMD_HALT_REASON : GDB_CMD_INVALID;
	case 'g': return cur_done(c) ? GDB_CMD_READ_REGS : GDB_CMD_INVALID;
	case 'k': return cur_done(c) ? GDB_CMD_KILL : GDB_CMD_INVALID;
	case 'G':
		return cur_hex_data(c, sizeof(cmd->buf), cmd) ? GDB_CMD_WRITE_REGS : GDB_CMD_INVALID;
	case 'p':
		if (!cur_hex_max(c, GDB_REGNO_MAX, &v) || !cur_done(c))
			return GDB_CMD_INVALID;
		cmd->regno = (unsigned)v;
		return GDB_CMD_READ_REG;
	case 'P':
		/* One register: up to 64 bytes (a ZMM register is the largest x86 has). */
		if (!cur_hex_max(c, GDB_REGNO_MAX, &v) || !cur_eat(c, '=') || !cur_hex_data(c, 64, cmd) ||
		    !cmd->data_len)
			return GDB_CMD_INVALID;
		cmd->regno = (unsigned)v;
		return GDB_CMD_WRITE_REG;
	case 'm':
	case 'M':
	case 'X':
		return decode_mem(c, op, cmd);
	case 'c':
	case 's':
		if (!cur_done(c)) {
			if (!cur_hex(c, &cmd->addr) || !cur_done(c))
				return GDB_CMD_INVALID;
			cmd->has_addr = true;
		}
		return op == 'c' ? GDB_CMD_CONTINUE : GDB_CMD_STEP;
	case 'Z':
	case 'z':
		return decode_bp(c, op, cmd);
	case 'H':
		if (!cur_eat(c, 'g') && !cur_eat(c, 'c'))
			return GDB_CMD_INVALID;
		cmd->h_op = c->s[-1];
		return cur_thread(c, &cmd->thread) && cur_done(c) ? GDB_CMD_SET_THREAD : GDB_CMD_INVALID;
	case 'T':
		return cur_thread(c, &cmd->thread) && cur_done(c) ? GDB_CMD_THREAD_ALIVE : GDB_CMD_INVALID;
	case 'D':
		if (cur_done(c))
			return GDB_CMD_DETACH;
		return cur_eat(c, ';') && cur_hex(c, &v) && cur_done(c) ? GDB_CMD_DETACH : GDB_CMD_INVALID;
	case 'v':
		if (cur_prefix(c, "Cont"))
			return decode_vcont(c, cmd);
		return GDB_CMD_UNKNOWN;
	case 'q':
		return decode_query(c, cmd);
	case 'Q':
		return cur_is(c, "StartNoAckMode") ? GDB_CMD_NOACK : GDB_CMD_UNKNOWN;
	default:
		return GDB_CMD_UNKNOWN;
	}
}

void gdb_cmd_decode(const char *pkt, size_t pkt_len, struct gdb_cmd *cmd)
{
	struct cur c = { pkt, pkt + pkt_len };
	enum gdb_cmd_kind kind;

	memset(cmd, 0, offsetof(struct gdb_cmd, buf));	/* buf is only read through data/data_len */
	if (!pkt_len) {
		cmd->kind = GDB_CMD_UNKNOWN;
		return;
	}
	kind = decode(&c, cmd);
	if (kind == GDB_CMD_INVALID || kind == GDB_CMD_UNKNOWN)
		memset(cmd, 0, offsetof(struct gdb_cmd, buf));	/* nothing half-filled */
	cmd->kind = kind;
}
