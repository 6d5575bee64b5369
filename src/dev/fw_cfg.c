/* The fw_cfg device (QEMU docs/specs/fw_cfg.rst): item table, selector/data ports, the DMA interface
 * and the file directory. Guest accesses run on vCPU threads; the board adds items on the main thread
 * before the VM runs. One mutex covers the items and the guest-visible registers. */
#include "dev/fw_cfg.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define PORT_SELECTOR	0
#define PORT_DATA	1
#define PORT_DMA_HI	4
#define PORT_DMA_LO	8

#define ENTRY_MASK	0x3fff	/* the key without the write-channel and arch-local bits */
#define NR_ENTRIES	(FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
#define ID_TRADITIONAL	0x1
#define ID_DMA		0x2
#define DMA_DESC_LEN	16	/* FWCfgDmaAccess: be32 control, be32 length, be64 address */
#define DIR_ENTRY_LEN	64

/* What reads of the DMA register return, in address order (the spec's 0x51454d5520434647, big-endian). */
static const char dma_signature[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

/* The guest-visible registers, saved byte for byte (host order: a record stays on its host). */
struct fw_cfg_state {
	uint32_t offset;	/* into the selected item; never past its end */
	uint32_t dma_hi;	/* the address register's high half, written at 0x514 */
	uint16_t selector;	/* as written, write-channel and arch bits included */
	uint16_t pad;
};

struct fw_cfg {
	struct device dev;
	pthread_mutex_t lock;
	const struct guest_mem *gm;
	bool dma;
	struct fw_cfg_state st;
	struct fw_cfg_item item[2][NR_ENTRIES];	/* [arch-local][key & ENTRY_MASK] */
	unsigned nr_files;
	char file_name[FW_CFG_MAX_FILES][FW_CFG_NAME_LEN];
};

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The slot a key names (empty or not), or NULL when the key is out of range. */
static struct fw_cfg_item *slot_of(struct fw_cfg *f, uint16_t key)
{
	unsigned idx = key & ENTRY_MASK;

	return idx < NR_ENTRIES ? &f->item[key & FW_CFG_ARCH_LOCAL ? 1 : 0][idx] : NULL;
}

/* The item a key names, or NULL when the key is out of range or nothing was added there. */
static const struct fw_cfg_item *item_of(struct fw_cfg *f, uint16_t key)
{
	const struct fw_cfg_item *it = slot_of(f, key);

	return it && it->len ? it : NULL;
}

static void select_key(struct fw_cfg *f, uint16_t key)
{
	f->st.selector = key;
	f->st.offset = 0;
}

/* Bytes left in the selected item from the offset (0 for an absent item). */
static uint32_t remaining(struct fw_cfg *f)
{
	const struct fw_cfg_item *it = item_of(f, f->st.selector);

	return it ? it->len - f->st.offset : 0;
}

static uint8_t data_byte(struct fw_cfg *f)
{
	const struct fw_cfg_item *it = item_of(f, f->st.selector);

	if (!it || f->st.offset >= it->len)
		return 0;
	return it->data[f->st.offset++];
}

/* Zero [gpa, gpa + len) of guest RAM, one region at a time: a DMA read past an item's end. */
static int dma_zero(const struct fw_cfg *f, uint64_t gpa, uint64_t len)
{
	while (len) {
		uint64_t n = gm_span(f->gm, gpa);
		void *p;

		if (n > len)
			n = len;
		p = n ? gm_ptr(f->gm, gpa, (size_t)n) : NULL;
		if (!p)
			return -EFAULT;
		memset(p, 0, (size_t)n);
		gpa += n;
		len -= n;
	}
	return 0;
}

/* Copy length bytes of the selected item to guest RAM at gpa, zeros past its end (as QEMU does, so a
 * firmware reading an absent legacy item sees zeros). The offset advances over what was copied. */
static int dma_read(struct fw_cfg *f, uint64_t gpa, uint32_t length)
{
	const struct fw_cfg_item *it = item_of(f, f->st.selector);
	uint32_t n = remaining(f);

	if (n > length)
		n = length;
	if (n) {
		if (gm_write(f->gm, gpa, it->data + f->st.offset, n))
			return -EFAULT;
		f->st.offset += n;
	}
	return dma_zero(f, gpa + n, length - n);
}

/* One transfer: read the descriptor at desc_gpa, act on its control bits, write the result back into
 * its control field (0, or the error bit). A descriptor outside RAM has nowhere to report to. */
static void dma_run(struct fw_cfg *f, uint64_t desc_gpa)
{
	uint8_t desc[DMA_DESC_LEN], result[4];
	uint32_t control, length;
	uint64_t gpa;
	int err = 0;

	if (gm_read(f->gm, desc, desc_gpa, sizeof(desc))) {
		log_guest("fw_cfg", "DMA descriptor at 0x%llx is not in RAM", (unsigned long long)desc_gpa);
		return;
	}
	control = get_be32(desc);
	length = get_be32(desc + 4);
	gpa = (uint64_t)get_be32(desc + 8) << 32 | get_be32(desc + 12);
	if (control & FW_CFG_DMA_CTL_SELECT)
		select_key(f, (uint16_t)(control >> 16));
	if (control & FW_CFG_DMA_CTL_READ) {
		err = dma_read(f, gpa, length);
	} else if (control & FW_CFG_DMA_CTL_WRITE) {
		err = -EPERM;			/* every item is read-only to the guest */
	} else if (control & FW_CFG_DMA_CTL_SKIP) {
		uint32_t n = remaining(f);

		f->st.offset += length < n ? length : n;
	}
	if (err)
		log_guest("fw_cfg", "DMA %s of %u bytes at 0x%llx refused",
			  err == -EPERM ? "write" : "read", length, (unsigned long long)gpa);
	put_be32(result, err ? FW_CFG_DMA_CTL_ERROR : 0);
	if (gm_write(f->gm, desc_gpa, result, sizeof(result)))
		log_guest("fw_cfg", "DMA descriptor at 0x%llx vanished", (unsigned long long)desc_gpa);
}

static void fw_cfg_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct fw_cfg *f = dev;
	uint8_t *p = data;

	pthread_mutex_lock(&f->lock);
	for (uint32_t i = 0; i < len; i++) {
		if (off == PORT_DATA)
			p[i] = data_byte(f);	/* a wide read: the next bytes, as a string */
		else if (f->dma && off >= PORT_DMA_HI && off < FW_CFG_NR_PORTS &&
			 i < FW_CFG_NR_PORTS - off)
			p[i] = (uint8_t)dma_signature[off - PORT_DMA_HI + i];
		else
			p[i] = 0;
	}
	pthread_mutex_unlock(&f->lock);
}

static void fw_cfg_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct fw_cfg *f = dev;
	const uint8_t *p = data;
	uint64_t gpa;

	pthread_mutex_lock(&f->lock);
	if (off == PORT_SELECTOR && len == 2) {
		select_key(f, (uint16_t)(p[0] | p[1] << 8));	/* a little-endian port */
	} else if (f->dma && off == PORT_DMA_HI && len == 4) {
		f->st.dma_hi = get_be32(p);
	} else if (f->dma && ((off == PORT_DMA_LO && len == 4) || (off == PORT_DMA_HI && len == 8))) {
		/* Writing the low half starts the transfer; the register reads as 0 again after it. */
		gpa = len == 8 ? (uint64_t)get_be32(p) << 32 | get_be32(p + 4)
			       : (uint64_t)f->st.dma_hi << 32 | get_be32(p);
		f->st.dma_hi = 0;
		dma_run(f, gpa);
	}
	pthread_mutex_unlock(&f->lock);
}

const struct bus_ops fw_cfg_bus_ops = {
	.read = fw_cfg_read,
	.write = fw_cfg_write,
};

/* Replace the item at key with a copy of data; the lock is held. */
static int set_item(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
	struct fw_cfg_item *it = slot_of(f, key);
	uint8_t *copy = NULL;

	if (len > UINT32_MAX)
		return -EFBIG;
	if (len && !(copy = malloc(len)))
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	free(it->data);
	it->data = copy;
	it->len = (uint32_t)len;
	/* A guest reading this item keeps its place, never past the new end. */
	if (slot_of(f, f->st.selector) == it && f->st.offset > it->len)
		f->st.offset = it->len;
	return 0;
}

/* The directory from the file list; the lock is held. */
static int build_dir(struct fw_cfg *f)
{
	size_t len = 4 + (size_t)f->nr_files * DIR_ENTRY_LEN;
	uint8_t *dir = calloc(1, len);
	int ret;

	if (!dir)
		return -ENOMEM;
	put_be32(dir, f->nr_files);
	for (unsigned i = 0; i < f->nr_files; i++) {
		uint8_t *e = dir + 4 + (size_t)i * DIR_ENTRY_LEN;
		uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + i);

		put_be32(e, f->item[0][key].len);
		e[4] = (uint8_t)(key >> 8);
		e[5] = (uint8_t)key;
		memcpy(e + 8, f->file_name[i], FW_CFG_NAME_LEN);
	}
	ret = set_item(f, FW_CFG_FILE_DIR, dir, len);
	free(dir);
	return ret;
}

static bool legacy_key(uint16_t key)
{
	unsigned idx = key & ~FW_CFG_ARCH_LOCAL;

	if (key & FW_CFG_WRITE_CHANNEL || idx >= FW_CFG_FILE_FIRST)
		return false;
	return key != FW_CFG_SIGNATURE && key != FW_CFG_ID && key != FW_CFG_FILE_DIR;
}

int fw_cfg_add_item(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
	int ret;

	if (!legacy_key(key))
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	ret = set_item(f, key, data, len);
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int add_le(struct fw_cfg *f, uint16_t key, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add_item(f, key, b, n);
}

int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v) { return add_le(f, key, v, 2); }
int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v) { return add_le(f, key, v, 4); }
int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v) { return add_le(f, key, v, 8); }

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len, uint16_t *key_out)
{
	size_t name_len = strlen(name);
	uint16_t key;
	int ret;

	if (!name_len)
		return -EINVAL;
	if (name_len >= FW_CFG_NAME_LEN)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&f->lock);
	ret = -ENOSPC;
	if (f->nr_files == FW_CFG_MAX_FILES)
		goto out;
	ret = -EEXIST;
	for (unsigned i = 0; i < f->nr_files; i++)
		if (!strcmp(f->file_name[i], name))
			goto out;
	key = (uint16_t)(FW_CFG_FILE_FIRST + f->nr_files);
	ret = set_item(f, key, data, len);
	if (ret)
		goto out;
	memset(f->file_name[f->nr_files], 0, FW_CFG_NAME_LEN);
	memcpy(f->file_name[f->nr_files], name, name_len);
	f->nr_files++;
	ret = build_dir(f);
	if (ret) {		/* no directory entry: take the file back out */
		f->nr_files--;
		set_item(f, key, NULL, 0);
	} else if (key_out) {
		*key_out = key;
	}
out:
	pthread_mutex_unlock(&f->lock);
	return ret;
}

/* Lifecycle */

static struct fw_cfg *of_dev(struct device *d)
{
	return device_of(d, struct fw_cfg, dev);
}

static void fw_cfg_reset(struct device *d)
{
	struct fw_cfg *f = of_dev(d);

	pthread_mutex_lock(&f->lock);
	memset(&f->st, 0, sizeof(f->st));
	pthread_mutex_unlock(&f->lock);
}

static ssize_t fw_cfg_save(struct device *d, void *buf, size_t cap)
{
	struct fw_cfg *f = of_dev(d);

	if (cap < sizeof(f->st))
		return -ENOSPC;
	pthread_mutex_lock(&f->lock);
	memcpy(buf, &f->st, sizeof(f->st));
	pthread_mutex_unlock(&f->lock);
	return sizeof(f->st);
}

/* The record is untrusted: the offset must lie within the item this board has at that key. */
static int fw_cfg_restore(struct device *d, const void *buf, size_t len)
{
	struct fw_cfg *f = of_dev(d);
	struct fw_cfg_state st;
	const struct fw_cfg_item *it;
	int ret = -EINVAL;

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	pthread_mutex_lock(&f->lock);
	it = item_of(f, st.selector);
	if (!st.pad && st.offset <= (it ? it->len : 0) && (f->dma || !st.dma_hi)) {
		f->st = st;
		ret = 0;
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static void fw_cfg_dev_destroy(struct device *d)
{
	fw_cfg_destroy(of_dev(d));
}

static const struct device_ops fw_cfg_ops = {
	.kind = "fw_cfg",
	.state_version = 1,
	.reset = fw_cfg_reset,
	.save = fw_cfg_save,
	.restore = fw_cfg_restore,
	.destroy = fw_cfg_dev_destroy,
};

struct device *fw_cfg_device(struct fw_cfg *f)
{
	return &f->dev;
}

int fw_cfg_create(struct fw_cfg **out, const struct fw_cfg_config *cfg)
{
	static const uint8_t sig[4] = { 'Q', 'E', 'M', 'U' };
	struct fw_cfg *f;
	uint8_t id[4];
	int ret;

	if (cfg->dma && !cfg->gm)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	ret = -pthread_mutex_init(&f->lock, NULL);
	if (ret) {
		free(f);
		return ret;
	}
	device_init(&f->dev, &fw_cfg_ops, cfg->name ? cfg->name : "fw_cfg");
	f->gm = cfg->gm;
	f->dma = cfg->dma;
	id[0] = ID_TRADITIONAL | (f->dma ? ID_DMA : 0);
	id[1] = id[2] = id[3] = 0;
	pthread_mutex_lock(&f->lock);
	ret = set_item(f, FW_CFG_SIGNATURE, sig, sizeof(sig));
	if (!ret)
		ret = set_item(f, FW_CFG_ID, id, sizeof(id));
	if (!ret)
		ret = build_dir(f);
	pthread_mutex_unlock(&f->lock);
	if (ret) {
		fw_cfg_destroy(f);
		return ret;
	}
	*out = f;
	return 0;
}

void fw_cfg_destroy(struct fw_cfg *f)
{
	if (!f)
		return;
	for (unsigned a = 0; a < 2; a++)
		for (unsigned i = 0; i < NR_ENTRIES; i++)
			free(f->item[a][i].data);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
