/* Kernel payload decompression with Debian's libraries (zlib, libbz2, liblzma, liblzo2, liblz4,
 * libzstd): one small function per format, all writing into one capped anonymous mapping. The formats
 * are those Linux's scripts/Makefile.lib produces for CONFIG_KERNEL_*. Setup-time only, main thread. */
#include "boot/decompress.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>

#ifdef HAVE_ZLIB
#define ZLIB_CONST
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
#include <zstd_errors.h>
#endif

#define LZ4_LEGACY_MAGIC	0x184c2102U	/* `lz4 -l`: legacy frame */
#define LZ4_LEGACY_BLOCK	(8U << 20)	/* each legacy block inflates to at most 8 MiB */
#define OUT_SLACK		(LZ4_LEGACY_BLOCK + 4096)	/* mapped past cap: a whole lz4 block fits */
#define IN_STEP			(1U << 30)	/* zlib/libbz2 count input in unsigned int */
#define LZMA_MEMLIMIT		(1ULL << 30)

/* lzop container (lzop's own format; lib/decompress_unlzo.c reads the same). */
#define LZOP_MAGIC_LEN		9
#define LZOP_F_ADLER32_D	0x00000001U
#define LZOP_F_ADLER32_C	0x00000002U
#define LZOP_F_H_EXTRA_FIELD	0x00000040U
#define LZOP_F_CRC32_D		0x00000100U
#define LZOP_F_CRC32_C		0x00000200U
#define LZOP_F_H_FILTER		0x00000800U
#define LZOP_MAX_BLOCK		(64U << 20)

static const uint8_t lzop_magic[LZOP_MAGIC_LEN] = { 0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a };

static const struct {
	const char *name;
	const char *lib;
	uint8_t magic[6];
	uint8_t magic_len;
} formats[DECOMP_NR] = {
	[DECOMP_UNKNOWN] = { "unknown", "no library", { 0 }, 0 },
	[DECOMP_GZIP] = { "gzip", "zlib (zlib1g-dev)", { 0x1f, 0x8b }, 2 },
	[DECOMP_BZIP2] = { "bzip2", "libbz2 (libbz2-dev)", { 'B', 'Z', 'h' }, 3 },
	[DECOMP_LZMA] = { "lzma", "liblzma (liblzma-dev)", { 0x5d, 0x00, 0x00 }, 3 },
	[DECOMP_XZ] = { "xz", "liblzma (liblzma-dev)", { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6 },
	[DECOMP_LZO] = { "lzo", "liblzo2 (liblzo2-dev)", { 0x89, 'L', 'Z', 'O' }, 4 },
	[DECOMP_LZ4] = { "lz4", "liblz4 (liblz4-dev)", { 0x02, 0x21, 0x4c, 0x18 }, 4 },
	[DECOMP_ZSTD] = { "zstd", "libzstd (libzstd-dev)", { 0x28, 0xb5, 0x2f, 0xfd }, 4 },
};

/* One inflation: input, and the output mapping with room for cap + 1 bytes (one byte over the cap
 * tells "too big" from "exactly cap") plus lz4's slack. */
struct inflater {
	const uint8_t *src;
	size_t len;
	uint8_t *out;
	size_t out_len;
	size_t cap;
};

static size_t out_room(const struct inflater *z)
{
	return z->cap + 1 - z->out_len;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

enum decomp_format decomp_probe(const void *src, size_t len)
{
	int f;

	if (!src)
		return DECOMP_UNKNOWN;
	for (f = DECOMP_UNKNOWN + 1; f < DECOMP_NR; f++)
		if (len >= formats[f].magic_len && !memcmp(src, formats[f].magic, formats[f].magic_len))
			return (enum decomp_format)f;
	return DECOMP_UNKNOWN;
}

const char *decomp_name(enum decomp_format f)
{
	return (unsigned)f < DECOMP_NR ? formats[f].name : formats[DECOMP_UNKNOWN].name;
}

const char *decomp_library(enum decomp_format f)
{
	return (unsigned)f < DECOMP_NR ? formats[f].lib : formats[DECOMP_UNKNOWN].lib;
}

#ifdef HAVE_ZLIB
static int inflate_gzip(struct inflater *z)
{
	z_stream zs;
	size_t in_off = 0;
	int zr, ret;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)	/* 16: gzip wrapper only */
		return -ENOMEM;
	for (;;) {
		if (!zs.avail_in && in_off < z->len) {
			zs.next_in = z->src + in_off;
			zs.avail_in = (uInt)min_size(z->len - in_off, IN_STEP);
			in_off += zs.avail_in;
		}
		zs.next_out = z->out + z->out_len;
		zs.avail_out = (uInt)out_room(z);
		zr = inflate(&zs, Z_NO_FLUSH);
		z->out_len = (size_t)(zs.next_out - z->out);
		if (zr == Z_STREAM_END) {
			ret = 0;
			break;
		}
		if (z->out_len > z->cap) {
			ret = -EFBIG;
			break;
		}
		if (zr == Z_OK)
			continue;
		ret = zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;	/* Z_BUF_ERROR here: input ran out */
		break;
	}
	inflateEnd(&zs);
	return ret;
}
#endif

#ifdef HAVE_BZIP2
static int inflate_bzip2(struct inflater *z)
{
	bz_stream bs;
	size_t in_off = 0, before;
	int br, ret;

	memset(&bs, 0, sizeof(bs));
	if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK)
		return -ENOMEM;
	for (;;) {
		if (!bs.avail_in && in_off < z->len) {
			bs.next_in = (char *)(uintptr_t)(z->src + in_off);	/* libbz2 does not write it */
			bs.avail_in = (unsigned)min_size(z->len - in_off, IN_STEP);
			in_off += bs.avail_in;
		}
		before = z->out_len;
		bs.next_out = (char *)(z->out + z->out_len);
		bs.avail_out = (unsigned)out_room(z);
		br = BZ2_bzDecompress(&bs);
		z->out_len = (size_t)((uint8_t *)bs.next_out - z->out);
		if (br == BZ_STREAM_END) {
			ret = 0;
			break;
		}
		if (z->out_len > z->cap) {
			ret = -EFBIG;
			break;
		}
		if (br != BZ_OK) {
			ret = br == BZ_MEM_ERROR ? -ENOMEM : -EBADMSG;
			break;
		}
		if (!bs.avail_in && in_off == z->len && z->out_len == before) {
			ret = -EBADMSG;		/* input ran out before the end of the stream */
			break;
		}
	}
	BZ2_bzDecompressEnd(&bs);
	return ret;
}
#endif

#ifdef HAVE_LZMA
/* Both liblzma formats: xz (the kernel's xz_wrap.sh output) and the legacy "lzma alone" format. */
static int inflate_lzma(struct inflater *z, bool xz)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_ret lr;
	int ret;

	/* No LZMA_CONCATENATED: the stream ends where its footer does, whatever follows. */
	lr = xz ? lzma_stream_decoder(&ls, LZMA_MEMLIMIT, 0) : lzma_alone_decoder(&ls, LZMA_MEMLIMIT);
	if (lr != LZMA_OK)
		return -ENOMEM;
	ls.next_in = z->src;
	ls.avail_in = z->len;
	for (;;) {
		ls.next_out = z->out + z->out_len;
		ls.avail_out = out_room(z);
		lr = lzma_code(&ls, LZMA_FINISH);
		z->out_len = (size_t)(ls.next_out - z->out);
		if (lr == LZMA_STREAM_END) {
			ret = 0;
			break;
		}
		if (z->out_len > z->cap) {
			ret = -EFBIG;
			break;
		}
		if (lr == LZMA_OK)
			continue;
		ret = lr == LZMA_MEM_ERROR ? -ENOMEM : lr == LZMA_MEMLIMIT_ERROR ? -EFBIG : -EBADMSG;
		break;
	}
	lzma_end(&ls);
	return ret;
}
#endif

#ifdef HAVE_LZO
/* lzop file: header, then blocks "inflated length, stored length, checksums, data" up to a zero. */
static int inflate_lzo(struct inflater *z)
{
	const uint8_t *s = z->src;
	size_t p = LZOP_MAGIC_LEN, n = z->len;
	uint32_t version, flags, dst_len, src_len, sum = 0;
	lzo_uint got;
	uint8_t method;

#define NEED(k) do { if (p > n || n - p < (size_t)(k)) return -EBADMSG; } while (0)
	if (lzo_init() != LZO_E_OK)
		return -ENOMEM;
	if (n < LZOP_MAGIC_LEN || memcmp(s, lzop_magic, LZOP_MAGIC_LEN))
		return -EBADMSG;
	NEED(4);
	version = (uint32_t)s[p] << 8 | s[p + 1];
	p += 4;				/* version, library version */
	if (version >= 0x0940) {
		NEED(2);
		p += 2;			/* version needed to extract */
	}
	NEED(1);
	method = s[p++];
	if (version >= 0x0940) {
		NEED(1);
		p++;			/* level */
	}
	NEED(4);
	flags = be32(s + p);
	p += 4;
	if (flags & LZOP_F_H_FILTER) {
		NEED(4);
		p += 4;
	}
	NEED(8);
	p += 8;				/* mode, mtime low */
	if (version >= 0x0940) {
		NEED(4);
		p += 4;			/* mtime high */
	}
	NEED(1);
	p += 1 + (size_t)s[p];		/* file name */
	NEED(4);
	p += 4;				/* header checksum */
	if (flags & LZOP_F_H_EXTRA_FIELD) {
		NEED(4);
		src_len = be32(s + p);
		p += 4;
		NEED((uint64_t)src_len + 4);
		p += (size_t)src_len + 4;
	}
	if (method < 1 || method > 3)	/* LZO1X-1, LZO1X-1(15), LZO1X-999: one decoder */
		return -EBADMSG;
	for (;;) {
		NEED(4);
		dst_len = be32(s + p);
		p += 4;
		if (!dst_len)
			return 0;
		NEED(4);
		src_len = be32(s + p);
		p += 4;
		if (flags & LZOP_F_ADLER32_D) {
			NEED(4);
			sum = be32(s + p);
			p += 4;
		}
		if (flags & LZOP_F_CRC32_D)
			p += 4;
		if (src_len < dst_len)
			p += (flags & LZOP_F_ADLER32_C ? 4 : 0) + (flags & LZOP_F_CRC32_C ? 4 : 0);
		if (p > n || dst_len > LZOP_MAX_BLOCK || !src_len || src_len > dst_len)
			return -EBADMSG;
		NEED(src_len);
		if (dst_len > z->cap - z->out_len)
			return -EFBIG;
		if (src_len == dst_len) {
			memcpy(z->out + z->out_len, s + p, dst_len);	/* stored block */
		} else {
			got = dst_len;
			if (lzo1x_decompress_safe((lzo_bytep)(s + p), src_len, z->out + z->out_len, &got, NULL) != LZO_E_OK ||
			    got != dst_len)
				return -EBADMSG;
		}
		if ((flags & LZOP_F_ADLER32_D) && lzo_adler32(1, z->out + z->out_len, dst_len) != sum)
			return -EBADMSG;
		z->out_len += dst_len;
		p += src_len;
	}
#undef NEED
}
#endif

#ifdef HAVE_LZ4
/* Legacy frames: magic, then blocks "stored length (LE32), data", each inflating to <= 8 MiB. */
static int inflate_lz4(struct inflater *z)
{
	size_t p = 4, left;
	uint32_t blk;
	int got;

	if (z->len < 4 || le32(z->src) != LZ4_LEGACY_MAGIC)
		return -EBADMSG;
	while (z->len - p >= 4) {
		blk = le32(z->src + p);
		left = z->len - p - 4;
		if (blk == LZ4_LEGACY_MAGIC) {	/* another legacy frame follows */
			p += 4;
			continue;
		}
		if (!blk)
			break;
		if (blk > left) {
			if (!left)
				break;		/* the last word is the inflated size Linux appends */
			return -EBADMSG;
		}
		if (blk > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return -EBADMSG;
		/* out_len <= cap here, so OUT_SLACK leaves a whole block of room. */
		got = LZ4_decompress_safe((const char *)z->src + p + 4, (char *)z->out + z->out_len, (int)blk,
					  (int)LZ4_LEGACY_BLOCK);
		if (got < 0)
			return -EBADMSG;
		z->out_len += (size_t)got;
		if (z->out_len > z->cap)
			return -EFBIG;
		p += 4 + blk;
	}
	return 0;
}
#endif

#ifdef HAVE_ZSTD
static int inflate_zstd(struct inflater *z)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer in = { z->src, z->len, 0 };
	ZSTD_outBuffer out = { z->out, z->cap + 1, z->out_len };
	size_t r;
	int ret;

	if (!d)
		return -ENOMEM;
	for (;;) {
		r = ZSTD_decompressStream(d, &out, &in);	/* window limit: zstd's default, 128 MiB */
		z->out_len = out.pos;
		if (ZSTD_isError(r)) {
			ret = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EBADMSG;
			break;
		}
		if (!r) {
			ret = 0;	/* frame complete; anything after it is not ours */
			break;
		}
		if (out.pos > z->cap) {
			ret = -EFBIG;
			break;
		}
		if (in.pos == in.size) {
			ret = -EBADMSG;	/* the frame wants more input than there is */
			break;
		}
	}
	ZSTD_freeDCtx(d);
	return ret;
}
#endif

bool decomp_supported(enum decomp_format f)
{
	switch (f) {
#ifdef HAVE_ZLIB
	case DECOMP_GZIP: return true;
#endif
#ifdef HAVE_BZIP2
	case DECOMP_BZIP2: return true;
#endif
#ifdef HAVE_LZMA
	case DECOMP_LZMA: return true;
	case DECOMP_XZ: return true;
#endif
#ifdef HAVE_LZO
	case DECOMP_LZO: return true;
#endif
#ifdef HAVE_LZ4
	case DECOMP_LZ4: return true;
#endif
#ifdef HAVE_ZSTD
	case DECOMP_ZSTD: return true;
#endif
	default: return false;
	}
}

static int inflate_one(enum decomp_format f, struct inflater *z)
{
	switch (f) {
#ifdef HAVE_ZLIB
	case DECOMP_GZIP: return inflate_gzip(z);
#endif
#ifdef HAVE_BZIP2
	case DECOMP_BZIP2: return inflate_bzip2(z);
#endif
#ifdef HAVE_LZMA
	case DECOMP_LZMA: return inflate_lzma(z, false);
	case DECOMP_XZ: return inflate_lzma(z, true);
#endif
#ifdef HAVE_LZO
	case DECOMP_LZO: return inflate_lzo(z);
#endif
#ifdef HAVE_LZ4
	case DECOMP_LZ4: return inflate_lz4(z);
#endif
#ifdef HAVE_ZSTD
	case DECOMP_ZSTD: return inflate_zstd(z);
#endif
	default: return -ENOTSUP;
	}
}

int decomp_inflate(enum decomp_format f, const void *src, size_t len, size_t cap, struct decomp_buf *out)
{
	struct inflater z = { .src = src, .len = len };
	size_t map_len;
	void *map;
	int ret;

	memset(out, 0, sizeof(*out));
	if (f <= DECOMP_UNKNOWN || f >= DECOMP_NR)
		return -ENOEXEC;
	if (!decomp_supported(f))
		return -ENOTSUP;
	if (!src)
		return -EBADMSG;
	z.cap = min_size(cap, DECOMP_MAX_OUT);
	map_len = (z.cap + OUT_SLACK + 4095) & ~(size_t)4095;
	/* Reserved, not committed: only the pages the stream fills are ever touched. */
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	z.out = map;
	ret = inflate_one(f, &z);
	if (!ret && z.out_len > z.cap)
		ret = -EFBIG;
	if (ret) {
		munmap(map, map_len);
		return ret;
	}
	out->data = map;
	out->len = z.out_len;
	out->map_len = map_len;
	return 0;
}

void decomp_buf_free(struct decomp_buf *b)
{
	if (b->data)
		munmap(b->data, b->map_len);
	memset(b, 0, sizeof(*b));
}
