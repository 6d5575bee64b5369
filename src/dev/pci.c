/* PCI host bridge and bus 0 (PCI Local Bus 3.0 §6; type-1 configuration mechanism, PCI-to-PCI Bridge
 * Architecture 1.2 §3.2.2.3.2): config space, BAR placement/sizing and MMIO dispatch, INTx.
 * Runs on vCPU threads (config ports, MMIO window); pci_irq_set may come from any thread. */
#include "dev/pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "log.h"

#define PCI_RC_RST_CPU	0x04

#define PCI_ADDR_ENABLE		0x80000000u
#define PCI_ADDR_BITS		0x80fffffcu	/* CONFIG_ADDRESS bits that hold what is written */
#define PCI_CMD_WMASK		(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
				 PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
#define PCI_STATUS_W1C		(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | \
				 PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT | \
				 PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)
#define PCI_HOST_STATE_VERSION	1

/* The host's guest-visible state apart from the bridge's config space (which lives in its pci_dev). */
struct pci_host_state {
	uint32_t addr;			/* CONFIG_ADDRESS latch */
};

struct pci {
	struct device dev;
	const struct vmm_ops *ops;
	uint64_t mmio_gpa, mmio_size;	/* the BAR window */
	uint32_t intx_gsi_base, intx_nr_lines;
	pthread_mutex_t cfg_lock;	/* 0xcf8 latch, config space accesses, BAR (re)mapping */
	pthread_mutex_t irq_lock;	/* INTx levels and shared-line counts */
	struct pci_host_state st;
	/* Filled from 0 up without gaps and never emptied while vCPUs run; MMIO dispatch reads slot[] and
	 * bar[].mapped_gpa without a lock, so both are written with atomic release stores. */
	struct pci_dev *slot[PCI_MAX_SLOTS];
	uint64_t next_gpa;		/* boot-time BAR placement cursor */
	unsigned line_count[PCI_INTX_MAX_LINES];	/* by line: gsi - intx_gsi_base */
	struct pci_dev bridge;
};

const struct vmm_ops *pci_vmm_ops(const struct pci *pci)
{
	return pci->ops;
}

void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint8_t revision)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	pthread_mutex_init(&d->lock, NULL);
	pci_cfg_set16(d->cfg, PCI_VENDOR_ID, vendor);
	pci_cfg_set16(d->cfg, PCI_DEVICE_ID, device);
	d->cfg[PCI_REVISION_ID] = revision;
	d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	pci_cfg_set16(d->cfg, PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	d->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	pci_cfg_set16(d->wmask, PCI_COMMAND, PCI_CMD_WMASK);
	pci_cfg_set16(d->w1c, PCI_STATUS, PCI_STATUS_W1C);
	d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	d->wmask[PCI_LATENCY_TIMER] = 0xff;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->cap_end = PCI_CAP_START;
}

void pci_dev_set_subsys(struct pci_dev *d, uint16_t subsys_vendor, uint16_t subsys_id)
{
	pci_cfg_set16(d->cfg, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	pci_cfg_set16(d->cfg, PCI_SUBSYSTEM_ID, subsys_id);
}

int pci_dev_add_bar(struct pci_dev *d, int bar, uint64_t size, bool is64, const struct pci_bar_ops *ops)
{
	uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * (uint32_t)bar;
	uint32_t flags = PCI_BASE_ADDRESS_SPACE_MEMORY;

	if (bar < 0 || bar >= PCI_NUM_BARS - (is64 ? 1 : 0) || size < 16 || (size & (size - 1)) ||
	    (!is64 && size > (1ULL << 31)) || d->bar[bar].size || (bar > 0 && d->bar[bar - 1].is64) ||
	    (is64 && d->bar[bar + 1].size) || !ops)
		return -EINVAL;
	if (is64)
		flags |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	d->bar[bar] = (struct pci_bar){ .size = size, .is64 = is64, .ops = ops };
	pci_cfg_set32(d->cfg, reg, flags);
	/* Writable address bits are exactly those above the size: writing all-ones reads back the mask. */
	pci_cfg_set32(d->wmask, reg, (uint32_t)~(size - 1) & (uint32_t)PCI_BASE_ADDRESS_MEM_MASK);
	if (is64)
		pci_cfg_set32(d->wmask, reg + 4, (uint32_t)(~(size - 1) >> 32));
	return 0;
}

int pci_add_cap(struct pci_dev *d, const void *body, uint32_t len)
{
	uint32_t off = (d->cap_end + 3u) & ~3u;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	memcpy(d->cfg + off, body, len);
	d->cfg[off + PCI_CAP_LIST_NEXT] = 0;
	if (d->cap_last)
		d->cfg[d->cap_last + PCI_CAP_LIST_NEXT] = (uint8_t)off;
	else
		d->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	d->cap_last = (uint8_t)off;
	d->cap_end = (uint8_t)(off + len < PCI_CFG_SIZE ? off + len : PCI_CFG_SIZE - 1);
	return (int)off;
}

/* The address BAR bar decodes now: memory enabled and wholly inside the window, else 0. */
static uint64_t bar_decode_gpa(const struct pci *pci, const struct pci_dev *d, int bar)
{
	uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * (uint32_t)bar;
	uint64_t gpa = pci_cfg_get32(d->cfg, reg) & (uint32_t)PCI_BASE_ADDRESS_MEM_MASK;
	uint64_t size = d->bar[bar].size;

	if (d->bar[bar].is64)
		gpa |= (uint64_t)pci_cfg_get32(d->cfg, reg + 4) << 32;
	if (!(d->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY))
		return 0;
	if (gpa < pci->mmio_gpa || gpa - pci->mmio_gpa > pci->mmio_size - size)
		return 0;
	return gpa;
}

/* Called with cfg_lock held after anything that may move a BAR. */
static void pci_update_mappings(struct pci_dev *d)
{
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t old_gpa, new_gpa;

		if (!d->bar[i].size)
			continue;
		new_gpa = bar_decode_gpa(d->pci, d, i);
		old_gpa = d->bar[i].mapped_gpa;
		if (new_gpa == old_gpa)
			continue;
		__atomic_store_n(&d->bar[i].mapped_gpa, new_gpa, __ATOMIC_RELEASE);
		log_debug("pci", "%s: BAR%d %#llx -> %#llx", d->name, i, (unsigned long long)old_gpa,
			  (unsigned long long)new_gpa);
		if (d->bar_remap)
			d->bar_remap(d, i, old_gpa, new_gpa);
	}
}

/* irq_lock held. Drive the shared line from the OR of its devices. */
static void intx_update(struct pci *pci, struct pci_dev *d)
{
	bool want = d->intx_level && !d->intx_disabled;
	uint32_t gsi = d->intx_gsi, line = gsi - pci->intx_gsi_base;

	if (want == d->intx_asserted || line >= pci->intx_nr_lines)
		return;
	d->intx_asserted = want;
	if (want && pci->line_count[line]++ == 0)
		vmm_irq_line(pci->ops, gsi, 1);
	else if (!want && --pci->line_count[line] == 0)
		vmm_irq_line(pci->ops, gsi, 0);
}

void pci_irq_set(struct pci_dev *d, bool level)
{
	struct pci *pci = d->pci;

	if (!pci || !d->intx_pin)
		return;
	pthread_mutex_lock(&pci->irq_lock);
	d->intx_level = level;
	intx_update(pci, d);
	pthread_mutex_unlock(&pci->irq_lock);
}

static bool overlaps(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	return a < b + blen && b < a + alen;
}

/* cfg_lock held; reg + len <= 256 (an access never crosses the data dword). */
static uint32_t cfg_read(struct pci *pci, struct pci_dev *d, uint32_t reg, uint32_t len)
{
	uint8_t buf[4];
	uint32_t v = 0;

	memcpy(buf, d->cfg + reg, len);
	if (overlaps(reg, len, PCI_STATUS, 1)) {
		pthread_mutex_lock(&pci->irq_lock);
		if (d->intx_level)
			buf[PCI_STATUS - reg] |= PCI_STATUS_INTERRUPT;
		pthread_mutex_unlock(&pci->irq_lock);
	}
	for (uint32_t i = 0; i < len; i++)
		v |= (uint32_t)buf[i] << (8 * i);
	return v;
}

static void cfg_write(struct pci *pci, struct pci_dev *d, uint32_t reg, uint32_t len, uint32_t v)
{
	for (uint32_t i = 0; i < len; i++) {
		uint8_t b = (uint8_t)(v >> (8 * i));
		uint32_t r = reg + i;

		d->cfg[r] = (uint8_t)((d->cfg[r] & ~d->wmask[r]) | (b & d->wmask[r]));
		d->cfg[r] &= (uint8_t)~(b & d->w1c[r]);
	}
	if (overlaps(reg, len, PCI_COMMAND, 2) || overlaps(reg, len, PCI_BASE_ADDRESS_0, 24))
		pci_update_mappings(d);
	if (overlaps(reg, len, PCI_COMMAND + 1, 1)) {
		pthread_mutex_lock(&pci->irq_lock);
		d->intx_disabled = d->cfg[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_DISABLE >> 8);
		intx_update(pci, d);
		pthread_mutex_unlock(&pci->irq_lock);
	}
	if (d->msix && overlaps(reg, len, d->msix->cap + PCI_MSIX_FLAGS, 2))
		msix_cfg_written(d);
}

/* The function CONFIG_ADDRESS selects, or NULL (disabled, other bus, other function, empty slot). */
static struct pci_dev *cfg_target(struct pci *pci)
{
	uint32_t a = pci->st.addr;

	if (!(a & PCI_ADDR_ENABLE) || ((a >> 16) & 0xff) || ((a >> 8) & 7))
		return NULL;
	return pci->slot[(a >> 11) & 0x1f];
}

static void pci_cfg_io_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct pci *pci = opaque;
	uint32_t v = 0xffffffff;

	if (len > 4 || off + len > 8) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&pci->cfg_lock);
	if (off == 0 && len == 4) {
		v = pci->st.addr;
	} else if (off >= 4) {
		struct pci_dev *d = cfg_target(pci);

		if (d)
			v = cfg_read(pci, d, (pci->st.addr & 0xfc) + (uint32_t)(off - 4), len);
	}
	pthread_mutex_unlock(&pci->cfg_lock);
	memcpy(data, &v, len);
}

static void pci_cfg_io_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct pci *pci = opaque;
	uint32_t v = 0;

	if (len > 4 || off + len > 8)
		return;
	memcpy(&v, data, len);
	pthread_mutex_lock(&pci->cfg_lock);
	if (off == 0 && len == 4) {
		pci->st.addr = v & PCI_ADDR_BITS;
	} else if (off >= 4) {
		struct pci_dev *d = cfg_target(pci);

		if (d)
			cfg_write(pci, d, (pci->st.addr & 0xfc) + (uint32_t)(off - 4), len, v);
	}
	/* other byte/word writes to 0xcf8..0xcfb are ignored */
	pthread_mutex_unlock(&pci->cfg_lock);
	/* 0xcf9, the chipset's reset control register (PIIX/ICH "RC"): bit 2 (RST_CPU) resets, which
	 * ends the VM as a reboot. SeaBIOS reboots through it, Linux with reboot=pci. */
	if (off == 1 && len == 1 && (v & PCI_RC_RST_CPU))
		vmm_request_stop(pci->ops, VM_STOP_REBOOT, 0);
}

const struct bus_ops pci_cfg_io_ops = { .read = pci_cfg_io_read, .write = pci_cfg_io_write };

static void pci_mmio_access(struct pci *pci, uint64_t off, void *rdata, const void *wdata, uint32_t len)
{
	uint64_t gpa = pci->mmio_gpa + off, boff = 0;
	struct pci_dev *d = NULL;
	int bar = -1;

	/* No lock on this exit path: a BAR moved meanwhile is seen at its old or its new place. */
	for (int s = 0; s < PCI_MAX_SLOTS && bar < 0; s++) {
		struct pci_dev *sd = __atomic_load_n(&pci->slot[s], __ATOMIC_ACQUIRE);

		if (!sd)
			break;		/* slots have no gaps */
		for (int i = 0; i < PCI_NUM_BARS; i++) {
			uint64_t base = __atomic_load_n(&sd->bar[i].mapped_gpa, __ATOMIC_ACQUIRE);

			if (base && gpa >= base && gpa - base < sd->bar[i].size &&
			    len <= sd->bar[i].size - (gpa - base)) {
				d = sd;
				bar = i;
				boff = gpa - base;
				break;
			}
		}
	}
	if (bar < 0) {
		if (rdata)
			memset(rdata, 0xff, len);
		return;
	}
	if (d->msix && msix_bar_access(d, bar, boff, rdata, wdata, len))
		return;
	if (rdata) {
		if (d->bar[bar].ops->read)
			d->bar[bar].ops->read(d, bar, boff, rdata, len);
		else
			memset(rdata, 0xff, len);
	} else if (d->bar[bar].ops->write) {
		d->bar[bar].ops->write(d, bar, boff, wdata, len);
	}
}

static void pci_mmio_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	pci_mmio_access(opaque, off, data, NULL, len);
}

static void pci_mmio_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	pci_mmio_access(opaque, off, NULL, data, len);
}

const struct bus_ops pci_mmio_ops = { .read = pci_mmio_read, .write = pci_mmio_write };

int pci_add_device(struct pci *pci, struct pci_dev *d)
{
	uint64_t cursor = pci->next_gpa;
	int slot;

	for (slot = 1; slot < PCI_MAX_SLOTS && pci->slot[slot]; slot++)
		;
	if (slot == PCI_MAX_SLOTS)
		return -ENOSPC;
	for (int i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t size = d->bar[i].size, align = size < 4096 ? 4096 : size;
		uint64_t gpa = (cursor + align - 1) & ~(align - 1);
		uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * (uint32_t)i;

		if (!size)
			continue;
		if (gpa < cursor || gpa + size > pci->mmio_gpa + pci->mmio_size)
			return -ENOSPC;
		pci_cfg_set32(d->cfg, reg, (pci_cfg_get32(d->cfg, reg) & 0xf) | (uint32_t)gpa);
		if (d->bar[i].is64)
			pci_cfg_set32(d->cfg, reg + 4, (uint32_t)(gpa >> 32));
		cursor = gpa + size;
	}
	d->pci = pci;
	d->slot = slot;
	if (d->intx_pin) {
		d->intx_gsi = pci_intx_gsi(pci->intx_gsi_base, pci->intx_nr_lines, (unsigned)slot,
					   d->intx_pin);
		d->cfg[PCI_INTERRUPT_PIN] = d->intx_pin;
		d->cfg[PCI_INTERRUPT_LINE] = (uint8_t)d->intx_gsi;
	}
	pthread_mutex_lock(&pci->cfg_lock);
	pci->next_gpa = cursor;
	d->cfg[PCI_COMMAND] |= PCI_COMMAND_MEMORY;
	__atomic_store_n(&pci->slot[slot], d, __ATOMIC_RELEASE);
	pci_update_mappings(d);
	pthread_mutex_unlock(&pci->cfg_lock);
	log_debug("pci", "00:%02x.0 %s", slot, d->name);
	return 0;
}

/* A function's state (pci.h): config bytes, then msix.c's part. */

size_t pci_dev_state_len(const struct pci_dev *d)
{
	return PCI_CFG_SIZE + msix_state_len(d);
}

ssize_t pci_dev_save(struct pci_dev *d, void *buf, size_t cap)
{
	size_t len = pci_dev_state_len(d);

	if (cap < len)
		return -ENOSPC;
	if (d->pci)
		pthread_mutex_lock(&d->pci->cfg_lock);
	memcpy(buf, d->cfg, PCI_CFG_SIZE);
	if (d->pci)
		pthread_mutex_unlock(&d->pci->cfg_lock);
	msix_save(d, (uint8_t *)buf + PCI_CFG_SIZE);
	return (ssize_t)len;
}

int pci_dev_check(struct pci_dev *d, const void *buf, size_t len)
{
	const uint8_t *cfg = buf;
	int ret = 0;

	if (len != pci_dev_state_len(d) || !d->pci)
		return -EINVAL;
	pthread_mutex_lock(&d->pci->cfg_lock);
	for (uint32_t r = 0; r < PCI_CFG_SIZE && !ret; r++)
		if ((cfg[r] ^ d->cfg[r]) & ~(d->wmask[r] | d->w1c[r]))
			ret = -EINVAL;
	pthread_mutex_unlock(&d->pci->cfg_lock);
	return ret ? ret : msix_check(d, cfg + PCI_CFG_SIZE);
}

void pci_dev_load(struct pci_dev *d, const void *buf)
{
	struct pci *pci = d->pci;

	pthread_mutex_lock(&pci->cfg_lock);
	memcpy(d->cfg, buf, PCI_CFG_SIZE);
	pci_update_mappings(d);
	pthread_mutex_lock(&pci->irq_lock);
	d->intx_disabled = d->cfg[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_DISABLE >> 8);
	intx_update(pci, d);
	pthread_mutex_unlock(&pci->irq_lock);
	if (d->msix) {
		msix_load(d, (const uint8_t *)buf + PCI_CFG_SIZE);
		msix_cfg_written(d);	/* enable/mask shadows, routes, pending vectors */
	}
	pthread_mutex_unlock(&pci->cfg_lock);
}

/* Lifecycle of the host (device.h). */

static struct pci *host_of(struct device *dev)
{
	return device_of(dev, struct pci, dev);
}

/* The bridge's power-on config: writable bits zero, then memory and I/O decoding on. cfg_lock held
 * (or not yet shared). */
static void bridge_power_on(struct pci_dev *b)
{
	for (uint32_t r = 0; r < PCI_CFG_SIZE; r++)
		b->cfg[r] &= (uint8_t)~b->wmask[r];
	b->cfg[PCI_COMMAND] |= PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
}

static void pci_host_reset(struct device *dev)
{
	struct pci *pci = host_of(dev);

	pthread_mutex_lock(&pci->cfg_lock);
	pci->st.addr = 0;
	bridge_power_on(&pci->bridge);
	pthread_mutex_unlock(&pci->cfg_lock);
}

/* The record: the latch, then the bridge's 256 config bytes. */
#define PCI_HOST_RECORD_LEN	(sizeof(struct pci_host_state) + PCI_CFG_SIZE)

static ssize_t pci_host_save(struct device *dev, void *buf, size_t cap)
{
	struct pci *pci = host_of(dev);

	if (cap < PCI_HOST_RECORD_LEN)
		return -ENOSPC;
	pthread_mutex_lock(&pci->cfg_lock);
	memcpy(buf, &pci->st, sizeof(pci->st));
	memcpy((char *)buf + sizeof(pci->st), pci->bridge.cfg, PCI_CFG_SIZE);
	pthread_mutex_unlock(&pci->cfg_lock);
	return PCI_HOST_RECORD_LEN;
}

/* Only the latch's defined bits, and only bytes the guest could have written, may differ from this
 * host's own: ids, class and BAR flags are the machine's, not the record's. */
static int pci_host_restore(struct device *dev, const void *buf, size_t len)
{
	struct pci *pci = host_of(dev);
	struct pci_dev *b = &pci->bridge;
	struct pci_host_state st;
	const uint8_t *cfg = (const uint8_t *)buf + sizeof(st);
	int ret = 0;

	if (len != PCI_HOST_RECORD_LEN)
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.addr & ~PCI_ADDR_BITS)
		return -EINVAL;
	pthread_mutex_lock(&pci->cfg_lock);
	for (uint32_t r = 0; r < PCI_CFG_SIZE && !ret; r++)
		if ((cfg[r] ^ b->cfg[r]) & ~b->wmask[r])
			ret = -EINVAL;
	if (!ret) {
		pci->st = st;
		memcpy(b->cfg, cfg, PCI_CFG_SIZE);
	}
	pthread_mutex_unlock(&pci->cfg_lock);
	return ret;
}

static void pci_host_destroy(struct device *dev)
{
	pci_destroy(host_of(dev));
}

static const struct device_ops pci_host_ops = {
	.kind = "pci-host",
	.state_version = PCI_HOST_STATE_VERSION,
	.reset = pci_host_reset,
	.save = pci_host_save,
	.restore = pci_host_restore,
	.destroy = pci_host_destroy,
};

struct device *pci_host_device(struct pci *pci)
{
	return &pci->dev;
}

static bool window_ok(const struct pci_config *cfg)
{
	return cfg->mmio_size >= 4096 && !(cfg->mmio_gpa & 4095) && !(cfg->mmio_size & 4095) &&
	       cfg->mmio_gpa < (1ULL << 32) && cfg->mmio_size <= (1ULL << 32) - cfg->mmio_gpa;
}

int pci_create(struct pci **out, const struct pci_config *cfg)
{
	struct pci *pci;

	if (!window_ok(cfg) || !cfg->intx_nr_lines || cfg->intx_nr_lines > PCI_INTX_MAX_LINES ||
	    cfg->intx_gsi_base > UINT32_MAX - cfg->intx_nr_lines)
		return -EINVAL;
	pci = calloc(1, sizeof(*pci));
	if (!pci)
		return -ENOMEM;
	device_init(&pci->dev, &pci_host_ops, "pci");
	pci->ops = cfg->vmm;
	pci->mmio_gpa = cfg->mmio_gpa;
	pci->mmio_size = cfg->mmio_size;
	pci->intx_gsi_base = cfg->intx_gsi_base;
	pci->intx_nr_lines = cfg->intx_nr_lines;
	pci->next_gpa = cfg->mmio_gpa;
	pthread_mutex_init(&pci->cfg_lock, NULL);
	pthread_mutex_init(&pci->irq_lock, NULL);
	/* Intel Q35 DRAM controller ids: a host bridge every guest knows and binds no driver to. */
	pci_dev_init(&pci->bridge, "host-bridge", 0x8086, 0x29c0, 0x060000, 0);
	bridge_power_on(&pci->bridge);
	pci->bridge.pci = pci;
	pci->slot[0] = &pci->bridge;
	*out = pci;
	return 0;
}

void pci_destroy(struct pci *pci)
{
	if (!pci)
		return;
	pthread_mutex_destroy(&pci->bridge.lock);
	pthread_mutex_destroy(&pci->cfg_lock);
	pthread_mutex_destroy(&pci->irq_lock);
	free(pci);
}

void pci_host_set_ids(struct pci *pci, uint16_t vendor, uint16_t device, uint16_t subsys_vendor,
		      uint16_t subsys_id)
{
	pci_cfg_set16(pci->bridge.cfg, PCI_VENDOR_ID, vendor);
	pci_cfg_set16(pci->bridge.cfg, PCI_DEVICE_ID, device);
	pci_dev_set_subsys(&pci->bridge, subsys_vendor, subsys_id);
}

uint32_t pci_slot_mask(const struct pci *pci)
{
	uint32_t mask = 0;

	for (int slot = 1; slot < PCI_MAX_SLOTS && slot < 32; slot++)
		if (__atomic_load_n(&pci->slot[slot], __ATOMIC_ACQUIRE))
			mask |= 1u << slot;
	return mask;
}
