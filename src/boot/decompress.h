/* Decompression of kernel payloads on the host: format detection by magic and inflation with Debian's
 * libraries into a buffer with a hard size cap. Arch-neutral; knows the formats Linux's CONFIG_KERNEL_*
 * can produce (gzip, bzip2, lzma, xz, lzo as lzop, lz4 legacy frames, zstd), nothing about kernels. */
#ifndef CKVM_BOOT_DECOMPRESS_H
#define CKVM_BOOT_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum decomp_format {
	DECOMP_UNKNOWN,
	DECOMP_GZIP,
	DECOMP_BZIP2,
	DECOMP_LZMA,
	DECOMP_XZ,
	DECOMP_LZO,
	DECOMP_LZ4,
	DECOMP_ZSTD,
	DECOMP_NR,
};

/* The largest output decomp_inflate() ever produces, whatever cap it is given. */
#define DECOMP_MAX_OUT	(1ULL << 30)

struct decomp_buf {
	uint8_t *data;		/* anonymous mapping; pages past len are untouched */
	size_t len;		/* bytes produced */
	size_t map_len;		/* size of the mapping (cap plus slack), for decomp_buf_free */
};

/* The format whose magic src starts with (lib/decompress.c's table), or DECOMP_UNKNOWN. */
enum decomp_format decomp_probe(const void *src, size_t len);
/* "gzip", "xz", ...; "unknown" for anything else. */
const char *decomp_name(enum decomp_format f);
/* The library and its Debian package, for the line that says it is missing: "libzstd (libzstd-dev)". */
const char *decomp_library(enum decomp_format f);
/* Whether this build links the library for f. */
bool decomp_supported(enum decomp_format f);

/* Inflate the first stream of format f in src[0, len) into out (zeroed first). At most cap bytes
 * (clamped to DECOMP_MAX_OUT) are produced; bytes after the end of the stream are ignored (Linux
 * appends the inflated size to most payloads). 0 or:
 *   -ENOEXEC  f is not a known format          -ENOTSUP  the library for f is not in this build
 *   -EBADMSG  corrupt or truncated stream      -EFBIG    the output would exceed cap
 *   -ENOMEM   no memory for the output or the decoder
 * On error out holds nothing to free. */
int decomp_inflate(enum decomp_format f, const void *src, size_t len, size_t cap, struct decomp_buf *out);
void decomp_buf_free(struct decomp_buf *b);

#endif
