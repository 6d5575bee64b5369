/* PCI bus 0 behind a host bridge: type-1 configuration access (ports 0xcf8/0xcfc), per-function
 * 256-byte configuration space with write masks, memory BARs dispatched from one MMIO window,
 * capability lists, INTx and an MSI-X helper (msix.c). Devices embed struct pci_dev. */
#ifndef CKVM_PCI_H
#define CKVM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/vmm_ops.h"

#define PCI_MAX_SLOTS	32
#define PCI_NUM_BARS	6
#define PCI_CFG_SIZE	256
#define PCI_CAP_START	0x40	/* first capability offset */

/* INTx routing: THE swizzle of the machine (the PCI model, the DSDT _PRT and the MP table all call
 * it). The board gives the bus nr_lines interrupt lines from GSI gsi_base up; the function in slot S
 * with pin P (1 = INTA .. 4 = INTD) drives line (S + P - 1) % nr_lines, so INTA of consecutive slots
 * get distinct lines. Lines are level-triggered and may be shared (the bus ORs its devices). The
 * interrupt line register starts out holding that GSI. */
#define PCI_INTX_PINS		4	/* INTA..INTD */
#define PCI_INTX_MAX_LINES	32
static inline uint32_t pci_intx_gsi(uint32_t gsi_base, uint32_t nr_lines, unsigned slot, unsigned pin)
{
	return gsi_base + (slot + pin - 1) % nr_lines;
}

struct pci;
struct pci_dev;

/* A BAR's registers; off is relative to the BAR's start, len 1..8, off + len <= BAR size.
 * Called on vCPU threads (concurrently for different vCPUs): the device locks itself. */
struct pci_bar_ops {
	void (*read)(struct pci_dev *d, int bar, uint64_t off, void *data, uint32_t len);
	void (*write)(struct pci_dev *d, int bar, uint64_t off, const void *data, uint32_t len);
};

struct pci_bar {
	uint64_t size;			/* power of two >= 16; 0 = BAR not implemented */
	bool is64;			/* occupies this and the next BAR register */
	const struct pci_bar_ops *ops;
	uint64_t mapped_gpa;		/* where it decodes now (0 = not decoding); owned by pci.c */
};

/* MSI-X state (PCI 3.0 §6.8.2), one table + PBA inside a memory BAR of the function. */
struct pci_msix_vec {
	uint32_t addr_lo, addr_hi, data, ctrl;	/* the guest-visible table entry */
	int gsi;				/* from vmm_ops->msi_alloc, -1 if none */
	int efd;				/* irqfd eventfd, -1 if none */
	bool irqfd_bound;
	bool route_stale;			/* entry changed since the last msi_route */
};

struct pci_msix {
	uint16_t nvec;
	uint8_t cap;			/* config-space offset of the capability */
	int bar;
	uint32_t table_off, pba_off;	/* inside the BAR */
	bool enabled, fmasked;		/* shadows of message control, under lock */
	uint64_t *pba;			/* pending bits */
	struct pci_msix_vec *vec;
};

struct pci_dev {
	/* Filled in by the device (pci_dev_init, pci_dev_add_bar, pci_add_cap, pci_msix_init): */
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may write */
	uint8_t w1c[PCI_CFG_SIZE];	/* write-1-to-clear bits */
	struct pci_bar bar[PCI_NUM_BARS];
	uint8_t intx_pin;		/* 0 = no INTx, 1..4 = INTA..INTD */
	/* Optional: a BAR started/stopped decoding or moved (old/new 0 = not decoding). Runs on a vCPU
	 * thread with the configuration lock held; may call vmm_ops (ioeventfd) but not pci_* config APIs. */
	void (*bar_remap)(struct pci_dev *d, int bar, uint64_t old_gpa, uint64_t new_gpa);
	void *priv;			/* the device's own pointer */

	/* Owned by pci.c: */
	struct pci *pci;
	int slot;			/* assigned by pci_add_device */
	uint32_t intx_gsi;
	bool intx_level;		/* what the device asks for */
	bool intx_asserted;		/* what the device contributes to the line now */
	bool intx_disabled;		/* shadow of PCI_COMMAND_INTX_DISABLE */
	uint8_t cap_last, cap_end;	/* capability list tail and first free byte */
	struct pci_msix *msix;
	pthread_mutex_t lock;		/* MSI-X table/PBA/state */
};

/* What the board gives the bus: its BAR window and its interrupt lines. */
struct pci_config {
	const struct vmm_ops *vmm;
	uint64_t mmio_gpa, mmio_size;	/* 32-bit window, page-aligned: BARs are placed and decode only here */
	uint32_t intx_gsi_base;		/* INTx lines: GSIs intx_gsi_base .. + intx_nr_lines - 1 */
	uint32_t intx_nr_lines;		/* 1..PCI_INTX_MAX_LINES */
};

/* Host bridge at 00:00.0. 0, -EINVAL (a window outside 4 GiB or unaligned, no INTx lines) or -ENOMEM. */
int pci_create(struct pci **out, const struct pci_config *cfg);
void pci_destroy(struct pci *pci);
const struct vmm_ops *pci_vmm_ops(const struct pci *pci);
/* The host's lifecycle (device.h), kind "pci-host": the bridge's config space and the CONFIG_ADDRESS
 * latch. The functions on the bus are devices of their own. Its destroy op is pci_destroy. */
struct device *pci_host_device(struct pci *pci);

/* Give the host bridge other ids (before boot, main thread): firmware tells machines apart by them
 * (SeaBIOS takes subsystem 1af4:1100 as "QEMU", and 8086:29c0 as a Q35 whose MMCONFIG and PAM
 * registers it would program). */
void pci_host_set_ids(struct pci *pci, uint16_t vendor, uint16_t device, uint16_t subsys_vendor,
		      uint16_t subsys_id);

/* Register on the port bus at PORT_PCI_CONFIG, length 8, dev = the struct pci. */
extern const struct bus_ops pci_cfg_io_ops;
/* Register ONCE on the MMIO bus at the window (cfg->mmio_gpa, cfg->mmio_size), dev = the struct pci;
 * accesses go to the BAR that decodes the address now, else read all-ones. */
extern const struct bus_ops pci_mmio_ops;

/* Type-0 header: ids, class (base<<16 | sub<<8 | prog-if), revision. Command/status/BARs/interrupt
 * line writable as the spec says; everything else read-only. */
void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint8_t revision);
void pci_dev_set_subsys(struct pci_dev *d, uint16_t subsys_vendor, uint16_t subsys_id);
/* Declare memory BAR bar (size a power of two >= 16, is64 uses bar+1 too). 0 or -EINVAL. */
int pci_dev_add_bar(struct pci_dev *d, int bar, uint64_t size, bool is64, const struct pci_bar_ops *ops);
/* Append a capability (body[0] = id; body[1] is overwritten with the next pointer) at a dword-
 * aligned offset, linking it into the list. Returns its config offset or -ENOSPC. Its bytes are
 * read-only unless the caller sets d->wmask afterwards. */
int pci_add_cap(struct pci_dev *d, const void *body, uint32_t len);
/* Assign the next free slot (1, 2, ... in call order), place the BARs in the window (naturally
 * aligned, memory decoding enabled), set interrupt line/pin. Before boot, main thread. 0 or -errno. */
int pci_add_device(struct pci *pci, struct pci_dev *d);
/* Raise/lower the function's INTx (level). Any thread. Honours the command register's INTx disable. */
void pci_irq_set(struct pci_dev *d, bool level);

/* Little helpers for config fields (device-side setup). */
static inline void pci_cfg_set16(uint8_t *cfg, uint32_t off, uint16_t v)
{
	cfg[off] = (uint8_t)v;
	cfg[off + 1] = (uint8_t)(v >> 8);
}

static inline void pci_cfg_set32(uint8_t *cfg, uint32_t off, uint32_t v)
{
	pci_cfg_set16(cfg, off, (uint16_t)v);
	pci_cfg_set16(cfg, off + 2, (uint16_t)(v >> 16));
}

static inline uint32_t pci_cfg_get32(const uint8_t *cfg, uint32_t off)
{
	return cfg[off] | (uint32_t)cfg[off + 1] << 8 | (uint32_t)cfg[off + 2] << 16 |
	       (uint32_t)cfg[off + 3] << 24;
}

/* MSI-X (msix.c). Table at table_off and PBA at pba_off (8-byte aligned) inside memory BAR bar of
 * this function, which must already be declared; pci.c routes those BAR ranges to the helper.
 * Allocates one GSI (msi_alloc) and one irqfd eventfd per vector. Call before pci_add_device. */
int pci_msix_init(struct pci_dev *d, uint16_t nvec, int bar, uint32_t table_off, uint32_t pba_off);
void pci_msix_free(struct pci_dev *d);
/* Is MSI-X enabled in message control? (else the device uses INTx) */
bool pci_msix_enabled(struct pci_dev *d);
/* Signal vector vec from any thread: delivered (irqfd write, or msi_send without irqfd) unless the
 * vector or the function is masked, in which case the PBA bit is set and delivery waits for the
 * unmask. -ENODEV when MSI-X is disabled, -EINVAL for a bad vector, else 0. */
int pci_msix_notify(struct pci_dev *d, uint16_t vec);

/* A function's guest-visible state, for the record of the device that owns it (device.h): its 256
 * config bytes (only bits the guest may write can differ from this function's own: ids, class, BAR
 * flags and capabilities are the machine's), then the MSI-X table and PBA when it has MSI-X. All
 * four run while the VM is paused, on the thread restoring it. Check before load: a restore checks
 * every part of its record before it changes anything. Load re-establishes what the registers imply:
 * BAR decoding (and the owner's bar_remap doorbells), INTx disable, and the MSI-X routes and irqfds
 * through vmm_ops (a fresh process allocates new GSIs); pending vectors fire once unmasked. */
size_t pci_dev_state_len(const struct pci_dev *d);
ssize_t pci_dev_save(struct pci_dev *d, void *buf, size_t cap);
int pci_dev_check(struct pci_dev *d, const void *buf, size_t len);	/* 0 or -EINVAL */
void pci_dev_load(struct pci_dev *d, const void *buf);		/* after pci_dev_check said 0 */

/* Internal interface between pci.c and msix.c. */
bool msix_bar_access(struct pci_dev *d, int bar, uint64_t off, void *rdata, const void *wdata,
		     uint32_t len);
void msix_cfg_written(struct pci_dev *d);
size_t msix_state_len(const struct pci_dev *d);
void msix_save(struct pci_dev *d, uint8_t *buf);
int msix_check(struct pci_dev *d, const uint8_t *buf);
void msix_load(struct pci_dev *d, const uint8_t *buf);	/* then msix_cfg_written */

/* The slots holding a device other than the host bridge (bit S = slot S): what the firmware tables
 * describe. */
uint32_t pci_slot_mask(const struct pci *pci);

#endif
