/* The register set the GDB stub shows (GDB manual, "Target Descriptions", "i386 Features"): one
 * x86-64 description in every guest mode, because GDB reads target.xml once per connection and a
 * guest moves from real mode to long mode under it. In real and protected mode the 64-bit
 * registers hold the 16/32-bit values zero-extended, rip is the offset in CS (GDB's $pc does not
 * add the CS base), and memory addresses are linear. Stub thread; pure. */
#include "osdev/gdb_stub_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum feat { F_CORE, F_SSE, F_SYS };

struct regdef {
	const char *name;
	uint8_t size;		/* bytes GDB sees */
	uint8_t feat;
	const char *type;
};

static const char *const gpr_names[16] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const seg_names[6] = { "cs", "ss", "ds", "es", "fs", "gs" };
static const char *const fpu_names[8] = {
	"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop",
};
static const char *const sys_names[7] = { "fs_base", "gs_base", "cr0", "cr2", "cr3", "cr4", "efer" };

/* Register n's name, size and feature; false past the last. */
static bool regdef(unsigned n, struct regdef *d)
{
	static char names[24][8];	/* st0-7, xmm0-15: formatted once (stub thread only) */
	static bool named;

	if (!named) {
		for (int i = 0; i < 8; i++)
			snprintf(names[i], sizeof(names[i]), "st%d", i);
		for (int i = 0; i < 16; i++)
			snprintf(names[8 + i], sizeof(names[8 + i]), "xmm%d", i);
		named = true;
	}
	if (n < 16)
		*d = (struct regdef){ gpr_names[n], 8, F_CORE, n == 6 || n == 7 ? "data_ptr" : "int64" };
	else if (n == 16)
		*d = (struct regdef){ "rip", 8, F_CORE, "code_ptr" };
	else if (n == 17)
		*d = (struct regdef){ "eflags", 4, F_CORE, "int32" };
	else if (n < 24)
		*d = (struct regdef){ seg_names[n - 18], 4, F_CORE, "int32" };
	else if (n < 32)
		*d = (struct regdef){ names[n - 24], 10, F_CORE, "i387_ext" };
	else if (n < 40)
		*d = (struct regdef){ fpu_names[n - 32], 4, F_CORE, "int" };
	else if (n < 56)
		*d = (struct regdef){ names[8 + n - 40], 16, F_SSE, "vec128" };
	else if (n == 56)
		*d = (struct regdef){ "mxcsr", 4, F_SSE, "int" };
	else if (n < GDB_NREGS)
		*d = (struct regdef){ sys_names[n - 57], 8, F_SYS, n < 59 ? "data_ptr" : "int64" };
	else
		return false;
	return true;
}

/* Where register n lives in r: its bytes (little-endian, as the host) and whether GDB may write. */
static uint8_t *field(struct vcpu_dbg_regs *r, unsigned n, size_t *len, bool *writable)
{
	*writable = true;
	if (n < 16)
		return *len = 8, (uint8_t *)&r->gpr[n];
	if (n == 16)
		return *len = 8, (uint8_t *)&r->rip;
	if (n == 17)
		return *len = 8, (uint8_t *)&r->rflags;
	if (n < 24 || n >= 57)
		*writable = false;	/* no descriptor behind a selector; CRs are the guest's */
	if (n < 24)
		return *len = 2, (uint8_t *)&r->sel[n - 18];
	if (n < 32)
		return *len = 10, r->st[n - 24];
	if (n < 40) {
		uint32_t *f[8] = { &r->fctrl, &r->fstat, &r->ftag, &r->fiseg, &r->fioff, &r->foseg,
				   &r->fooff, &r->fop };

		return *len = 4, (uint8_t *)f[n - 32];
	}
	if (n < 56)
		return *len = 16, r->xmm[n - 40];
	if (n == 56)
		return *len = 4, (uint8_t *)&r->mxcsr;
	switch (n) {
	case 57: return *len = 8, (uint8_t *)&r->seg_base[4];
	case 58: return *len = 8, (uint8_t *)&r->seg_base[5];
	case 59: return *len = 8, (uint8_t *)&r->cr0;
	case 60: return *len = 8, (uint8_t *)&r->cr2;
	case 61: return *len = 8, (uint8_t *)&r->cr3;
	case 62: return *len = 8, (uint8_t *)&r->cr4;
	case 63: return *len = 8, (uint8_t *)&r->efer;
	}
	return NULL;
}

size_t gdb_regs_get(const struct vcpu_dbg_regs *r, unsigned n, char *out)
{
	struct regdef d;
	uint8_t bytes[16] = { 0 };
	size_t len;
	bool w;
	const uint8_t *f;

	if (!regdef(n, &d))
		return 0;
	f = field((struct vcpu_dbg_regs *)r, n, &len, &w);
	memcpy(bytes, f, len < d.size ? len : d.size);	/* zero-extended or cut to GDB's size */
	gdb_hex_encode(bytes, d.size, out);
	return 2u * d.size;
}

size_t gdb_regs_get_all(const struct vcpu_dbg_regs *r, char *out)
{
	size_t n = 0;

	for (unsigned i = 0; i < GDB_NREGS; i++)
		n += gdb_regs_get(r, i, out + n);
	return n;
}

int gdb_regs_set(struct vcpu_dbg_regs *r, unsigned n, const uint8_t *data, size_t len)
{
	struct regdef d;
	uint8_t cur[16] = { 0 };
	size_t flen;
	bool w;
	uint8_t *f;

	if (!regdef(n, &d))
		return -ENOENT;
	if (len != d.size)
		return -EINVAL;
	f = field(r, n, &flen, &w);
	memcpy(cur, f, flen < d.size ? flen : d.size);
	if (!w)
		return memcmp(cur, data, d.size) ? -EPERM : 0;
	if (flen > d.size)
		memset(f, 0, flen);	/* eflags: GDB's 32 bits are all of RFLAGS that exist */
	memcpy(f, data, flen < d.size ? flen : d.size);
	return 0;
}

int gdb_regs_set_all(struct vcpu_dbg_regs *r, const uint8_t *data, size_t len)
{
	struct vcpu_dbg_regs tmp = *r;
	struct regdef d;
	size_t at = 0;
	int ret;

	for (unsigned i = 0; i < GDB_NREGS; i++) {
		regdef(i, &d);
		if (at + d.size > len)
			return -EINVAL;
		if ((ret = gdb_regs_set(&tmp, i, data + at, d.size)))
			return ret;
		at += d.size;
	}
	if (at != len)
		return -EINVAL;
	*r = tmp;
	return 0;
}

static const char *const feat_names[] = {
	[F_CORE] = "org.gnu.gdb.i386.core", [F_SSE] = "org.gnu.gdb.i386.sse",
	[F_SYS] = "org.ckvm.x86.system",
};

/* GDB's SSE feature types the xmm registers as this union (its own 64bit-sse.xml does the same). */
static const char vec128_types[] =
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
	"<field name=\"v2_double\" type=\"v2d\"/><field name=\"v16_int8\" type=\"v16i8\"/>"
	"<field name=\"v8_int16\" type=\"v8i16\"/><field name=\"v4_int32\" type=\"v4i32\"/>"
	"<field name=\"v2_int64\" type=\"v2i64\"/><field name=\"uint128\" type=\"uint128\"/></union>";

const char *gdb_regs_target_xml(size_t *len)
{
	static char xml[8192];
	static size_t n;
	int feat = -1;
	struct regdef d;

	if (n) {
		*len = n;
		return xml;
	}
	n = (size_t)snprintf(xml, sizeof(xml), "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM "
			     "\"gdb-target.dtd\"><target><architecture>i386:x86-64</architecture>");
	for (unsigned i = 0; regdef(i, &d); i++) {
		if (d.feat != feat) {
			n += (size_t)snprintf(xml + n, sizeof(xml) - n, "%s<feature name=\"%s\">%s",
					      feat < 0 ? "" : "</feature>", feat_names[d.feat],
					      d.feat == F_SSE ? vec128_types : "");
			feat = d.feat;
		}
		n += (size_t)snprintf(xml + n, sizeof(xml) - n,
				      "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"/>",
				      d.name, d.size * 8u, d.type, i);
	}
	n += (size_t)snprintf(xml + n, sizeof(xml) - n, "</feature></target>");
	if (n >= sizeof(xml))
		n = sizeof(xml) - 1;	/* cannot happen: the description is fixed (asserted in tests) */
	*len = n;
	return xml;
}
