/* AML byte-code emitter for the DSDT: names, scopes, devices, methods, packages, buffers, integers and
 * resource templates (ACPI 6.x 20.2 "AML Grammar Definition", 6.4 "Resource Data Types for ACPI").
 * Setup-time only, main thread. */
#include "arch/x86/aml.h"

#include <errno.h>
#include <string.h>

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

int aml_finish(const struct aml *a)
{
	if (a->err)
		return a->err;
	return a->depth ? -EINVAL : 0;
}

static void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];
	unsigned i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

int aml_pkglen_encode(uint32_t pkglen, uint8_t out[4])
{
	int n, i;

	if (pkglen < 0x40) {
		out[0] = (uint8_t)pkglen;
		return 1;
	}
	if (pkglen < (1u << 12))
		n = 2;
	else if (pkglen < (1u << 20))
		n = 3;
	else if (pkglen < (1u << 28))
		n = 4;
	else
		return 0;
	/* Lead byte: count of following bytes in bits 7-6, low nibble of the length in bits 3-0. */
	out[0] = (uint8_t)(((n - 1) << 6) | (pkglen & 0xf));
	for (i = 1; i < n; i++)
		out[i] = (uint8_t)(pkglen >> (4 + 8 * (i - 1)));
	return n;
}

/* Mark where a PkgLength goes; the body follows and aml_close() inserts the length in front of it. */
static void aml_open(struct aml *a)
{
	if (a->err)
		return;
	if (a->depth >= AML_MAX_DEPTH) {
		aml_fail(a, -E2BIG);
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_close(struct aml *a)
{
	size_t start, body;
	uint8_t enc[4];
	int n;

	if (a->err)
		return;
	if (!a->depth) {
		aml_fail(a, -EINVAL);
		return;
	}
	start = a->open[--a->depth];
	body = a->len - start;
	/* The encoded length counts its own bytes; pick the smallest encoding that can hold it. */
	for (n = 1; n <= 4; n++)
		if (body + (size_t)n < (n == 1 ? 0x40u : 1u << (4 + 8 * (n - 1))))
			break;
	if (n > 4 || aml_pkglen_encode((uint32_t)(body + (size_t)n), enc) != n) {
		aml_fail(a, -E2BIG);
		return;
	}
	if ((size_t)n > a->cap - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + start + n, a->buf + start, body);
	memcpy(a->buf + start, enc, (size_t)n);
	a->len += (size_t)n;
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, AML_ZERO_OP);
	else if (v == 1)
		aml_byte(a, AML_ONE_OP);
	else if (v == UINT64_MAX)
		aml_byte(a, AML_ONES_OP);
	else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	const char *c;

	for (c = s; *c; c++)
		if ((unsigned char)*c < 0x01 || (unsigned char)*c > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int aml_seg_char_ok(char c, int first)
{
	if ((c >= 'A' && c <= 'Z') || c == '_')
		return 1;
	return !first && c >= '0' && c <= '9';
}

void aml_namestring(struct aml *a, const char *path)
{
	const char *p = path, *seg;
	uint8_t segs[255][4];
	int nseg = 0, i, n;

	if (*p == '\\')
		aml_byte(a, AML_ROOT_CHAR), p++;
	else
		while (*p == '^')
			aml_byte(a, AML_PARENT_PREFIX), p++;
	while (*p) {
		seg = p;
		for (n = 0; p[n] && p[n] != '.'; n++)
			if (n >= 4 || !aml_seg_char_ok(p[n], n == 0))
				goto bad;
		if (n == 0 || nseg >= 255)
			goto bad;
		for (i = 0; i < 4; i++)
			segs[nseg][i] = (uint8_t)(i < n ? seg[i] : '_');
		nseg++;
		p += n;
		if (*p == '.' && !*++p)
			goto bad;
	}
	if (nseg == 0) {
		aml_byte(a, AML_ZERO_OP);	/* NullName */
		return;
	}
	if (nseg == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nseg);
	}
	aml_bytes(a, segs, (size_t)nseg * 4);
	return;
bad:
	aml_fail(a, -EINVAL);
}

static int aml_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint32_t aml_eisaid(const char *id)
{
	uint32_t mfg = 0, prod = 0, v;
	int i, h;

	if (strlen(id) != 7)
		return 0;
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		mfg = (mfg << 5) | (uint32_t)(id[i] - '@');
	}
	for (i = 3; i < 7; i++) {
		h = aml_hexval(id[i]);
		if (h < 0)
			return 0;
		prod = (prod << 4) | (uint32_t)h;
	}
	/* Big-endian in memory: two compressed-manufacturer bytes then two product bytes. */
	v = (mfg >> 8) | (mfg & 0xff) << 8 | (prod >> 8) << 16 | (prod & 0xff) << 24;
	return v;
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, path);
}

void aml_name_integer(struct aml *a, const char *path, uint64_t v)
{
	aml_name(a, path);
	aml_integer(a, v);
}

void aml_name_eisaid(struct aml *a, const char *path, const char *id)
{
	uint32_t v = aml_eisaid(id);

	if (!v) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_name(a, path);
	aml_byte(a, AML_DWORD_PREFIX);	/* EisaId() is always a DWord constant */
	aml_le(a, v, 4);
}

void aml_scope_open(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_open(a);
	aml_namestring(a, path);
}

void aml_device_open(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_open(a);
	aml_namestring(a, path);
}

void aml_method_open(struct aml *a, const char *path, unsigned nargs, int serialized)
{
	if (nargs > 7) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, AML_METHOD_OP);
	aml_open(a);
	aml_namestring(a, path);
	aml_byte(a, (uint8_t)(nargs | (serialized ? 0x08 : 0)));
}

void aml_package_open(struct aml *a, unsigned nelems)
{
	if (nelems > 0xff) {
		aml_fail(a, -EINVAL);	/* VarPackageOp would be needed */
		return;
	}
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a);
	aml_byte(a, (uint8_t)nelems);
}

void aml_return_integer(struct aml *a, uint64_t v)
{
	aml_byte(a, AML_RETURN_OP);
	aml_integer(a, v);
}

void aml_buffer(struct aml *a, const void *p, size_t n)
{
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a);
	aml_integer(a, n);
	aml_bytes(a, p, n);
	aml_close(a);
}

/* --- resource descriptors --- */

void aml_res_io(struct aml *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	aml_byte(r, 0x47);		/* small item 0x08, length 7 */
	aml_byte(r, 0x01);		/* decodes 16-bit addresses */
	aml_le(r, min, 2);
	aml_le(r, max, 2);
	aml_byte(r, align);
	aml_byte(r, len);
}

void aml_res_irq(struct aml *r, uint16_t irq_mask)
{
	aml_byte(r, 0x22);		/* small item 0x04, length 2: edge, active-high, exclusive */
	aml_le(r, irq_mask, 2);
}

void aml_res_memory32_fixed(struct aml *r, uint32_t base, uint32_t len, int rw)
{
	aml_byte(r, 0x86);		/* large item 0x06 */
	aml_le(r, 9, 2);
	aml_byte(r, rw ? 1 : 0);
	aml_le(r, base, 4);
	aml_le(r, len, 4);
}

/* Word Address Space Descriptor (6.4.3.5.3): producer, MinFixed, MaxFixed, PosDecode. */
static void aml_res_word(struct aml *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	aml_byte(r, 0x88);
	aml_le(r, 13, 2);
	aml_byte(r, type);
	aml_byte(r, 0x0c);		/* _MAF | _MIF, producer, positive decode */
	aml_byte(r, tflags);
	aml_le(r, 0, 2);		/* granularity */
	aml_le(r, min, 2);
	aml_le(r, max, 2);
	aml_le(r, 0, 2);		/* translation offset */
	aml_le(r, (uint32_t)max - min + 1, 2);
}

void aml_res_word_bus(struct aml *r, uint16_t min, uint16_t max)
{
	aml_res_word(r, 2, 0, min, max);
}

void aml_res_word_io(struct aml *r, uint16_t min, uint16_t max)
{
	aml_res_word(r, 1, 0x03, min, max);	/* _RNG = entire range */
}

/* DWord Address Space Descriptor (6.4.3.5.2), memory: read-write, cacheable or not. */
void aml_res_dword_memory(struct aml *r, uint32_t min, uint32_t max, int cacheable)
{
	aml_byte(r, 0x87);
	aml_le(r, 23, 2);
	aml_byte(r, 0);			/* memory range */
	aml_byte(r, 0x0c);
	aml_byte(r, (uint8_t)(0x01 | (cacheable ? 0x02 : 0)));
	aml_le(r, 0, 4);
	aml_le(r, min, 4);
	aml_le(r, max, 4);
	aml_le(r, 0, 4);
	aml_le(r, (uint64_t)max - min + 1, 4);
}

void aml_restemplate(struct aml *a, const struct aml *r)
{
	uint8_t tmp[512];
	size_t n = r->len;

	if (r->err || n + 2 > sizeof(tmp)) {
		aml_fail(a, r->err ? r->err : -E2BIG);
		return;
	}
	memcpy(tmp, r->buf, n);
	tmp[n++] = 0x79;		/* End Tag */
	tmp[n++] = 0x00;		/* checksum 0: "treat as correct" */
	aml_buffer(a, tmp, n);
}
