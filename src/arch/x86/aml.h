/* A tiny AML byte-code emitter: just the constructs ckvm's DSDT needs (ACPI 6.x chapter 20,
 * "ACPI Machine Language Specification", and 6.4 "Resource Data Types for ACPI").
 * Writes into a caller buffer; the first error (overflow, bad name, nesting) sticks in a->err. */
#ifndef CKVM_X86_AML_H
#define CKVM_X86_AML_H

#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int err;				/* 0 or the first -errno */
	size_t open[AML_MAX_DEPTH];		/* offsets where an open PkgLength's body starts */
	int depth;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
/* 0 when everything was emitted and every open construct was closed, else -errno. */
int aml_finish(const struct aml *a);

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* PkgLength encoding of a total length (which counts the encoding's own bytes): 1-4 bytes written
 * to out, count returned; 0 if pkglen does not fit in 28 bits. */
int aml_pkglen_encode(uint32_t pkglen, uint8_t out[4]);

/* Integer with the shortest encoding: ZeroOp, OneOp, OnesOp, Byte/Word/DWord/QWordPrefix. */
void aml_integer(struct aml *a, uint64_t v);
/* String constant (StringPrefix ... NUL). */
void aml_string(struct aml *a, const char *s);
/* NameString: optional leading '\' or '^'s, then dot-separated segments of 1-4 chars (padded with
 * '_'); one segment plain, two with DualNamePrefix, more with MultiNamePrefix. */
void aml_namestring(struct aml *a, const char *path);
/* EISA id such as "PNP0A03" as the DWord the ASL EisaId() macro makes. 0 when malformed. */
uint32_t aml_eisaid(const char *id);

/* Name(path, <next object>) — the caller emits the data object right after. */
void aml_name(struct aml *a, const char *path);
void aml_name_integer(struct aml *a, const char *path, uint64_t v);
void aml_name_eisaid(struct aml *a, const char *path, const char *id);

/* Constructs with a PkgLength; each *_open is closed by aml_close(). */
void aml_scope_open(struct aml *a, const char *path);
void aml_device_open(struct aml *a, const char *path);
/* flags: ArgCount in bits 0-2, SerializeFlag bit 3. */
void aml_method_open(struct aml *a, const char *path, unsigned nargs, int serialized);
void aml_package_open(struct aml *a, unsigned nelems);
void aml_close(struct aml *a);

/* Return(integer) inside a method. */
void aml_return_integer(struct aml *a, uint64_t v);
/* Buffer(n){bytes}. */
void aml_buffer(struct aml *a, const void *p, size_t n);

/* Resource template descriptors (ACPI 6.4.2 small, 6.4.3 large), written into a plain struct aml
 * used as a scratch buffer; aml_restemplate() wraps it in a Buffer with an EndTag. */
void aml_res_io(struct aml *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
void aml_res_irq(struct aml *r, uint16_t irq_mask);
void aml_res_memory32_fixed(struct aml *r, uint32_t base, uint32_t len, int rw);
void aml_res_word_bus(struct aml *r, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *r, uint16_t min, uint16_t max);
void aml_res_dword_memory(struct aml *r, uint32_t min, uint32_t max, int cacheable);
void aml_restemplate(struct aml *a, const struct aml *r);

/* AML opcodes used above and by the tests. */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_DEVICE_OP		0x82	/* after ExtOpPrefix */
#define AML_ROOT_CHAR		0x5c
#define AML_PARENT_PREFIX	0x5e
#define AML_RETURN_OP		0xa4
#define AML_ONES_OP		0xff

#endif
