/* GDB remote serial protocol packet layer (GDB manual, "Overview" of the Remote Protocol): framing,
 * checksums, '}' escapes and '*' run-length encoding in both directions, and the hex helpers.
 * The client is untrusted: nothing it sends can grow a buffer past GDB_PACKET_MAX.
 * Runs on the GDB stub's thread; a parser has no locks. */
#include "osdev/gdb_proto.h"

#include <errno.h>
#include <string.h>

#include "core/hexdigit.h"

#define GDB_ESCAPE	'}'
#define GDB_RLE		'*'
#define GDB_RLE_BIAS	29	/* a run-length count character is the repeat count + 29 */

_Static_assert(GDB_PACKET_MAX == 0x1000, "GDB_PACKET_SIZE_FEATURE spells GDB_PACKET_MAX in hex");

void gdb_parser_init(struct gdb_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->st = GP_IDLE;
}

static void gp_start(struct gdb_parser *p)
{
	p->st = GP_DATA;
	p->sum = 0;
	p->raw_len = 0;
	p->pkt_len = 0;
	p->bad = false;
}

static void gp_put(struct gdb_parser *p, uint8_t c, unsigned times)
{
	if (p->bad)
		return;
	if (times > GDB_PACKET_MAX - p->pkt_len) {
		p->bad = true;	/* decodes past the cap: refuse, keep reading to the checksum */
		return;
	}
	memset(p->pkt + p->pkt_len, c, times);
	p->pkt_len += times;
}

/* A raw byte inside the packet: it counts toward the checksum and the raw-size cap. */
static void gp_raw(struct gdb_parser *p, uint8_t c)
{
	p->sum = (uint8_t)(p->sum + c);
	if (p->raw_len == GDB_PACKET_MAX)
		p->bad = true;	/* raw_len stays at the cap: an endless packet overflows nothing */
	else
		p->raw_len++;
}

enum gdb_event gdb_parser_byte(struct gdb_parser *p, uint8_t c)
{
	int v;

	switch (p->st) {
	case GP_IDLE:
		if (c == '$')
			gp_start(p);
		else if (c == '+')
			return GDB_EV_ACK;
		else if (c == '-')
			return GDB_EV_NAK;
		else if (c == 0x03)
			return GDB_EV_INTERRUPT;
		return GDB_EV_NONE;	/* line noise between packets is ignored, as GDB's own stubs do */
	case GP_DATA:
	case GP_ESC:
	case GP_RLE:
		/* '$' cannot occur inside a packet (it is escaped): the previous one was cut off. */
		if (c == '$') {
			gp_start(p);
			return GDB_EV_NONE;
		}
		if (c == '#') {
			if (p->st != GP_DATA)
				p->bad = true;	/* a dangling escape or run-length marker */
			p->st = GP_CS1;
			return GDB_EV_NONE;
		}
		gp_raw(p, c);
		if (p->st == GP_ESC) {
			gp_put(p, c ^ 0x20, 1);
			p->st = GP_DATA;
		} else if (p->st == GP_RLE) {
			/* Counts are printable characters; fewer than 3 repeats are never encoded. */
			if (c < ' ' || c > '~')
				p->bad = true;
			else if (!p->bad && p->pkt_len)
				gp_put(p, (uint8_t)p->pkt[p->pkt_len - 1], (unsigned)(c - GDB_RLE_BIAS));
			p->st = GP_DATA;
		} else if (c == GDB_ESCAPE) {
			p->st = GP_ESC;
		} else if (c == GDB_RLE) {
			if (!p->pkt_len)
				p->bad = true;	/* nothing to repeat */
			p->st = GP_RLE;		/* the next byte is the count, whatever happens */
		} else {
			gp_put(p, c, 1);
		}
		return GDB_EV_NONE;
	case GP_CS1:
		v = hex_digit(c);
		if (v < 0) {
			p->st = GP_IDLE;
			return GDB_EV_BAD_CHECKSUM;
		}
		p->cs = (uint8_t)v;
		p->st = GP_CS2;
		return GDB_EV_NONE;
	case GP_CS2:
		v = hex_digit(c);
		p->st = GP_IDLE;
		if (v < 0 || (uint8_t)(p->cs << 4 | v) != p->sum)
			return GDB_EV_BAD_CHECKSUM;
		if (p->bad) {
			p->pkt_len = 0;
			p->pkt[0] = '\0';
			return GDB_EV_BAD_PACKET;
		}
		p->pkt[p->pkt_len] = '\0';
		return GDB_EV_PACKET;
	}
	return GDB_EV_NONE;
}

enum gdb_event gdb_parser_feed(struct gdb_parser *p, const void *buf, size_t len, size_t *used)
{
	const uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		enum gdb_event ev = gdb_parser_byte(p, b[i]);

		if (ev != GDB_EV_NONE) {
			*used = i + 1;
			return ev;
		}
	}
	*used = len;
	return GDB_EV_NONE;
}

static bool needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == GDB_ESCAPE || c == GDB_RLE;
}

int gdb_encode(const void *data, size_t len, bool rle, char *out, size_t out_cap, size_t *out_len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *d = data;
	size_t o = 0, i = 0;
	uint8_t sum = 0;

	if (out_cap < 4)
		return -ENOSPC;
	out[o++] = '$';
	while (i < len) {
		uint8_t c = d[i++];
		size_t run = 0;

		/* Each step writes at most 3 bytes; keep 3 more for "#cs". */
		if (out_cap - o < 6)
			return -ENOSPC;
		if (needs_escape(c)) {
			out[o++] = GDB_ESCAPE;
			out[o++] = (char)(c ^ 0x20);
			sum = (uint8_t)(sum + GDB_ESCAPE + (c ^ 0x20));
			continue;	/* escaped bytes are not run-length encoded: keeps decoders simple */
		}
		out[o++] = (char)c;
		sum = (uint8_t)(sum + c);
		while (rle && i + run < len && d[i + run] == c && run < '~' - GDB_RLE_BIAS)
			run++;
		if (run == 6 || run == 7)
			run = 5;	/* counts 6 and 7 would be '#' and '$' */
		if (run >= 3) {
			out[o++] = GDB_RLE;
			out[o++] = (char)(run + GDB_RLE_BIAS);
			sum = (uint8_t)(sum + GDB_RLE + run + GDB_RLE_BIAS);
			i += run;
		}
	}
	if (out_cap - o < 3)
		return -ENOSPC;
	out[o++] = '#';
	out[o++] = digits[sum >> 4];
	out[o++] = digits[sum & 0xf];
	*out_len = o;
	return 0;
}

void gdb_hex_encode(const void *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = bytes;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
}

int gdb_hex_decode(const char *hex, size_t hex_len, void *out)
{
	uint8_t *o = out;

	if (hex_len % 2)
		return -EINVAL;
	for (size_t i = 0; i < hex_len; i += 2) {
		int hi = hex_digit((unsigned char)hex[i]), lo = hex_digit((unsigned char)hex[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		o[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void gdb_hex_le(uint64_t v, unsigned bytes, char *out)
{
	uint8_t b[8];

	if (bytes > 8)
		bytes = 8;
	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	gdb_hex_encode(b, bytes, out);
}

int gdb_hex_u64(const char **s, const char *end, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int d;

	while (p < end && (d = hex_digit((unsigned char)*p)) >= 0) {
		if (p - *s >= 16)
			return -EINVAL;	/* more than 64 bits */
		x = x << 4 | (uint64_t)d;
		p++;
	}
	if (p == *s)
		return -EINVAL;
	*s = p;
	*v = x;
	return 0;
}
