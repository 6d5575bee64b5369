/* The ATA channel's IDENTIFY DEVICE data (ATA8-ACS §7.16.7), power-on state and lifecycle: create,
 * reset, save/restore of the guest-visible state, destroy. Reset/save/restore run with the VM paused
 * (device.h), create/destroy on the main thread; all under the channel's lock. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/ata_int.h"

void ata_default_chs(uint64_t sectors, unsigned *cyls, unsigned *heads, unsigned *spt)
{
	uint64_t c;

	*spt = sectors < DEF_SPT ? (unsigned)sectors : DEF_SPT;
	*heads = sectors / *spt < DEF_HEADS ? (unsigned)(sectors / *spt) : DEF_HEADS;
	c = sectors / (*heads * *spt);
	*cyls = c > MAX_CYLS ? MAX_CYLS : (unsigned)c;
}

static void power_on(struct ata *a)
{
	unsigned cyls, heads, spt;

	memset(&a->st, 0, sizeof(a->st));
	for (unsigned d = 0; d < 2; d++) {
		ata_default_chs(a->drive[d] ? a->sectors[d] : 1, &cyls, &heads, &spt);
		a->st.drv[d].heads = (uint8_t)heads;
		a->st.drv[d].spt = (uint8_t)spt;
		a->st.drv[d].wcache = 1;
	}
	ata_set_signature(a);
}

/* ATA strings hold two characters a word, the first in the high byte, padded with spaces. */
static void put_string(uint8_t *buf, unsigned w, unsigned nr_words, const char *s)
{
	size_t n = strlen(s);

	for (unsigned i = 0; i < 2 * nr_words; i++)
		buf[2 * w + (i ^ 1)] = (uint8_t)(i < n ? s[i] : ' ');
}

/* IDENTIFY DEVICE data (ATA8-ACS §7.16.7): a fixed disk with LBA, LBA48, FLUSH CACHE (EXT), write
 * cache and look-ahead, PIO modes 0-4 with IORDY, no DMA, no READ/WRITE MULTIPLE (word 47 = 0 makes
 * drivers use READ/WRITE SECTORS). */
void ata_identify(const struct ata *a, unsigned d, uint8_t *buf)
{
	const struct ata_drive_state *ds = &a->st.drv[d];
	uint64_t n = a->sectors[d], cur;
	unsigned cyls, heads, spt;
	char serial[21];
	uint8_t sum = 0;

	memset(buf, 0, SECTOR);
	ata_default_chs(n, &cyls, &heads, &spt);
	ata_put_word(buf, 0, 0x0040);			/* fixed device */
	ata_put_word(buf, 1, (uint16_t)cyls);
	ata_put_word(buf, 3, (uint16_t)heads);
	ata_put_word(buf, 6, (uint16_t)spt);
	snprintf(serial, sizeof(serial), "CKVM-%.12s-%u", a->dev.name, d);
	put_string(buf, 10, 10, serial);
	put_string(buf, 23, 4, "1.0");
	put_string(buf, 27, 20, "CKVM HARDDISK");
	ata_put_word(buf, 47, 0x8000);			/* READ/WRITE MULTIPLE: none */
	ata_put_word(buf, 49, 1 << 11 | 1 << 10 | 1 << 9);	/* IORDY, IORDY may be disabled, LBA */
	ata_put_word(buf, 50, 0x4000);
	ata_put_word(buf, 51, 0x0200);			/* PIO timing mode 2 (obsolete field) */
	ata_put_word(buf, 53, 0x0003);			/* words 54-58 and 64-70 valid */
	cur = n / ((uint64_t)ds->heads * ds->spt);
	cur = cur > 0xffff ? 0xffff : cur;
	ata_put_word(buf, 54, (uint16_t)cur);
	ata_put_word(buf, 55, ds->heads);
	ata_put_word(buf, 56, ds->spt);
	cur *= (uint64_t)ds->heads * ds->spt;
	ata_put_word(buf, 57, (uint16_t)cur);
	ata_put_word(buf, 58, (uint16_t)(cur >> 16));
	cur = n < 0x0fffffff ? n : 0x0fffffff;		/* LBA28 capacity */
	ata_put_word(buf, 60, (uint16_t)cur);
	ata_put_word(buf, 61, (uint16_t)(cur >> 16));
	ata_put_word(buf, 64, 0x0003);			/* PIO modes 3 and 4 */
	for (unsigned w = 65; w <= 68; w++)
		ata_put_word(buf, w, 120);			/* cycle times, ns */
	ata_put_word(buf, 80, 0x00f0);			/* ATA/ATAPI-4 to -7 */
	ata_put_word(buf, 82, 1 << 6 | 1 << 5);		/* look-ahead, write cache */
	ata_put_word(buf, 83, 0x4000 | 1 << 13 | 1 << 12 | 1 << 10);	/* FLUSH EXT, FLUSH, LBA48 */
	ata_put_word(buf, 84, 0x4000);
	ata_put_word(buf, 85, (uint16_t)(1 << 6 | (ds->wcache ? 1 << 5 : 0)));
	ata_put_word(buf, 86, 1 << 13 | 1 << 12 | 1 << 10);
	ata_put_word(buf, 87, 0x4000);
	/* Hardware reset result: CBLID, jumper-numbered device 0 or 1. Device 0's value does not claim
	 * to answer for device 1, so SeaBIOS probes device 1 too (an absent one reads as zeros). */
	ata_put_word(buf, 93, d ? 0x6300 : 0x6003);
	for (unsigned w = 0; w < 4; w++)
		ata_put_word(buf, 100 + w, (uint16_t)(n >> (16 * w)));
	buf[510] = 0xa5;				/* integrity word: signature + checksum */
	for (unsigned i = 0; i < SECTOR - 1; i++)
		sum = (uint8_t)(sum + buf[i]);
	buf[511] = (uint8_t)-sum;
}

/* Lifecycle */

static struct ata *of_dev(struct device *d)
{
	return device_of(d, struct ata, dev);
}

static void ata_reset(struct device *dev)
{
	struct ata *a = of_dev(dev);

	pthread_mutex_lock(&a->lock);
	power_on(a);
	ata_irq_update(a);
	pthread_mutex_unlock(&a->lock);
}

static ssize_t ata_save(struct device *dev, void *buf, size_t cap)
{
	struct ata *a = of_dev(dev);

	if (cap < sizeof(a->st))
		return -ENOSPC;
	pthread_mutex_lock(&a->lock);
	memcpy(buf, &a->st, sizeof(a->st));
	pthread_mutex_unlock(&a->lock);
	return sizeof(a->st);
}

/* A record is untrusted: every field that indexes or bounds something is checked against this
 * channel's drives before any of it is taken. */
static bool state_ok(const struct ata *a, const struct ata_state *s)
{
	const struct blk_backend *b;

	for (unsigned d = 0; d < 2; d++) {
		const struct ata_drive_state *ds = &s->drv[d];

		if (!ds->heads || ds->heads > 16 || !ds->spt || ds->wcache > 1 ||
		    ds->pad[0] || ds->pad[1] || ds->pad[2])
			return false;
	}
	if (s->irq_pending > 1 || s->xfer > XFER_OUT || s->xfer_dev > 1 || s->xfer_ident > 1 || s->pad ||
	    s->pos >= SECTOR || (s->pos & 1))
		return false;
	if (s->xfer == XFER_NONE)
		return true;
	b = a->drive[s->xfer_dev];
	if (!b)
		return false;
	if (s->xfer_ident)
		return s->xfer == XFER_IN;
	return s->sectors_left && s->sectors_left <= 65536 && s->lba < a->sectors[s->xfer_dev] &&
	       s->sectors_left <= a->sectors[s->xfer_dev] - s->lba &&
	       !(s->xfer == XFER_OUT && b->readonly);
}

static int ata_restore(struct device *dev, const void *buf, size_t len)
{
	struct ata *a = of_dev(dev);
	struct ata_state s;
	int ret = -EINVAL;

	if (len != sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	pthread_mutex_lock(&a->lock);
	if (state_ok(a, &s)) {
		a->st = s;
		ata_irq_update(a);			/* the line as the saved state had it */
		ret = 0;
	}
	pthread_mutex_unlock(&a->lock);
	return ret;
}

static void ata_dev_destroy(struct device *dev)
{
	ata_destroy(of_dev(dev));
}

static const struct device_ops ata_ops = {
	.kind = "ata",
	.state_version = 1,
	.reset = ata_reset,
	.save = ata_save,
	.restore = ata_restore,
	.destroy = ata_dev_destroy,
};

struct device *ata_device(struct ata *a)
{
	return &a->dev;
}

int ata_create(struct ata **out, const struct ata_config *cfg)
{
	struct ata *a;
	int ret;

	if (!cfg->drive[0] && !cfg->drive[1])
		return -EINVAL;
	for (unsigned d = 0; d < 2; d++)
		if (cfg->drive[d] && cfg->drive[d]->size_bytes < SECTOR)
			return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	ret = -pthread_mutex_init(&a->lock, NULL);
	if (ret) {
		free(a);
		return ret;
	}
	device_init(&a->dev, &ata_ops, cfg->name ? cfg->name : "ide0");
	a->vmm = cfg->vmm;
	a->gsi = cfg->gsi;
	for (unsigned d = 0; d < 2; d++) {
		a->drive[d] = cfg->drive[d];
		if (a->drive[d]) {
			a->sectors[d] = a->drive[d]->size_bytes / SECTOR;
			if (a->sectors[d] > MAX_SECTORS)
				a->sectors[d] = MAX_SECTORS;
		}
	}
	power_on(a);
	*out = a;
	return 0;
}

void ata_destroy(struct ata *a)
{
	if (!a)
		return;
	for (unsigned d = 0; d < 2; d++)
		blk_close(a->drive[d]);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
