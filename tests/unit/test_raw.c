/* Raw flat-binary loader (copy + real-mode CS:IP), the format probe / dispatcher / error text,
 * and the e820 table helpers. */
#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#define MIB		(1ULL << 20)
#define RAM_LEN		(4 * MIB)

static struct guest_mem gm;
static uint8_t *ram;

static void setup_ram(uint64_t gpa, uint64_t len)
{
	memset(&gm, 0, sizeof(gm));
	free(ram);
	ram = calloc(1, len);
	gm_add_region(&gm, gpa, len, ram);
}

static void test_copy_and_csip(void)
{
	static const uint8_t code[] = { 0xfa, 0xb0, 0x41, 0xe6, 0xe9, 0xf4 };	/* cli; mov al,'A'; out; hlt */
	struct boot_args a = { .kernel = code, .kernel_len = sizeof(code), .load_gpa = 0x7c00,
			       .entry_gpa = 0x7c00 };
	struct boot_info bi;

	setup_ram(0, RAM_LEN);
	CHECK_EQ(raw_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.format, BOOT_FMT_RAW);
	CHECK_EQ(bi.mode, BOOT_ENTRY_REAL16);
	CHECK_EQ(bi.real_cs, 0);
	CHECK_EQ(bi.entry_gpa, 0x7c00);
	CHECK_EQ(bi.kernel_gpa, 0x7c00);
	CHECK_EQ(bi.kernel_end_gpa, 0x7c00 + sizeof(code));
	CHECK(!memcmp(ram + 0x7c00, code, sizeof(code)));

	/* CS is the 64 KiB segment holding the entry; CS*16 + IP reaches it with IP < 64 KiB */
	a.load_gpa = 0xf0000;
	a.entry_gpa = 0xf0003;
	CHECK_EQ(raw_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.real_cs, 0xf000);
	CHECK_EQ((uint64_t)bi.real_cs * 16 + (bi.entry_gpa - (uint64_t)bi.real_cs * 16), 0xf0003);
	CHECK(bi.entry_gpa - (uint64_t)bi.real_cs * 16 <= 0xffff);
	CHECK(!memcmp(ram + 0xf0000, code, sizeof(code)));

	a.load_gpa = 0x1fffe;	/* entry in the next segment */
	a.entry_gpa = 0x20001;
	CHECK_EQ(raw_load(&gm, &a, &bi), 0);
	CHECK_EQ(bi.real_cs, 0x2000);
	CHECK_EQ(bi.entry_gpa - (uint64_t)bi.real_cs * 16, 1);

	/* through the dispatcher */
	CHECK_EQ(boot_load(&gm, BOOT_FMT_RAW, &a, &bi), 0);
	CHECK_EQ(bi.mode, BOOT_ENTRY_REAL16);
}

static void test_rejects(void)
{
	static uint8_t blob[0x2000];
	struct boot_args a = { .kernel = blob, .kernel_len = sizeof(blob), .load_gpa = 0x100000,
			       .entry_gpa = 0x100000 };
	struct boot_info bi;

	setup_ram(0, RAM_LEN);
	CHECK_EQ(raw_load(&gm, &a, &bi), -EINVAL);	/* above 1 MiB: not reachable in real mode */
	a.load_gpa = a.entry_gpa = 0xff000;		/* image crosses 1 MiB */
	CHECK_EQ(raw_load(&gm, &a, &bi), -EINVAL);
	a.load_gpa = a.entry_gpa = UINT64_MAX - 0x10;
	CHECK_EQ(raw_load(&gm, &a, &bi), -EINVAL);
	a.load_gpa = 0x10000;
	a.entry_gpa = 0x10000 + sizeof(blob);		/* entry just past the image */
	CHECK_EQ(raw_load(&gm, &a, &bi), -EINVAL);
	a.entry_gpa = 0xfff0;				/* entry below the image */
	CHECK_EQ(raw_load(&gm, &a, &bi), -EINVAL);
	a.entry_gpa = 0x10000;
	a.kernel_len = 0;
	CHECK_EQ(raw_load(&gm, &a, &bi), -EBADMSG);
	a.kernel_len = SIZE_MAX;
	CHECK_EQ(raw_load(&gm, &a, &bi), -EINVAL);
	a.kernel_len = sizeof(blob);

	/* RAM that does not cover the load address */
	setup_ram(0x80000, 0x10000);
	CHECK_EQ(raw_load(&gm, &a, &bi), -EFBIG);
	a.load_gpa = a.entry_gpa = 0x8f000;		/* runs off the end of the region */
	CHECK_EQ(raw_load(&gm, &a, &bi), -EFBIG);
	CHECK_STR(boot_strerror(-EINVAL), "invalid load/entry address or memory map");
}

static void test_probe(void)
{
	static const char readme[] = "ckvm\n====\n\nA small KVM virtual machine monitor.\n";
	uint8_t buf[0x300] = { 0 };
	struct boot_args a = { .kernel = readme, .kernel_len = sizeof(readme) - 1 };
	struct boot_info bi;

	setup_ram(0, RAM_LEN);
	CHECK_EQ(boot_probe(readme, sizeof(readme) - 1), BOOT_FMT_UNKNOWN);
	CHECK_EQ(boot_probe(NULL, 0), BOOT_FMT_UNKNOWN);
	CHECK_EQ(boot_probe(buf, 0), BOOT_FMT_UNKNOWN);
	CHECK_EQ(boot_load(&gm, BOOT_FMT_UNKNOWN, &a, &bi), -ENOEXEC);
	CHECK_STR(boot_strerror(-ENOEXEC), "not a bzImage or ELF kernel");

	memcpy(buf, "\177ELF", 4);
	CHECK_EQ(boot_probe(buf, sizeof(buf)), BOOT_FMT_ELF);
	CHECK_EQ(boot_probe(buf, 3), BOOT_FMT_UNKNOWN);
	memset(buf, 0, sizeof(buf));
	buf[0x1fe] = 0x55;
	buf[0x1ff] = 0xaa;
	memcpy(buf + 0x202, "HdrS", 4);
	CHECK_EQ(boot_probe(buf, sizeof(buf)), BOOT_FMT_BZIMAGE);
	CHECK_EQ(boot_probe(buf, 0x205), BOOT_FMT_UNKNOWN);	/* magic cut off */
	buf[0x1fe] = 0;
	CHECK_EQ(boot_probe(buf, sizeof(buf)), BOOT_FMT_UNKNOWN);
	/* a truncated bzImage is reported as such through the dispatcher */
	buf[0x1fe] = 0x55;
	a.kernel = buf;
	a.kernel_len = sizeof(buf);
	CHECK(boot_load(&gm, BOOT_FMT_UNKNOWN, &a, &bi) < 0);
}

static void test_strerror_distinct(void)
{
	static const int errs[] = { -ENOEXEC, -EBADMSG, -EPROTONOSUPPORT, -EOPNOTSUPP, -EFBIG, -EFAULT,
				    -ENOSPC, -E2BIG, -EINVAL };
	size_t i, j;
	int ok = 1;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		for (j = 0; j < i; j++)
			ok &= strcmp(boot_strerror(errs[i]), boot_strerror(errs[j])) != 0;
	CHECK(ok);
	CHECK(boot_strerror(-ENOMEM) != NULL);
}

static void test_e820(void)
{
	struct e820_table t = { .nr = 0 };
	int i;

	CHECK_EQ(e820_check(&t), -EINVAL);
	CHECK_EQ(e820_check(NULL), -EINVAL);
	CHECK_EQ(e820_add(&t, 0, 0x9fc00, E820_RAM), 0);
	CHECK_EQ(e820_add(&t, 0x9fc00, 0x400, E820_RESERVED), 0);
	CHECK_EQ(e820_add(&t, 0x9fc00, 0x400, E820_RESERVED), -EINVAL);	/* overlap */
	CHECK_EQ(e820_add(&t, 0x100000, 0, E820_RAM), -EINVAL);
	CHECK_EQ(e820_add(&t, UINT64_MAX - 10, 100, E820_RAM), -EINVAL);
	CHECK_EQ(e820_add(&t, 0x100000, 0x100000, E820_RAM), 0);
	CHECK_EQ(e820_add(&t, 0x200000, 0x100000, E820_RAM), 0);		/* merged */
	CHECK_EQ(t.nr, 3);
	CHECK_EQ(t.e[2].size, 0x200000);
	CHECK_EQ(e820_check(&t), 0);
	CHECK_EQ(e820_ram_end(&t, 0x1000), 0x9fc00);
	CHECK_EQ(e820_ram_end(&t, 0x9fc00), 0);
	CHECK_EQ(e820_ram_end(&t, 0x2fffff), 0x300000);
	CHECK_EQ(e820_ram_end(&t, 0x300000), 0);
	for (i = 0; i < E820_TABLE_MAX; i++)
		e820_add(&t, 0x1000000 + (uint64_t)i * 0x2000, 0x1000, E820_RAM);
	CHECK_EQ(t.nr, E820_TABLE_MAX);
	CHECK_EQ(e820_add(&t, 0x8000000, 0x1000, E820_RESERVED), -ENOSPC);
	t.e[5].addr = 0;	/* out of order */
	CHECK_EQ(e820_check(&t), -EINVAL);
}

int main(void)
{
	RUN(test_copy_and_csip);
	RUN(test_rejects);
	RUN(test_probe);
	RUN(test_strerror_distinct);
	RUN(test_e820);
	free(ram);
	return test_summary();
}
