/* libFuzzer target for the GDB remote protocol layer (src/osdev/gdb_proto.c, gdb_cmd.c): the input is
 * the byte stream a GDB client (or anyone reaching the stub's socket) sends, fed in chunks whose sizes
 * the input's first byte picks (and whether checksums are fixed up). Each packet is decoded and its fields checked against the bounds the
 * stub relies on; then re-encoded (with and without run-length coding) and parsed back, which must
 * give the same bytes whenever the encoded packet fits the cap. Single-threaded. */
#include <assert.h>
#include <string.h>

#include "osdev/gdb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

static void check_cmd(const struct gdb_parser *p, const struct gdb_cmd *c)
{
	const char *pkt = p->pkt;

	switch (c->kind) {
	case GDB_CMD_READ_MEM:
		assert(c->len <= GDB_MEM_MAX);
		assert(!c->len || c->addr <= UINT64_MAX - (c->len - 1));
		break;
	case GDB_CMD_WRITE_MEM:
		assert(c->len <= GDB_MEM_MAX && c->data_len == c->len);
		assert(!c->len || c->addr <= UINT64_MAX - (c->len - 1));
		/* the data lies in the decoded buffer (M) or inside the packet (X) */
		assert((c->data == c->buf && c->data_len <= sizeof(c->buf)) ||
		       ((const char *)c->data >= pkt && (const char *)c->data + c->data_len <= pkt + p->pkt_len));
		break;
	case GDB_CMD_WRITE_REGS:
	case GDB_CMD_WRITE_REG:
		assert(c->data == c->buf && c->data_len <= sizeof(c->buf));
		if (c->kind == GDB_CMD_WRITE_REG)
			assert(c->data_len >= 1 && c->data_len <= 64 && c->regno <= GDB_REGNO_MAX);
		break;
	case GDB_CMD_READ_REG:
		assert(c->regno <= GDB_REGNO_MAX);
		break;
	case GDB_CMD_VCONT:
		assert(c->n_actions >= 1 && c->n_actions <= GDB_VCONT_MAX);
		for (unsigned i = 0; i < c->n_actions; i++)
			assert(strchr("csCSt", c->actions[i].action) && c->actions[i].action &&
			       c->actions[i].thread >= GDB_THREAD_ALL);
		break;
	case GDB_CMD_INSERT_BP:
	case GDB_CMD_REMOVE_BP:
		assert(c->kind_arg >= 1 && c->kind_arg <= 16);
		assert(c->bp == GDB_BP_SW || c->bp == GDB_BP_HW);
		assert(c->addr <= UINT64_MAX - (c->kind_arg - 1));
		break;
	case GDB_CMD_SET_THREAD:
		assert(c->h_op == 'g' || c->h_op == 'c');
		/* fall through */
	case GDB_CMD_THREAD_ALIVE:
		assert(c->thread >= GDB_THREAD_ALL);
		break;
	case GDB_CMD_XFER_FEATURES:
		assert(c->annex[0] && strlen(c->annex) <= GDB_ANNEX_MAX && c->len <= GDB_MEM_MAX);
		break;
	case GDB_CMD_UNKNOWN:
	case GDB_CMD_INVALID:
		assert(!c->data && !c->data_len && !c->n_actions && !c->addr && !c->len);
		break;
	default:
		break;
	}
}

/* The packet the parser produced, encoded again, parses to the same bytes (or is refused as too
 * big when escaping pushed it past the cap). */
static void check_roundtrip(const struct gdb_parser *p, bool rle)
{
	static char wire[2 * GDB_PACKET_MAX + 4];
	static struct gdb_parser q;
	enum gdb_event last = GDB_EV_NONE;
	size_t n;

	assert(!gdb_encode(p->pkt, p->pkt_len, rle, wire, sizeof(wire), &n));
	assert(n >= 4 && wire[0] == '$' && wire[n - 3] == '#');
	for (size_t i = 1; i < n - 3; i++)
		assert(wire[i] != '#' && wire[i] != '$');
	gdb_parser_init(&q);
	for (size_t i = 0; i < n; i++) {
		enum gdb_event ev = gdb_parser_byte(&q, (uint8_t)wire[i]);

		assert(ev == GDB_EV_NONE || i == n - 1);
		last = ev;
	}
	if (n - 4 <= GDB_PACKET_MAX) {
		assert(last == GDB_EV_PACKET);
		assert(q.pkt_len == p->pkt_len && !memcmp(q.pkt, p->pkt, p->pkt_len));
	} else {
		assert(last == GDB_EV_BAD_PACKET);
	}
}

/* Random mutations nearly always break a checksum, which stops the parser at the door. With the
 * input's first byte's top bit set, the harness writes the right checksum after every '#' first. */
static void fix_checksums(uint8_t *d, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t sum = 0;
	bool in = false;

	for (size_t i = 0; i < n; i++) {
		if (d[i] == '$') {
			in = true;
			sum = 0;
		} else if (in && d[i] == '#') {
			if (i + 1 < n)
				d[i + 1] = (uint8_t)digits[sum >> 4];
			if (i + 2 < n)
				d[i + 2] = (uint8_t)digits[sum & 0xf];
			in = false;
			i += 2;
		} else if (in) {
			sum = (uint8_t)(sum + d[i]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	static struct gdb_parser p;
	static struct gdb_cmd cmd;
	static uint8_t copy[1 << 20];
	const uint8_t *data;
	size_t chunk;

	if (!size || size > sizeof(copy))
		return 0;
	chunk = 1 + in[0] % 64;
	memcpy(copy, in + 1, size - 1);
	if (in[0] & 0x80)
		fix_checksums(copy, size - 1);
	data = copy;
	size--;
	gdb_parser_init(&p);
	while (size) {
		size_t n = size < chunk ? size : chunk, used;
		enum gdb_event ev = gdb_parser_feed(&p, data, n, &used);

		assert(used >= 1 && used <= n);
		assert(ev == GDB_EV_NONE ? used == n : true);
		data += used;
		size -= used;
		assert(p.raw_len <= GDB_PACKET_MAX && p.pkt_len <= GDB_PACKET_MAX);
		if (ev == GDB_EV_BAD_PACKET)
			assert(p.pkt_len == 0);
		if (ev != GDB_EV_PACKET)
			continue;
		assert(p.pkt[p.pkt_len] == '\0');
		gdb_cmd_decode(p.pkt, p.pkt_len, &cmd);
		check_cmd(&p, &cmd);
		check_roundtrip(&p, false);
		check_roundtrip(&p, true);
	}
	return 0;
}
