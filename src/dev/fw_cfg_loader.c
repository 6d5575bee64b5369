/* The "etc/table-loader" builder (fw_cfg_loader.h). Commands are laid out as SeaBIOS's
 * romfile_loader reads them: a le32 command word, then the command's fields at fixed offsets, the
 * rest of the 128 bytes zero. Runs on the main thread while the board builds its fw_cfg files. */
#include "dev/fw_cfg_loader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Field offsets inside an entry (after the 4-byte command word). */
#define OFF_NAME1	4			/* alloc.file, pointer.dest_file, cksum.file */
#define OFF_NAME2	(OFF_NAME1 + FW_LOADER_FILESZ)	/* pointer.src_file */
#define OFF_ALLOC_ALIGN	OFF_NAME2		/* u32, then the zone byte */
#define OFF_ALLOC_ZONE	(OFF_ALLOC_ALIGN + 4)
#define OFF_PTR_OFFSET	(OFF_NAME2 + FW_LOADER_FILESZ)	/* u32, then the size byte */
#define OFF_PTR_SIZE	(OFF_PTR_OFFSET + 4)
#define OFF_CK_OFFSET	OFF_NAME2		/* u32 offset, start, length */

_Static_assert(OFF_PTR_SIZE < FW_LOADER_ENTRY_LEN, "ADD_POINTER fits an entry");

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	return n && n < FW_LOADER_FILESZ;
}

/* Was `file` allocated by an earlier command? */
static bool allocated(const struct fw_loader *l, const char *file)
{
	for (size_t off = 0; off < l->len; off += FW_LOADER_ENTRY_LEN) {
		const uint8_t *e = l->buf + off;

		if (e[0] == FW_LOADER_ALLOCATE &&
		    !strncmp((const char *)e + OFF_NAME1, file, FW_LOADER_FILESZ))
			return true;
	}
	return false;
}

/* A zeroed entry carrying cmd and name1 at the end of the script, or NULL (no memory). */
static uint8_t *append(struct fw_loader *l, uint32_t cmd, const char *name1)
{
	uint8_t *e;

	if (l->len == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16 * FW_LOADER_ENTRY_LEN;
		uint8_t *nb = realloc(l->buf, cap);

		if (!nb)
			return NULL;
		l->buf = nb;
		l->cap = cap;
	}
	e = l->buf + l->len;
	memset(e, 0, FW_LOADER_ENTRY_LEN);
	put_le32(e, cmd);
	memcpy(e + OFF_NAME1, name1, strlen(name1));
	l->len += FW_LOADER_ENTRY_LEN;
	return e;
}

int fw_loader_allocate(struct fw_loader *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *e;

	if (!name_ok(file) || !align || (align & (align - 1)) ||
	    (zone != FW_LOADER_ZONE_HIGH && zone != FW_LOADER_ZONE_FSEG))
		return -EINVAL;
	if (allocated(l, file))
		return -EEXIST;
	if (!(e = append(l, FW_LOADER_ALLOCATE, file)))
		return -ENOMEM;
	put_le32(e + OFF_ALLOC_ALIGN, align);
	e[OFF_ALLOC_ZONE] = zone;
	return 0;
}

int fw_loader_add_pointer(struct fw_loader *l, const char *dest, const char *src, uint32_t offset,
			  uint8_t size)
{
	uint8_t *e;

	if (!name_ok(dest) || !name_ok(src) || !size || size > 8 || (size & (size - 1)) ||
	    offset > UINT32_MAX - size)
		return -EINVAL;
	if (!allocated(l, dest) || !allocated(l, src))
		return -ENOENT;
	if (!(e = append(l, FW_LOADER_ADD_POINTER, dest)))
		return -ENOMEM;
	memcpy(e + OFF_NAME2, src, strlen(src));
	put_le32(e + OFF_PTR_OFFSET, offset);
	e[OFF_PTR_SIZE] = size;
	return 0;
}

int fw_loader_add_checksum(struct fw_loader *l, const char *file, uint32_t offset, uint32_t start,
			   uint32_t length)
{
	uint8_t *e;

	if (!name_ok(file) || start > UINT32_MAX - length)
		return -EINVAL;
	if (!allocated(l, file))
		return -ENOENT;
	if (!(e = append(l, FW_LOADER_ADD_CHECKSUM, file)))
		return -ENOMEM;
	put_le32(e + OFF_CK_OFFSET, offset);
	put_le32(e + OFF_CK_OFFSET + 4, start);
	put_le32(e + OFF_CK_OFFSET + 8, length);
	return 0;
}

void fw_loader_free(struct fw_loader *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}
