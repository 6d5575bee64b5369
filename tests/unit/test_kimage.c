/* The default guest's real bzImage against the build's vmlinux: the payload inflated on the host must
 * hold vmlinux's loadable segments byte for byte; loaded with nokaslr, guest memory must equal them at
 * 16 MiB; loaded with KASLR, undoing the relocations must give them back. Needs the guest build
 * (guest/build.sh); run by the Linux tier (tests/linux/t_kimage.sh), a missing image is a failure. */
#include "arch/x86/boot.h"
#include "arch/x86/kaslr.h"
#include "arch/x86/layout.h"
#include "boot/decompress.h"
#include "log.h"
#include "test.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <stdlib.h>

#define MIB		(1ULL << 20)
#define RAM_LEN		(256 * MIB)

static char cache[1024];

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[1200];
	uint8_t *d = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", cache, name);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) ||
	    !(d = malloc((size_t)n)) || fread(d, 1, (size_t)n, f) != (size_t)n) {
		printf("FAIL %s: cannot read (build the default guest: guest/build.sh)\n", path);
		free(d);
		d = NULL;
	} else {
		*len = (size_t)n;
	}
	if (f)
		fclose(f);
	return d;
}

static uint8_t *bz, *vml;
static size_t bz_len, vml_len;
static struct elf_image vm;
static struct guest_mem gm;
static struct e820_table e820;
static uint8_t *ram;

/* Every PT_LOAD of vmlinux, at gpa + (p_paddr - link) in guest memory: file bytes, then zeros. */
static int guest_equals_vmlinux(uint64_t delta)
{
	Elf64_Phdr p;
	int i, ok = 1, nr = 0;
	const uint8_t *g;
	uint64_t k;

	for (i = 0; i < vm.eh.e_phnum; i++) {
		elf_phdr(&vm, i, &p);
		if (p.p_type != PT_LOAD)
			continue;
		g = gm_ptr(&gm, p.p_paddr + delta, p.p_memsz);
		if (!g)
			return 0;
		ok &= !memcmp(g, vml + p.p_offset, p.p_filesz);
		for (k = p.p_filesz; k < p.p_memsz; k++)
			ok &= !g[k];
		nr++;
	}
	return ok && nr;
}

static void test_payload_is_vmlinux(void)
{
	const struct setup_header *h = (const void *)(bz + 0x1f1);
	size_t setup_len = ((size_t)(h->setup_sects ? h->setup_sects : 4) + 1) * 512;
	const uint8_t *payload = bz + setup_len + h->payload_offset;
	struct elf_image in;
	struct decomp_buf b;
	Elf64_Phdr p, q;
	enum decomp_format f;
	uint32_t want;
	int i, j = 0, nr = 0;
	uint8_t *relocs;
	size_t relocs_len;

	CHECK(h->version >= 0x0208);
	f = decomp_probe(payload, h->payload_length);
	CHECK(f != DECOMP_UNKNOWN);
	memcpy(&want, payload + h->payload_length - 4, 4);
	CHECK_EQ(decomp_inflate(f, payload, h->payload_length, want, &b), 0);
	CHECK_EQ(b.len, want);
	printf("  real bzImage: %s payload, %u -> %zu bytes\n", decomp_name(f), h->payload_length, b.len);
	CHECK_EQ(elf_parse(&in, b.data, b.len), 0);
	CHECK_EQ(in.eh.e_entry, vm.eh.e_entry);
	for (i = 0; i < vm.eh.e_phnum; i++) {
		elf_phdr(&vm, i, &p);
		if (p.p_type != PT_LOAD)
			continue;
		do {
			elf_phdr(&in, j++, &q);
		} while (q.p_type != PT_LOAD && j < in.eh.e_phnum);
		CHECK_EQ(q.p_type, PT_LOAD);
		CHECK_EQ(q.p_paddr, p.p_paddr);
		CHECK_EQ(q.p_vaddr, p.p_vaddr);
		CHECK_EQ(q.p_filesz, p.p_filesz);
		CHECK_EQ(q.p_memsz, p.p_memsz);
		CHECK(q.p_offset + q.p_filesz <= b.len &&
		      !memcmp(b.data + q.p_offset, vml + p.p_offset, p.p_filesz));
		nr++;
	}
	CHECK(nr >= 2);
	printf("  %d PT_LOAD segments equal to vmlinux's byte for byte\n", nr);
	/* The build's own relocation table, when its objects are still there, is the payload's tail. */
	relocs = slurp("src/arch/x86/boot/compressed/vmlinux.relocs", &relocs_len);
	if (relocs) {
		CHECK(relocs_len < b.len && !memcmp(b.data + b.len - relocs_len, relocs, relocs_len));
		printf("  payload ends with the build's vmlinux.relocs (%zu bytes)\n", relocs_len);
		free(relocs);
	}
	decomp_buf_free(&b);
}

static void setup_ram(void)
{
	memset(ram, 0, RAM_LEN);
	memset(&gm, 0, sizeof(gm));
	gm_add_region(&gm, 0, RAM_LEN, ram);
	gm.ram_bytes = RAM_LEN;
	memset(&e820, 0, sizeof(e820));
	e820_add(&e820, 0, LAYOUT_EBDA_GPA, E820_RAM);
	e820_add(&e820, LAYOUT_KERNEL_GPA, RAM_LEN - LAYOUT_KERNEL_GPA, E820_RAM);
}

static void test_load_nokaslr(void)
{
	struct boot_args a = { .kernel = bz, .kernel_len = bz_len, .cmdline = "console=ttyS0 nokaslr",
			       .e820 = &e820, .host_decompress = true };
	struct boot_info bi;

	setup_ram();
	CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
	CHECK(bi.inflated != NULL);
	CHECK_EQ(bi.kernel_gpa, 0x1000000);
	CHECK_EQ(bi.entry_gpa, vm.eh.e_entry);
	CHECK_EQ(bi.virt_offset, 0);
	CHECK(guest_equals_vmlinux(0));
}

static void test_load_kaslr(void)
{
	struct boot_args a = { .kernel = bz, .kernel_len = bz_len, .cmdline = "console=ttyS0",
			       .e820 = &e820, .host_decompress = true };
	const struct setup_header *h = (const void *)(bz + 0x1f1);
	size_t setup_len = ((size_t)h->setup_sects + 1) * 512;
	const uint8_t *payload = bz + setup_len + h->payload_offset;
	struct kaslr_relocs r;
	struct decomp_buf b;
	struct boot_info bi;
	uint64_t seed, extent = 0, min_off = 0;
	Elf64_Phdr p;
	uint32_t want;
	int i, moved = 0;

	memcpy(&want, payload + h->payload_length - 4, 4);
	CHECK_EQ(decomp_inflate(decomp_probe(payload, h->payload_length), payload, h->payload_length, want, &b), 0);
	for (i = 0; i < vm.eh.e_phnum; i++) {
		elf_phdr(&vm, i, &p);
		if (p.p_type == PT_LOAD && p.p_paddr + p.p_memsz - 0x1000000 > extent)
			extent = p.p_paddr + p.p_memsz - 0x1000000;
		if (p.p_type == PT_LOAD && p.p_offset + p.p_filesz > min_off)
			min_off = p.p_offset + p.p_filesz;
	}
	CHECK_EQ(kaslr_relocs_find(b.data, b.len, (size_t)min_off, 0x1000000, extent, &r), 0);
	CHECK(r.nr64 + r.nr32 + r.nr32neg > 1000);
	printf("  relocations: %zu 64-bit, %zu inverse 32-bit, %zu 32-bit\n", r.nr64, r.nr32neg, r.nr32);
	for (seed = 1; seed <= 3; seed++) {
		setup_ram();
		a.kaslr_seed = seed * 0x9e3779b9;
		CHECK_EQ(bzimage_load(&gm, &a, &bi), 0);
		CHECK_EQ(bi.kernel_gpa & (2 * MIB - 1), 0);
		CHECK_EQ(bi.entry_gpa, bi.kernel_gpa + vm.eh.e_entry - 0x1000000);
		moved += bi.kernel_gpa != 0x1000000 || bi.virt_offset;
		if (bi.virt_offset)
			CHECK(!guest_equals_vmlinux(bi.kernel_gpa - 0x1000000));
		/* undo the relocation: vmlinux again */
		kaslr_relocate(gm_ptr(&gm, bi.kernel_gpa, extent), extent, 0x1000000, &r, (uint64_t)0 - bi.virt_offset);
		CHECK(guest_equals_vmlinux(bi.kernel_gpa - 0x1000000));
		printf("  seed %llu: kernel at 0x%llx, virtual offset 0x%llx\n", (unsigned long long)seed,
		       (unsigned long long)bi.kernel_gpa, (unsigned long long)bi.virt_offset);
	}
	CHECK(moved >= 2);
	decomp_buf_free(&b);
}

int main(void)
{
	const char *c = getenv("CKVM_CACHE");

	log_threshold = LOG_ERR;
	snprintf(cache, sizeof(cache), "%s", c && *c ? c : "/var/cache/ckvm");
	bz = slurp("bzImage", &bz_len);
	vml = slurp("vmlinux", &vml_len);
	ram = calloc(1, RAM_LEN);
	if (!bz || !vml || !ram) {
		t_fail++;
		return test_summary();
	}
	CHECK_EQ(elf_parse(&vm, vml, vml_len), 0);
	RUN(test_payload_is_vmlinux);
	RUN(test_load_nokaslr);
	RUN(test_load_kaslr);
	free(bz);
	free(vml);
	free(ram);
	return test_summary();
}
