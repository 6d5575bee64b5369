/* Synthetic kernels for the host-decompression tests and fuzz seeds (see kimg_mock.h). The compressors
 * here are the test's side of each format, built on the same Debian libraries ckvm inflates with. */
#include "kimg_mock.h"

#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_BZIP2
#include <bzlib.h>
#endif
#ifdef HAVE_LZMA
#include <lzma.h>
#endif
#ifdef HAVE_LZO
#include <lzo/lzo1x.h>
#endif
#ifdef HAVE_LZ4
#include <lz4.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

#define TEXT_FOFF	0x1000
#define SHSTR_FOFF	(TEXT_FOFF + KIMG_DATA_OFF + KIMG_DATA_LEN)
static const char shstrtab[] = "\0.text\0.shstrtab";
#define SHDR_FOFF	(SHSTR_FOFF + 0x20)
#define ELF_LEN		(SHDR_FOFF + 3 * sizeof(Elf64_Shdr))

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static Elf64_Phdr load(uint64_t off, uint64_t vaddr, uint64_t filesz, uint64_t memsz, uint32_t flags)
{
	return (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = flags, .p_offset = TEXT_FOFF + off,
			     .p_vaddr = vaddr, .p_paddr = KIMG_LINK_GPA + off, .p_filesz = filesz,
			     .p_memsz = memsz, .p_align = 0x200000 };
}

int kimg_make(struct kimg *k, uint64_t bss_len, bool relocs)
{
	static const uint32_t r64[] = { (uint32_t)KIMG_VA(KIMG_R64_A), (uint32_t)KIMG_VA(KIMG_R64_B) };
	static const uint32_t r32neg[] = { (uint32_t)KIMG_VA(KIMG_R32NEG) };
	static const uint32_t r32[] = { (uint32_t)KIMG_VA(KIMG_R32_A), (uint32_t)KIMG_VA(KIMG_R32_B) };
	size_t table_len = relocs ? 4 * (3 + 2 + 1 + 2) : 0, i;
	Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			  .e_entry = KIMG_LINK_GPA + KIMG_ENTRY_OFF, .e_phoff = sizeof(Elf64_Ehdr),
			  .e_shoff = SHDR_FOFF, .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 3,
			  .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = 3, .e_shstrndx = 2 };
	Elf64_Phdr ph[3] = {
		load(0, KIMG_VA(0), KIMG_TEXT_LEN, KIMG_TEXT_LEN, PF_R | PF_X),
		load(KIMG_PCPU_OFF, 0, KIMG_PCPU_LEN, KIMG_PCPU_LEN, PF_R | PF_W),
		load(KIMG_DATA_OFF, KIMG_VA(KIMG_DATA_OFF), KIMG_DATA_LEN, KIMG_DATA_LEN + bss_len, PF_R | PF_W),
	};
	Elf64_Shdr sh[3] = {
		{ 0 },
		{ .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
		  .sh_addr = KIMG_VA(0), .sh_offset = TEXT_FOFF, .sh_size = KIMG_TEXT_LEN, .sh_addralign = 16 },
		{ .sh_name = 7, .sh_type = SHT_STRTAB, .sh_offset = SHSTR_FOFF, .sh_size = sizeof(shstrtab),
		  .sh_addralign = 1 },
	};
	uint8_t *d, *img, *t;

	memset(k, 0, sizeof(*k));
	d = calloc(1, ELF_LEN + table_len);
	if (!d)
		return -ENOMEM;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(d, &eh, sizeof(eh));
	memcpy(d + eh.e_phoff, ph, sizeof(ph));
	img = d + TEXT_FOFF;	/* the kernel as laid out in memory from KIMG_LINK_GPA */
	for (i = 0; i < KIMG_DATA_OFF + KIMG_DATA_LEN; i++)
		img[i] = (uint8_t)(i * 13 + 7);
	put64(img + KIMG_R64_A, KIMG_VA(0x40));
	put64(img + KIMG_R64_B, KIMG_VA(KIMG_DATA_OFF));
	put32(img + KIMG_R32_A, (uint32_t)KIMG_VA(0x80));
	put32(img + KIMG_R32_B, (uint32_t)KIMG_VA(0x1000));
	put32(img + KIMG_R32NEG, 0x12345678);
	memcpy(d + SHSTR_FOFF, shstrtab, sizeof(shstrtab));
	memcpy(d + SHDR_FOFF, sh, sizeof(sh));
	if (relocs) {	/* [0] 64-bit... [0] inverse 32-bit... [0] 32-bit... (relocs.c emit_relocs) */
		t = d + ELF_LEN + 4;
		for (i = 0; i < 2; i++, t += 4)
			put32(t, r64[i]);
		t += 4;
		put32(t, r32neg[0]);
		t += 8;
		for (i = 0; i < 2; i++, t += 4)
			put32(t, r32[i]);
	}
	k->data = d;
	k->len = ELF_LEN + table_len;
	k->elf_len = ELF_LEN;
	k->extent = KIMG_DATA_OFF + KIMG_DATA_LEN + bss_len;
	return 0;
}

void kimg_free(struct kimg *k)
{
	free(k->data);
	memset(k, 0, sizeof(*k));
}

#ifdef HAVE_ZLIB
static int z_gzip(const uint8_t *in, size_t len, uint8_t *out, size_t *olen)
{
	z_stream zs;
	int ok;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)*olen;
	ok = deflate(&zs, Z_FINISH) == Z_STREAM_END;
	*olen = zs.total_out;
	deflateEnd(&zs);
	return ok ? 0 : -EIO;
}
#endif

#ifdef HAVE_LZMA
static int z_lzma(const uint8_t *in, size_t len, uint8_t *out, size_t *olen, bool xz)
{
	lzma_options_lzma opt;
	lzma_filter f[3];
	lzma_stream s = LZMA_STREAM_INIT;
	size_t pos = 0;
	int ok;

	if (lzma_lzma_preset(&opt, 6))
		return -EINVAL;
	if (xz) {	/* like scripts/xz_wrap.sh: x86 BCJ then LZMA2, CRC32 */
		f[0] = (lzma_filter){ LZMA_FILTER_X86, NULL };
		f[1] = (lzma_filter){ LZMA_FILTER_LZMA2, &opt };
		f[2] = (lzma_filter){ LZMA_VLI_UNKNOWN, NULL };
		ok = lzma_stream_buffer_encode(f, LZMA_CHECK_CRC32, NULL, in, len, out, &pos, *olen) == LZMA_OK;
		*olen = pos;
		return ok ? 0 : -EIO;
	}
	if (lzma_alone_encoder(&s, &opt) != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = *olen;
	ok = lzma_code(&s, LZMA_FINISH) == LZMA_STREAM_END;
	*olen = s.total_out;
	lzma_end(&s);
	return ok ? 0 : -EIO;
}
#endif

#ifdef HAVE_LZO
/* lzop file: version 0x1030 header with an adler32 of each block's inflated data; 256 KiB blocks. */
static int z_lzo(const uint8_t *in, size_t len, uint8_t *out, size_t *olen)
{
	static const uint8_t magic[9] = { 0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a };
	static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
	uint8_t *p = out, *h;
	size_t off, n;
	lzo_uint clen;

	if (lzo_init() != LZO_E_OK)
		return -EIO;
	memcpy(p, magic, 9);
	h = p += 9;
	p[0] = 0x10; p[1] = 0x30;	/* version */
	p[2] = 0x20; p[3] = 0xa0;	/* library version */
	p[4] = 0x09; p[5] = 0x40;	/* version needed */
	p[6] = 1;			/* method: LZO1X-1 */
	p[7] = 5;			/* level */
	put_be32(p + 8, 0x03000001);	/* flags: adler32 of inflated data, OS unix */
	put_be32(p + 12, 0100644);	/* mode */
	put_be32(p + 16, 0);		/* mtime low */
	put_be32(p + 20, 0);		/* mtime high */
	p[24] = 0;			/* no file name */
	put_be32(p + 25, lzo_adler32(1, h, 25));
	p += 29;
	for (off = 0; off < len; off += n) {
		n = len - off < 256 * 1024 ? len - off : 256 * 1024;
		put_be32(p, (uint32_t)n);
		if (lzo1x_1_compress(in + off, n, p + 12, &clen, wrk) != LZO_E_OK)
			return -EIO;
		if (clen >= n) {	/* incompressible: stored */
			memcpy(p + 12, in + off, n);
			clen = n;
		}
		put_be32(p + 4, (uint32_t)clen);
		put_be32(p + 8, lzo_adler32(1, in + off, n));
		p += 12 + clen;
	}
	put_be32(p, 0);
	*olen = (size_t)(p + 4 - out);
	return 0;
}
#endif

#ifdef HAVE_LZ4
/* `lz4 -l`: legacy magic, then 8 MiB blocks each behind its little-endian compressed length. */
static int z_lz4(const uint8_t *in, size_t len, uint8_t *out, size_t *olen)
{
	uint8_t *p = out;
	size_t off, n;
	int c;

	put32(p, 0x184c2102);
	p += 4;
	for (off = 0; off < len; off += n) {
		n = len - off < (8u << 20) ? len - off : (8u << 20);
		c = LZ4_compress_default((const char *)in + off, (char *)p + 4, (int)n, LZ4_compressBound((int)n));
		if (c <= 0)
			return -EIO;
		put32(p, (uint32_t)c);
		p += 4 + c;
	}
	*olen = (size_t)(p - out);
	return 0;
}
#endif

int kimg_compress(enum decomp_format f, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	size_t cap = len + len / 8 + (64 << 10), olen = cap;
	uint8_t *o = malloc(cap + 4);
	int ret = -ENOTSUP;

	if (!o)
		return -ENOMEM;
	switch (f) {
#ifdef HAVE_ZLIB
	case DECOMP_GZIP: ret = z_gzip(in, len, o, &olen); break;
#endif
#ifdef HAVE_BZIP2
	case DECOMP_BZIP2: {
		unsigned int bl = (unsigned int)cap;

		ret = BZ2_bzBuffToBuffCompress((char *)o, &bl, (char *)(uintptr_t)in, (unsigned int)len, 9, 0, 0)
		      == BZ_OK ? 0 : -EIO;
		olen = bl;
		break;
	}
#endif
#ifdef HAVE_LZMA
	case DECOMP_LZMA: ret = z_lzma(in, len, o, &olen, false); break;
	case DECOMP_XZ: ret = z_lzma(in, len, o, &olen, true); break;
#endif
#ifdef HAVE_LZO
	case DECOMP_LZO: ret = z_lzo(in, len, o, &olen); break;
#endif
#ifdef HAVE_LZ4
	case DECOMP_LZ4: ret = z_lz4(in, len, o, &olen); break;
#endif
#ifdef HAVE_ZSTD
	case DECOMP_ZSTD: {
		ZSTD_CCtx *c = ZSTD_createCCtx();

		ret = -EIO;
		if (c && !ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1))) {
			olen = ZSTD_compress2(c, o, cap, in, len);
			ret = ZSTD_isError(olen) ? -EIO : 0;
		}
		ZSTD_freeCCtx(c);
		break;
	}
#endif
	default: break;
	}
	if (ret) {
		free(o);
		return ret;
	}
	if (f != DECOMP_GZIP) {	/* scripts/Makefile.lib size_append */
		put32(o + olen, (uint32_t)len);
		olen += 4;
	}
	*out = o;
	*out_len = olen;
	return 0;
}

int kimg_bzimage(const uint8_t *payload, size_t plen, uint8_t **img, size_t *img_len)
{
	size_t pm_len = (KIMG_PAYLOAD_OFF + plen + 15) & ~(size_t)15, len = KIMG_SETUP_LEN + pm_len, i;
	struct setup_header h;
	uint8_t *d = calloc(1, len);

	if (!d)
		return -ENOMEM;
	memset(&h, 0, sizeof(h));
	h.setup_sects = 4;
	h.syssize = (uint32_t)(pm_len / 16);	/* the file is padded to 16 bytes, as build.c does */
	h.boot_flag = 0xaa55;
	h.jump = (uint16_t)(0xeb | (0x1f1 + sizeof(h) - 0x202) << 8);
	h.header = 0x53726448;
	h.version = 0x020f;
	h.loadflags = LOADED_HIGH;
	h.initrd_addr_max = 0x7fffffff;
	h.kernel_alignment = 0x200000;
	h.relocatable_kernel = 1;
	h.min_alignment = 21;
	h.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	h.cmdline_size = 2047;
	h.payload_offset = KIMG_PAYLOAD_OFF;
	h.payload_length = (uint32_t)plen;
	h.pref_address = KIMG_LINK_GPA;
	h.init_size = 0x800000;
	memcpy(d + 0x1f1, &h, sizeof(h));
	for (i = 0; i < KIMG_PAYLOAD_OFF; i++)	/* stand-in for the decompressor's own code */
		d[KIMG_SETUP_LEN + i] = 0x90;
	memcpy(d + KIMG_SETUP_LEN + KIMG_PAYLOAD_OFF, payload, plen);
	*img = d;
	*img_len = len;
	return 0;
}

int kimg_build(enum decomp_format f, uint64_t bss_len, bool relocs, uint8_t **img, size_t *img_len)
{
	struct kimg k;
	uint8_t *z;
	size_t zlen;
	int ret;

	if ((ret = kimg_make(&k, bss_len, relocs)))
		return ret;
	ret = kimg_compress(f, k.data, k.len, &z, &zlen);
	kimg_free(&k);
	if (ret)
		return ret;
	ret = kimg_bzimage(z, zlen, img, img_len);
	free(z);
	return ret;
}

static int seed_write(const char *dir, const char *name, uint8_t mode, const uint8_t *d, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/kdecomp-%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	ok = fwrite(&mode, 1, 1, f) == 1 && fwrite(d, 1, len, f) == len;
	ok = !fclose(f) && ok;
	return ok ? 0 : -EIO;
}

int kimg_write_seeds(const char *dir)
{
	static const enum decomp_format fmts[] = { DECOMP_GZIP, DECOMP_BZIP2, DECOMP_LZMA, DECOMP_XZ,
						   DECOMP_LZO, DECOMP_LZ4, DECOMP_ZSTD };
	static const char *const names[] = { "gzip", "bzip2", "lzma", "xz", "lzo", "lz4", "zstd" };
	struct kimg k;
	uint8_t *img;
	size_t len, i;
	int ret = 0;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]) && !ret; i++) {
		if ((ret = kimg_build(fmts[i], 0x3000, true, &img, &len)))
			break;
		ret = seed_write(dir, names[i], (uint8_t)(i & 2), img, len);
		free(img);
	}
	if (!ret && !(ret = kimg_make(&k, 0x3000, true))) {
		ret = seed_write(dir, "elf-relocs", 1, k.data, k.len);
		kimg_free(&k);
	}
	if (!ret && !(ret = kimg_make(&k, 0x100000, false))) {
		ret = seed_write(dir, "elf", 3, k.data, k.len);
		kimg_free(&k);
	}
	return ret;
}
