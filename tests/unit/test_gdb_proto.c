/* Unit tests for the GDB remote protocol packet layer and command decoder (src/osdev/gdb_proto.c,
 * gdb_cmd.c): framing, acks, Ctrl-C, checksums, escapes, run-length coding both ways, oversized
 * and malformed packets, hex helpers, and each command's validation. */
#include <errno.h>
#include <stdlib.h>

#include "osdev/gdb_proto.h"
#include "test.h"

static struct gdb_parser gp;
static struct gdb_cmd cmd;

/* Feed s; return the last event other than NONE (NONE if none). */
static enum gdb_event feed(const char *s, size_t n)
{
	enum gdb_event last = GDB_EV_NONE;

	for (size_t i = 0; i < n; i++) {
		enum gdb_event ev = gdb_parser_byte(&gp, (uint8_t)s[i]);

		if (ev != GDB_EV_NONE)
			last = ev;
	}
	return last;
}

#define FEED(s) feed(s, sizeof(s) - 1)

/* Frame data with a correct checksum over its raw (already encoded) bytes. */
static enum gdb_event feed_framed(const char *raw, size_t n)
{
	char tail[4];
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + (uint8_t)raw[i]);
	snprintf(tail, sizeof(tail), "#%02x", sum);
	feed("$", 1);
	feed(raw, n);
	return feed(tail, 3);
}

static void test_framing(void)
{
	gdb_parser_init(&gp);
	CHECK_EQ(FEED("$g#67"), GDB_EV_PACKET);
	CHECK_EQ(gp.pkt_len, 1);
	CHECK_STR(gp.pkt, "g");
	CHECK_EQ(FEED("+"), GDB_EV_ACK);
	CHECK_EQ(FEED("-"), GDB_EV_NAK);
	CHECK_EQ(FEED("\x03"), GDB_EV_INTERRUPT);
	CHECK_EQ(FEED("junk\r\n"), GDB_EV_NONE);	/* noise between packets */
	CHECK_EQ(FEED("$?#3F"), GDB_EV_PACKET);	/* upper-case checksum digits */
	CHECK_STR(gp.pkt, "?");
	CHECK_EQ(FEED("$#00"), GDB_EV_PACKET);	/* empty packet */
	CHECK_EQ(gp.pkt_len, 0);
	/* Ctrl-C and '+' inside a packet are data */
	CHECK_EQ(feed_framed("a\x03+b", 4), GDB_EV_PACKET);
	CHECK_EQ(gp.pkt_len, 4);
	/* a '$' mid-packet restarts: the cut-off packet is dropped */
	CHECK_EQ(FEED("$mabc$g#67"), GDB_EV_PACKET);
	CHECK_STR(gp.pkt, "g");

	/* byte-by-byte through gdb_parser_feed, stopping at the first event */
	size_t used = 0;
	const char two[] = "+$g#67$?#3f";
	CHECK_EQ(gdb_parser_feed(&gp, two, sizeof(two) - 1, &used), GDB_EV_ACK);
	CHECK_EQ(used, 1);
	CHECK_EQ(gdb_parser_feed(&gp, two + 1, sizeof(two) - 2, &used), GDB_EV_PACKET);
	CHECK_EQ(used, 5);
	CHECK_EQ(gdb_parser_feed(&gp, "$?#", 3, &used), GDB_EV_NONE);
	CHECK_EQ(used, 3);
}

static void test_checksum(void)
{
	gdb_parser_init(&gp);
	CHECK_EQ(FEED("$g#68"), GDB_EV_BAD_CHECKSUM);
	CHECK_EQ(FEED("$g#6"), GDB_EV_NONE);
	CHECK_EQ(FEED("x"), GDB_EV_BAD_CHECKSUM);
	CHECK_EQ(FEED("$g#z7"), GDB_EV_BAD_CHECKSUM);
	CHECK_EQ(FEED("7"), GDB_EV_NONE);	/* the parser is idle again: a stray digit is noise */
	CHECK_EQ(FEED("$g#67"), GDB_EV_PACKET);
}

static void test_escapes_and_rle(void)
{
	gdb_parser_init(&gp);
	/* }] = '}', }\x03 = '#', }\x04 = '$', }\x0a = '*' */
	CHECK_EQ(feed_framed("X}]}\x03}\x04}\x0a", 9), GDB_EV_PACKET);
	CHECK_EQ(gp.pkt_len, 5);
	CHECK(!memcmp(gp.pkt, "X}#$*", 5));
	/* "0* " = '0' + 3 more; "a*!" = 'a' + 4 more */
	CHECK_EQ(feed_framed("0* a*!", 6), GDB_EV_PACKET);
	CHECK_STR(gp.pkt, "0000aaaaa");
	/* a run of an escaped byte repeats the decoded byte */
	CHECK_EQ(feed_framed("}]*\"", 4), GDB_EV_PACKET);
	CHECK_STR(gp.pkt, "}}}}}}");
	/* malformed: '*' first, a count below ' ', a dangling escape or run marker */
	CHECK_EQ(feed_framed("* ", 2), GDB_EV_BAD_PACKET);
	CHECK_EQ(gp.pkt_len, 0);
	CHECK_EQ(feed_framed("a*\x1f", 3), GDB_EV_BAD_PACKET);
	CHECK_EQ(feed_framed("ab}", 3), GDB_EV_BAD_PACKET);
	CHECK_EQ(feed_framed("ab*", 3), GDB_EV_BAD_PACKET);
	CHECK_EQ(feed_framed("a*\x80", 3), GDB_EV_BAD_PACKET);
	/* and the parser is fine afterwards */
	CHECK_EQ(FEED("$g#67"), GDB_EV_PACKET);
}

static void test_oversized(void)
{
	char *big = malloc(GDB_PACKET_MAX + 2);

	gdb_parser_init(&gp);
	memset(big, 'a', GDB_PACKET_MAX + 1);
	CHECK_EQ(feed_framed(big, GDB_PACKET_MAX), GDB_EV_PACKET);	/* exactly the cap */
	CHECK_EQ(gp.pkt_len, GDB_PACKET_MAX);
	CHECK_EQ(gp.pkt[GDB_PACKET_MAX], '\0');
	CHECK_EQ(feed_framed(big, GDB_PACKET_MAX + 1), GDB_EV_BAD_PACKET);	/* raw bytes over */
	/* small on the wire, huge decoded: 100 x "a*~" = 100 x 98 bytes */
	for (int i = 0; i < 100; i++)
		memcpy(big + 3 * i, "a*~", 3);
	CHECK_EQ(feed_framed(big, 300), GDB_EV_BAD_PACKET);
	/* decoded exactly to the cap through a run: 4095 'a' + "*!" (4 more) is one over */
	memset(big, 'a', GDB_PACKET_MAX - 1);
	memcpy(big + GDB_PACKET_MAX - 1, "* ", 2);	/* 3 more: 4098 */
	CHECK_EQ(feed_framed(big, GDB_PACKET_MAX + 1), GDB_EV_BAD_PACKET);
	memcpy(big + GDB_PACKET_MAX - 4, "* ", 2);	/* 4092 'a' + 3 = 4095 decoded, 4094 raw */
	CHECK_EQ(feed_framed(big, GDB_PACKET_MAX - 2), GDB_EV_PACKET);
	CHECK_EQ(gp.pkt_len, GDB_PACKET_MAX - 1);
	/* a megabyte without '#' never grows anything; a new '$' recovers */
	memset(big, 'b', GDB_PACKET_MAX + 1);
	FEED("$");
	for (int i = 0; i < 256; i++)
		CHECK_EQ(feed(big, GDB_PACKET_MAX + 1), GDB_EV_NONE);
	CHECK(gp.raw_len <= GDB_PACKET_MAX && gp.pkt_len <= GDB_PACKET_MAX && gp.bad);
	CHECK_EQ(FEED("$g#67"), GDB_EV_PACKET);
	free(big);
}

static void test_encode(void)
{
	char out[64];
	size_t n = 0;

	CHECK_EQ(gdb_encode("OK", 2, false, out, sizeof(out), &n), 0);
	CHECK_EQ(n, 6);
	CHECK(!memcmp(out, "$OK#9a", 6));
	CHECK_EQ(gdb_encode("", 0, false, out, sizeof(out), &n), 0);
	CHECK(n == 4 && !memcmp(out, "$#00", 4));
	CHECK_EQ(gdb_encode("a#b$c}d*", 8, false, out, sizeof(out), &n), 0);
	CHECK(!memcmp(out, "$a}\x03" "b}\x04" "c}]d}\x0a#", 13));
	/* RLE: 4+ equal bytes; runs of 7 and 8 avoid the '#' and '$' count characters */
	CHECK_EQ(gdb_encode("0000", 4, true, out, sizeof(out), &n), 0);
	CHECK(!memcmp(out, "$0* #", 5));
	CHECK_EQ(gdb_encode("000", 3, true, out, sizeof(out), &n), 0);
	CHECK(!memcmp(out, "$000#", 5));
	CHECK_EQ(gdb_encode("xxxxxxx", 7, true, out, sizeof(out), &n), 0);
	CHECK(!memcmp(out, "$x*\"x#", 6));	/* 1 + 5 repeats + 1 */
	CHECK_EQ(gdb_encode("xxxxxxxx", 8, true, out, sizeof(out), &n), 0);
	CHECK(!memcmp(out, "$x*\"xx#", 7));
	for (size_t i = 0; i < n; i++)
		CHECK(out[i] != '#' || i == n - 3);
	/* too small a buffer */
	CHECK_EQ(gdb_encode("OK", 2, false, out, 5, &n), -ENOSPC);
	CHECK_EQ(gdb_encode("OK", 2, false, out, 3, &n), -ENOSPC);
}

/* Whatever the encoder writes, the parser reads back, with and without RLE. */
static void test_roundtrip(void)
{
	static uint8_t data[GDB_PACKET_MAX];
	static char wire[2 * GDB_PACKET_MAX + 8];
	size_t n;
	unsigned seed = 12345;

	for (int round = 0; round < 200; round++) {
		/* at most half the cap: escaping may double the raw size, which the cap also bounds */
		size_t len = (size_t)(round * 37 % (GDB_PACKET_MAX / 2 + 1));

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			/* long runs and the special characters are likely */
			data[i] = (seed >> 16) % 3 == 0 && i ? data[i - 1] : "#$}*a0\x03+-"[(seed >> 8) % 9];
		}
		for (int rle = 0; rle < 2; rle++) {
			gdb_parser_init(&gp);
			CHECK_EQ(gdb_encode(data, len, rle, wire, sizeof(wire), &n), 0);
			if (feed(wire, n) != GDB_EV_PACKET || gp.pkt_len != len || memcmp(gp.pkt, data, len))
				CHECK(!"round trip");
		}
	}
	CHECK(1);
}

static void test_hex(void)
{
	char out[17] = "";
	uint8_t b[4];
	uint64_t v = 0;
	const char *s;

	gdb_hex_encode("\x00\xab\xff", 3, out);
	CHECK(!memcmp(out, "00abff", 6));
	CHECK_EQ(gdb_hex_decode("00aBfF", 6, b), 0);
	CHECK(!memcmp(b, "\x00\xab\xff", 3));
	CHECK_EQ(gdb_hex_decode("abc", 3, b), -EINVAL);
	CHECK_EQ(gdb_hex_decode("zz", 2, b), -EINVAL);
	gdb_hex_le(0x1122334455667788ULL, 8, out);
	CHECK(!memcmp(out, "8877665544332211", 16));
	gdb_hex_le(0x7c00, 4, out);
	CHECK(!memcmp(out, "007c0000", 8));
	s = "ffffffffffffffff,";
	CHECK_EQ(gdb_hex_u64(&s, s + 17, &v), 0);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(*s, ',');
	s = "10000000000000000";	/* 17 digits */
	CHECK_EQ(gdb_hex_u64(&s, s + 17, &v), -EINVAL);
	s = ",";
	CHECK_EQ(gdb_hex_u64(&s, s + 1, &v), -EINVAL);
	s = "12";
	CHECK_EQ(gdb_hex_u64(&s, s + 1, &v), 0);	/* stops at end */
	CHECK_EQ(v, 1);
}

static enum gdb_cmd_kind dec(const char *pkt)
{
	gdb_cmd_decode(pkt, strlen(pkt), &cmd);
	return cmd.kind;
}

static void test_cmd_simple(void)
{
	CHECK_EQ(dec("?"), GDB_CMD_HALT_REASON);
	CHECK_EQ(dec("g"), GDB_CMD_READ_REGS);
	CHECK_EQ(dec("gx"), GDB_CMD_INVALID);
	CHECK_EQ(dec("k"), GDB_CMD_KILL);
	CHECK_EQ(dec("D"), GDB_CMD_DETACH);
	CHECK_EQ(dec("D;1"), GDB_CMD_DETACH);
	CHECK_EQ(dec("D;"), GDB_CMD_INVALID);
	CHECK_EQ(dec(""), GDB_CMD_UNKNOWN);
	CHECK_EQ(dec("vMustReplyEmpty"), GDB_CMD_UNKNOWN);
	CHECK_EQ(dec("qTStatus"), GDB_CMD_UNKNOWN);
	CHECK_EQ(dec("QStartNoAckMode"), GDB_CMD_NOACK);
	CHECK_EQ(dec("qfThreadInfo"), GDB_CMD_THREADS_FIRST);
	CHECK_EQ(dec("qsThreadInfo"), GDB_CMD_THREADS_NEXT);
	CHECK_EQ(dec("qC"), GDB_CMD_CURRENT_THREAD);
	CHECK_EQ(dec("qAttached"), GDB_CMD_ATTACHED);
	CHECK_EQ(dec("qAttached:1"), GDB_CMD_ATTACHED);
	CHECK_EQ(dec("qSupported"), GDB_CMD_SUPPORTED);
	CHECK_EQ(cmd.features, 0);
	CHECK_EQ(dec("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;"
		      "xmlRegisters=arm,i386;vContSupported+"), GDB_CMD_SUPPORTED);
	CHECK_EQ(cmd.features, GDB_FEAT_MULTIPROCESS | GDB_FEAT_SWBREAK | GDB_FEAT_HWBREAK | GDB_FEAT_XML_I386);
	CHECK_EQ(dec("qSupported:xmlRegisters=i3866"), GDB_CMD_SUPPORTED);
	CHECK_EQ(cmd.features, 0);
}

static void test_cmd_regs(void)
{
	CHECK_EQ(dec("p10"), GDB_CMD_READ_REG);
	CHECK_EQ(cmd.regno, 16);
	CHECK_EQ(dec("p"), GDB_CMD_INVALID);
	CHECK_EQ(dec("p1001"), GDB_CMD_INVALID);	/* past GDB_REGNO_MAX */
	CHECK_EQ(dec("p1,"), GDB_CMD_INVALID);
	CHECK_EQ(dec("P8=007c000000000000"), GDB_CMD_WRITE_REG);
	CHECK_EQ(cmd.regno, 8);
	CHECK_EQ(cmd.data_len, 8);
	CHECK(!memcmp(cmd.data, "\x00\x7c\0\0\0\0\0\0", 8));
	CHECK_EQ(dec("P8="), GDB_CMD_INVALID);
	CHECK_EQ(dec("P8=0"), GDB_CMD_INVALID);
	CHECK_EQ(dec("P8=zz"), GDB_CMD_INVALID);
	CHECK_EQ(dec("P8"), GDB_CMD_INVALID);
	CHECK_EQ(cmd.data, NULL);	/* nothing half-filled on failure */
	CHECK_EQ(dec("Gdeadbeef"), GDB_CMD_WRITE_REGS);
	CHECK_EQ(cmd.data_len, 4);
	CHECK_EQ(dec("Gdeadbe"), GDB_CMD_WRITE_REGS);	/* 3 bytes */
	CHECK_EQ(dec("Gdeadb"), GDB_CMD_INVALID);	/* odd */
	CHECK_EQ(dec("Gxx"), GDB_CMD_INVALID);
}

static void test_cmd_mem(void)
{
	static char pkt[GDB_PACKET_MAX + 1];
	int n;

	CHECK_EQ(dec("mffffffff81000000,40"), GDB_CMD_READ_MEM);
	CHECK_EQ(cmd.addr, 0xffffffff81000000ULL);
	CHECK_EQ(cmd.len, 0x40);
	CHECK_EQ(dec("m0,100000"), GDB_CMD_READ_MEM);	/* cut to GDB_MEM_MAX: a short reply */
	CHECK_EQ(cmd.len, GDB_MEM_MAX);
	CHECK_EQ(dec("m0,0"), GDB_CMD_READ_MEM);
	CHECK_EQ(dec("mffffffffffffffff,1"), GDB_CMD_READ_MEM);
	CHECK_EQ(dec("mffffffffffffffff,2"), GDB_CMD_INVALID);	/* wraps */
	CHECK_EQ(dec("m0,ffffffffffffffffff"), GDB_CMD_INVALID);
	CHECK_EQ(dec("m,1"), GDB_CMD_INVALID);
	CHECK_EQ(dec("m1"), GDB_CMD_INVALID);
	CHECK_EQ(dec("m1,2,"), GDB_CMD_INVALID);
	CHECK_EQ(dec("m-1,2"), GDB_CMD_INVALID);
	CHECK_EQ(dec("M1000,2:cc90"), GDB_CMD_WRITE_MEM);
	CHECK_EQ(cmd.addr, 0x1000);
	CHECK(cmd.len == 2 && cmd.data_len == 2 && !memcmp(cmd.data, "\xcc\x90", 2));
	CHECK_EQ(dec("M1000,3:cc90"), GDB_CMD_INVALID);	/* length disagrees */
	CHECK_EQ(dec("M1000,1:cc90"), GDB_CMD_INVALID);
	CHECK_EQ(dec("M1000,1:cg"), GDB_CMD_INVALID);
	CHECK_EQ(dec("M1000,1"), GDB_CMD_INVALID);
	/* X: binary, already unescaped by the packet layer, may hold any byte */
	gdb_cmd_decode("X10,3:\0#}", 9, &cmd);
	CHECK_EQ(cmd.kind, GDB_CMD_WRITE_MEM);
	CHECK(cmd.data_len == 3 && !memcmp(cmd.data, "\0#}", 3));
	CHECK_EQ(dec("X10,0:"), GDB_CMD_WRITE_MEM);	/* GDB's probe for X support */
	CHECK_EQ(dec("X10,4:abc"), GDB_CMD_INVALID);
	/* the biggest M that fits a packet; one byte more is refused */
	n = snprintf(pkt, sizeof(pkt), "M0,%x:", GDB_MEM_MAX);
	memset(pkt + n, 'a', 2 * GDB_MEM_MAX);
	pkt[n + 2 * GDB_MEM_MAX] = '\0';
	CHECK_EQ(dec(pkt), GDB_CMD_WRITE_MEM);
	CHECK_EQ(cmd.data_len, GDB_MEM_MAX);
	n = snprintf(pkt, sizeof(pkt), "M0,%x:", GDB_MEM_MAX + 1);
	memset(pkt + n, 'a', 2 * (GDB_MEM_MAX + 1));
	pkt[n + 2 * (GDB_MEM_MAX + 1)] = '\0';
	CHECK_EQ(dec(pkt), GDB_CMD_INVALID);
}

static void test_cmd_run(void)
{
	CHECK_EQ(dec("c"), GDB_CMD_CONTINUE);
	CHECK(!cmd.has_addr);
	CHECK_EQ(dec("s7c00"), GDB_CMD_STEP);
	CHECK(cmd.has_addr && cmd.addr == 0x7c00);
	CHECK_EQ(dec("cz"), GDB_CMD_INVALID);
	CHECK_EQ(dec("vCont?"), GDB_CMD_VCONT_QUERY);
	CHECK_EQ(dec("vCont;s:2;c"), GDB_CMD_VCONT);
	CHECK_EQ(cmd.n_actions, 2);
	CHECK(cmd.actions[0].action == 's' && cmd.actions[0].thread == 2);
	CHECK(cmd.actions[1].action == 'c' && cmd.actions[1].thread == GDB_THREAD_ALL);
	CHECK_EQ(dec("vCont;C05:1;S0b;t:-1"), GDB_CMD_VCONT);
	CHECK(cmd.actions[0].action == 'C' && cmd.actions[0].signal == 5 && cmd.actions[0].thread == 1);
	CHECK(cmd.actions[1].action == 'S' && cmd.actions[1].signal == 11);
	CHECK(cmd.actions[2].action == 't' && cmd.actions[2].thread == GDB_THREAD_ALL);
	CHECK_EQ(dec("vCont"), GDB_CMD_INVALID);
	CHECK_EQ(dec("vCont;"), GDB_CMD_INVALID);
	CHECK_EQ(dec("vCont;r1000,2000"), GDB_CMD_INVALID);
	CHECK_EQ(dec("vCont;C100"), GDB_CMD_INVALID);	/* signal > 0xff */
	CHECK_EQ(dec("vCont;c:"), GDB_CMD_INVALID);
	CHECK_EQ(dec("vCont;c:p1.1"), GDB_CMD_INVALID);	/* multiprocess form: not offered */
	CHECK_EQ(dec("vCont;c:80000000"), GDB_CMD_INVALID);	/* > INT32_MAX */
	char many[4 * (GDB_VCONT_MAX + 1) + 8] = "vCont";
	for (int i = 0; i < GDB_VCONT_MAX; i++)
		strcat(many, ";s:1");
	CHECK_EQ(dec(many), GDB_CMD_VCONT);
	CHECK_EQ(cmd.n_actions, GDB_VCONT_MAX);
	strcat(many, ";c");
	CHECK_EQ(dec(many), GDB_CMD_INVALID);
	CHECK_EQ(cmd.n_actions, 0);
}

static void test_cmd_bp_threads_xfer(void)
{
	CHECK_EQ(dec("Z0,ffffffff81234560,1"), GDB_CMD_INSERT_BP);
	CHECK(cmd.bp == GDB_BP_SW && cmd.addr == 0xffffffff81234560ULL && cmd.kind_arg == 1);
	CHECK_EQ(dec("z1,7c00,1"), GDB_CMD_REMOVE_BP);
	CHECK(cmd.bp == GDB_BP_HW && cmd.addr == 0x7c00);
	CHECK_EQ(dec("Z2,1000,4"), GDB_CMD_UNKNOWN);	/* watchpoints: "not supported" */
	CHECK_EQ(dec("Z4,1000,4"), GDB_CMD_UNKNOWN);
	CHECK_EQ(dec("Z0,1000"), GDB_CMD_INVALID);
	CHECK_EQ(dec("Z0,1000,0"), GDB_CMD_INVALID);
	CHECK_EQ(dec("Z0,1000,11"), GDB_CMD_INVALID);
	CHECK_EQ(dec("Z0,1000,1;X2,ab"), GDB_CMD_INVALID);	/* conditions: not offered */
	CHECK_EQ(dec("Z0,ffffffffffffffff,2"), GDB_CMD_INVALID);

	CHECK_EQ(dec("Hg1"), GDB_CMD_SET_THREAD);
	CHECK(cmd.h_op == 'g' && cmd.thread == 1);
	CHECK_EQ(dec("Hc-1"), GDB_CMD_SET_THREAD);
	CHECK(cmd.h_op == 'c' && cmd.thread == GDB_THREAD_ALL);
	CHECK_EQ(dec("Hg0"), GDB_CMD_SET_THREAD);
	CHECK_EQ(cmd.thread, GDB_THREAD_ANY);
	CHECK_EQ(dec("Hx1"), GDB_CMD_INVALID);
	CHECK_EQ(dec("Hg"), GDB_CMD_INVALID);
	CHECK_EQ(dec("Hg-2"), GDB_CMD_INVALID);
	CHECK_EQ(dec("T2"), GDB_CMD_THREAD_ALIVE);
	CHECK_EQ(cmd.thread, 2);
	CHECK_EQ(dec("T"), GDB_CMD_INVALID);

	CHECK_EQ(dec("qXfer:features:read:target.xml:0,7ef"), GDB_CMD_XFER_FEATURES);
	CHECK_STR(cmd.annex, "target.xml");
	CHECK(cmd.offset == 0 && cmd.len == 0x7ef);
	CHECK_EQ(dec("qXfer:features:read:i386-64bit.xml:1000,100000"), GDB_CMD_XFER_FEATURES);
	CHECK(cmd.offset == 0x1000 && cmd.len == GDB_MEM_MAX);
	CHECK_EQ(dec("qXfer:features:read:../etc/passwd:0,10"), GDB_CMD_INVALID);
	CHECK_EQ(dec("qXfer:features:read::0,10"), GDB_CMD_INVALID);
	CHECK_EQ(dec("qXfer:features:read:target.xml:100000000,10"), GDB_CMD_INVALID);
	CHECK_EQ(dec("qXfer:features:read:target.xml:0"), GDB_CMD_INVALID);
	CHECK_EQ(dec("qXfer:features:read:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:0,1"), GDB_CMD_INVALID);
	CHECK_EQ(dec("qXfer:auxv:read::0,10"), GDB_CMD_UNKNOWN);
}

int main(void)
{
	RUN(test_framing);
	RUN(test_checksum);
	RUN(test_escapes_and_rle);
	RUN(test_oversized);
	RUN(test_encode);
	RUN(test_roundtrip);
	RUN(test_hex);
	RUN(test_cmd_simple);
	RUN(test_cmd_regs);
	RUN(test_cmd_mem);
	RUN(test_cmd_run);
	RUN(test_cmd_bp_threads_xfer);
	return test_summary();
}
