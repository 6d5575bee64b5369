/* Unit tests for the GDB stub's pure parts: the guest page-table walk (src/osdev/gdb_stub_mmu.c) on
 * fake guest memory — paging off, 32-bit paging with 4 KiB and 4 MiB pages, PAE, 4-level with
 * 4 KiB, 2 MiB and 1 GiB pages, 5-level, non-present entries, non-canonical addresses and hostile
 * entries pointing outside RAM — the register set (gdb_stub_regs.c) and the --gdb value. */
#include <errno.h>
#include <stdlib.h>

#include "core/guest_mem.h"
#include "osdev/gdb_stub.h"
#include "osdev/gdb_stub_int.h"
#include "osdev/gdb_stub_mmu.h"
#include "test.h"

#define RAM_LEN	(4u << 20)	/* fake RAM at guest physical 0 */
#define P	1ull
#define RW	2ull
#define PS	(1ull << 7)
#define CR0_PG	(1ull << 31)
#define CR4_PSE	(1ull << 4)
#define CR4_PAE	(1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)

static struct guest_mem gm;
static uint8_t *ram;

static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }
static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }

static void setup(void)
{
	memset(&gm, 0, sizeof(gm));
	ram = calloc(1, RAM_LEN);
	gm_add_region(&gm, 0, RAM_LEN, ram);
}

/* translate lin; -errno or the physical address */
static int xl(const struct gdb_mmu_mode *m, uint64_t lin, uint64_t *gpa, uint64_t *left)
{
	return gdb_mmu_translate(&gm, m, lin, gpa, left);
}

static void test_paging_off(void)
{
	struct gdb_mmu_mode m = { .cr0 = 0x10 };
	uint64_t gpa, left;

	CHECK_EQ(xl(&m, 0x1234, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x1234);
	CHECK_EQ(left, 0x1000 - 0x234);
}

static void test_32bit(void)
{
	struct gdb_mmu_mode m = { .cr0 = CR0_PG | 1, .cr3 = 0x10000, .cr4 = CR4_PSE };
	uint64_t gpa, left;

	memset(ram, 0, RAM_LEN);
	/* 0x00401000 -> PDE 1 -> table 0x11000, PTE 1 -> 0x200000 */
	put32(0x10000 + 1 * 4, 0x11000 | P | RW);
	put32(0x11000 + 1 * 4, 0x200000 | P);
	CHECK_EQ(xl(&m, 0x00401abc, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x200abc);
	CHECK_EQ(left, 0x1000 - 0xabc);
	/* 4 MiB page: PDE 0x300 (0xc0000000) -> 0x000000 with PSE-36 bits 0 */
	put32(0x10000 + 0x300 * 4, 0x00000000 | P | PS);
	CHECK_EQ(xl(&m, 0xc0123456, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x123456);
	CHECK_EQ(left, 0x400000 - 0x123456);
	/* ... but without CR4.PSE, PS is ignored: the PDE is a table at 0 */
	m.cr4 = 0;
	CHECK_EQ(xl(&m, 0xc0000000, &gpa, &left), -EFAULT);	/* entry 0 of "table" 0 is empty */
	m.cr4 = CR4_PSE;
	/* non-present PTE */
	CHECK_EQ(xl(&m, 0x00402000, &gpa, &left), -EFAULT);
	/* hostile: a PDE pointing at a table outside RAM */
	put32(0x10000 + 2 * 4, 0xfff00000 | P);
	CHECK_EQ(xl(&m, 0x00800000, &gpa, &left), -EFAULT);
	/* hostile: CR3 itself outside RAM */
	m.cr3 = 0xfffff000;
	CHECK_EQ(xl(&m, 0x00401000, &gpa, &left), -EFAULT);
}

static void test_pae(void)
{
	struct gdb_mmu_mode m = { .cr0 = CR0_PG | 1, .cr3 = 0x20000, .cr4 = CR4_PAE };
	uint64_t gpa, left;

	memset(ram, 0, RAM_LEN);
	put64(0x20000 + 3 * 8, 0x21000 | P);		/* PDPTE 3: 0xc0000000-0xffffffff */
	put64(0x21000 + 0 * 8, 0x200000 | P | PS);	/* 2 MiB page */
	put64(0x21000 + 1 * 8, 0x22000 | P);
	put64(0x22000 + 5 * 8, 0x345000 | P);
	CHECK_EQ(xl(&m, 0xc0012345, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x212345);
	CHECK_EQ(left, 0x200000 - 0x12345);
	CHECK_EQ(xl(&m, 0xc0205678, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x345678);
	CHECK_EQ(xl(&m, 0x40000000, &gpa, &left), -EFAULT);	/* PDPTE 1 not present */
}

static void test_4level(void)
{
	struct gdb_mmu_mode m = { .cr0 = CR0_PG | 1, .cr3 = 0x30000, .cr4 = CR4_PAE, .efer = EFER_LMA | 0x100 };
	uint64_t gpa, left, kern = 0xffffffff80000000ull;

	memset(ram, 0, RAM_LEN);
	/* low: PML4 0 -> PDPT 0x31000; PDPT 0 -> 1 GiB page at 0 */
	put64(0x30000, 0x31000 | P | RW);
	put64(0x31000, 0x0 | P | PS);
	CHECK_EQ(xl(&m, 0x3456789, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x3456789);
	CHECK_EQ(left, 0x40000000 - 0x3456789);
	/* kernel: PML4 511 -> PDPT 0x32000; PDPT 510 -> PD 0x33000; PD 0 2 MiB, PD 1 -> PT 0x34000 */
	put64(0x30000 + 511 * 8, 0x32000 | P);
	put64(0x32000 + 510 * 8, 0x33000 | P);
	put64(0x33000 + 0 * 8, 0x200000 | P | PS);
	put64(0x33000 + 1 * 8, 0x34000 | P);
	put64(0x34000 + 3 * 8, 0x1ff000 | P | (1ull << 63));	/* NX is no matter to a debugger */
	CHECK_EQ(xl(&m, kern + 0x1234, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x201234);
	CHECK_EQ(xl(&m, kern + 0x203010, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x1ff010);
	CHECK_EQ(left, 0x1000 - 0x10);
	/* not present at each level */
	CHECK_EQ(xl(&m, kern + 0x204000, &gpa, &left), -EFAULT);		/* PTE */
	CHECK_EQ(xl(&m, kern + 0x400000, &gpa, &left), -EFAULT);		/* PDE */
	CHECK_EQ(xl(&m, 0xffffffffc0000000ull, &gpa, &left), -EFAULT);	/* PDPTE 511 */
	CHECK_EQ(xl(&m, 0x0000008000000000ull, &gpa, &left), -EFAULT);	/* PML4E 1 */
	/* non-canonical */
	CHECK_EQ(xl(&m, 0x0000800000000000ull, &gpa, &left), -EFAULT);
	CHECK_EQ(xl(&m, 0x8000000000000000ull, &gpa, &left), -EFAULT);
	/* PS at the PML4 level is reserved: a fault, not a 512 GiB page */
	put64(0x30000 + 2 * 8, 0x0 | P | PS);
	CHECK_EQ(xl(&m, 0x0000010000000000ull, &gpa, &left), -EFAULT);
	/* hostile: entries pointing past RAM, and at the last bytes of RAM */
	put64(0x30000 + 3 * 8, 0x000ffffffffff000ull | P);
	CHECK_EQ(xl(&m, 0x0000018000000000ull, &gpa, &left), -EFAULT);
	put64(0x30000 + 4 * 8, (RAM_LEN - 0x1000) | P);	/* a table in RAM's last page: entry 0 */
	CHECK_EQ(xl(&m, 0x0000020000000000ull, &gpa, &left), -EFAULT);	/* it is zero: not present */
	/* a 1 GiB page past RAM translates (the walk does not care); the access then fails in gm_read */
	put64(0x31000 + 1 * 8, 0x7fc0000000ull | P | PS);
	CHECK_EQ(xl(&m, 0x40000010, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x7fc0000010ull);
	{
		uint8_t b;

		CHECK_EQ(gm_read(&gm, &b, gpa, 1), -EFAULT);
	}
	/* a self-referencing PML4 (a recursive mapping) walks four levels and ends, no loop */
	put64(0x30000 + 5 * 8, 0x30000 | P);
	CHECK_EQ(xl(&m, 0x0000028000000000ull + (5ull << 30) + (5ull << 21) + (5ull << 12), &gpa, &left), 0);
	CHECK_EQ(gpa, 0x30000);
}

static void test_5level(void)
{
	struct gdb_mmu_mode m = { .cr0 = CR0_PG | 1, .cr3 = 0x40000, .cr4 = CR4_PAE | CR4_LA57,
				  .efer = EFER_LMA };
	uint64_t gpa, left;

	memset(ram, 0, RAM_LEN);
	put64(0x40000 + 1 * 8, 0x41000 | P);	/* PML5 1 */
	put64(0x41000 + 0 * 8, 0x42000 | P);	/* PML4 0 */
	put64(0x42000 + 0 * 8, 0x0 | P | PS);	/* 1 GiB at 0 */
	CHECK_EQ(xl(&m, (1ull << 48) + 0x1234, &gpa, &left), 0);
	CHECK_EQ(gpa, 0x1234);
	/* canonical under 4-level is not under 5-level, and the reverse */
	CHECK_EQ(xl(&m, 0x0100000000000000ull, &gpa, &left), -EFAULT);
}

static void test_regs(void)
{
	struct vcpu_dbg_regs r = { 0 }, r2;
	char hex[2 * 1024];
	uint8_t v[8] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	size_t len, n;
	const char *xml = gdb_regs_target_xml(&len);

	r.gpr[0] = 0x1122334455667788ull;
	r.rip = 0xffffffff81000000ull;
	r.rflags = 0x246;
	r.sel[0] = 0x10;
	r.cr3 = 0x1000;
	CHECK_EQ(gdb_regs_get(&r, 0, hex), 16);
	CHECK(!memcmp(hex, "8877665544332211", 16));
	CHECK_EQ(gdb_regs_get(&r, 17, hex), 8);		/* eflags: 32 bits */
	CHECK(!memcmp(hex, "46020000", 8));
	CHECK_EQ(gdb_regs_get(&r, 18, hex), 8);		/* cs */
	CHECK(!memcmp(hex, "10000000", 8));
	CHECK_EQ(gdb_regs_get(&r, 24, hex), 20);	/* st0: 80 bits */
	CHECK_EQ(gdb_regs_get(&r, 40, hex), 32);	/* xmm0 */
	CHECK_EQ(gdb_regs_get(&r, 61, hex), 16);	/* cr3 */
	CHECK(!memcmp(hex, "0010000000000000", 16));
	CHECK_EQ(gdb_regs_get(&r, GDB_NREGS, hex), 0);
	n = gdb_regs_get_all(&r, hex);
	CHECK_EQ(n, 2 * (16 * 8 + 8 + 4 + 6 * 4 + 8 * 10 + 8 * 4 + 16 * 16 + 4 + 7 * 8));
	/* writes */
	r2 = r;
	CHECK_EQ(gdb_regs_set(&r2, 1, v, 8), 0);
	CHECK_EQ(r2.gpr[1], 0x1122334455667788ull);
	CHECK_EQ(gdb_regs_set(&r2, 1, v, 4), -EINVAL);
	CHECK_EQ(gdb_regs_set(&r2, 18, v, 4), -EPERM);		/* cs: read-only */
	CHECK_EQ(gdb_regs_set(&r2, 18, (const uint8_t *)"\x10\0\0\0", 4), 0);	/* same value */
	CHECK_EQ(gdb_regs_set(&r2, 61, v, 8), -EPERM);		/* cr3 */
	CHECK_EQ(gdb_regs_set(&r2, 500, v, 8), -ENOENT);
	CHECK_EQ(gdb_regs_set(&r2, 17, (const uint8_t *)"\x02\x01\0\0", 4), 0);
	CHECK_EQ(r2.rflags, 0x102);
	/* G: the g reply written back is accepted; one byte short is not */
	{
		uint8_t all[1024];
		size_t bytes = n / 2;

		CHECK_EQ(gdb_hex_decode(hex, n, all), 0);
		r2 = r;
		CHECK_EQ(gdb_regs_set_all(&r2, all, bytes), 0);
		CHECK_EQ(r2.gpr[0], r.gpr[0]);
		CHECK_EQ(gdb_regs_set_all(&r2, all, bytes - 1), -EINVAL);
		all[16 * 8 + 8 + 4 + 4] ^= 1;	/* ss (after rax-r15, rip, eflags, cs): read-only */
		CHECK_EQ(gdb_regs_set_all(&r2, all, bytes), -EPERM);
	}
	/* target.xml: complete, x86-64, every register once */
	CHECK(len > 100 && len < 8191);
	CHECK(strstr(xml, "<architecture>i386:x86-64</architecture>") != NULL);
	CHECK(strstr(xml, "org.gnu.gdb.i386.core") && strstr(xml, "org.gnu.gdb.i386.sse"));
	CHECK(strstr(xml, "name=\"rip\"") && strstr(xml, "name=\"xmm15\"") && strstr(xml, "name=\"cr3\""));
	CHECK(!strcmp(xml + len - 19, "</feature></target>"));
	n = 0;
	for (const char *p = xml; (p = strstr(p, "<reg ")); p++)
		n++;
	CHECK_EQ(n, GDB_NREGS);
}

static void test_spec(void)
{
	struct gdb_spec sp;
	char err[256];

	CHECK_EQ(gdb_spec_parse("tcp:127.0.0.1:1234", &sp, err, sizeof(err)), 0);
	CHECK(!sp.is_unix && sp.in.sin_port == htons(1234));
	CHECK_EQ(gdb_spec_parse("unix:/tmp/x.sock", &sp, err, sizeof(err)), 0);
	CHECK(sp.is_unix && !strcmp(sp.un.sun_path, "/tmp/x.sock"));
	CHECK_EQ(gdb_spec_parse("tcp:127.0.0.1:0", &sp, err, sizeof(err)), -EINVAL);
	CHECK_EQ(gdb_spec_parse("tcp:127.0.0.1:65536", &sp, err, sizeof(err)), -EINVAL);
	CHECK_EQ(gdb_spec_parse("tcp:127.0.0.1:+12", &sp, err, sizeof(err)), -EINVAL);
	CHECK_EQ(gdb_spec_parse("tcp:localhost:1234", &sp, err, sizeof(err)), -EINVAL);
	CHECK_EQ(gdb_spec_parse("tcp:1234", &sp, err, sizeof(err)), -EINVAL);
	CHECK_EQ(gdb_spec_parse("unix:", &sp, err, sizeof(err)), -EINVAL);
	CHECK_EQ(gdb_spec_parse("1234", &sp, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "tcp:ADDR:PORT or unix:PATH") != NULL);
	memset(err, 'a', 200);
	err[200] = '\0';
	{
		char path[210] = "unix:";

		strcat(path, err);
		CHECK_EQ(gdb_spec_parse(path, &sp, err, sizeof(err)), -EINVAL);
	}
}

int main(void)
{
	setup();
	RUN(test_paging_off);
	RUN(test_32bit);
	RUN(test_pae);
	RUN(test_4level);
	RUN(test_5level);
	RUN(test_regs);
	RUN(test_spec);
	free(ram);
	return test_summary();
}
