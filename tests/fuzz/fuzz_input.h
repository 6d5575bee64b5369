/* A cursor over a fuzz input for the targets that decode it as a sequence of operations (pci,
 * loaders, config): fixed-width little-endian reads that yield zeros once the input runs out. */
#ifndef CKVM_FUZZ_INPUT_H
#define CKVM_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fz {
	const uint8_t *p;
	size_t left;
};

static inline int fz_more(const struct fz *f)
{
	return f->left != 0;
}

/* The next n bytes (0 <= n <= 8) as a little-endian number; zero bytes past the end. */
static inline uint64_t fz_uint(struct fz *f, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n && f->left; i++, f->p++, f->left--)
		v |= (uint64_t)*f->p << (8 * i);
	return v;
}

static inline uint8_t fz_u8(struct fz *f) { return (uint8_t)fz_uint(f, 1); }
static inline uint16_t fz_u16(struct fz *f) { return (uint16_t)fz_uint(f, 2); }
static inline uint32_t fz_u32(struct fz *f) { return (uint32_t)fz_uint(f, 4); }
static inline uint64_t fz_u64(struct fz *f) { return fz_uint(f, 8); }

/* Up to n bytes in place (fewer at the end of the input); *got says how many. */
static inline const uint8_t *fz_bytes(struct fz *f, size_t n, size_t *got)
{
	const uint8_t *p = f->p;

	*got = n < f->left ? n : f->left;
	f->p += *got;
	f->left -= *got;
	return p;
}

/* An access width as hardware issues them: 1, 2, 4 or 8 bytes. */
static inline uint32_t fz_width(struct fz *f)
{
	return 1u << (fz_u8(f) & 3);
}

#endif
