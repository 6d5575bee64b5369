/* virtio-pci internals shared by the transport (virtio_pci.c) and its saved state
 * (virtio_pci_state.c): the register file and what the transport tracks per queue. */
#ifndef CKVM_VIRTIO_PCI_INT_H
#define CKVM_VIRTIO_PCI_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "virtio/virtio_pci.h"

#define VP_STATE_VERSION	1	/* of the record virtio_pci_state.c writes */
#define COMMON_LEN		0x38	/* through queue_device; later fields are not offered */
#define ISR_QUEUE		0x1	/* ISR bit 0: used buffer notification */

struct vp_queue {
	struct virtio_pci *vp;
	uint16_t idx;
	uint16_t size;
	uint16_t vector;	/* atomic: read by signal_used on any thread */
	uint16_t enable;	/* atomic: read by the doorbell path */
	uint64_t desc_gpa, driver_gpa, device_gpa;
	int kick_efd;
	uint64_t ioev_gpa;	/* where kick_efd is bound as an ioeventfd, 0 = nowhere */
};

struct virtio_pci {
	struct device dev;	/* the board's registry entry (device.h) */
	struct pci_dev pci;
	struct virtio_dev *vdev;
	struct evloop *ev;
	pthread_mutex_t lock;	/* common config and the device ops it calls */
	uint32_t dfselect, gfselect;
	uint64_t offered, driver_features;
	uint16_t queue_select;
	uint16_t msix_config;	/* atomic */
	uint8_t status;		/* atomic: needs_reset ORs in from any thread */
	uint8_t cfg_gen;	/* atomic */
	uint8_t isr;		/* atomic */
	uint16_t nvec;
	bool restored;		/* a restore happened: resume replays used interrupts */
	struct vp_queue q[];
};

static inline uint8_t status_get(struct virtio_pci *vp)
{
	return __atomic_load_n(&vp->status, __ATOMIC_ACQUIRE);
}

/* virtio_pci.c */
void vp_reset(struct virtio_pci *vp);			/* vp->lock held */
void vp_interrupt(struct virtio_pci *vp, uint16_t vec, uint8_t isr_bit);
void vp_needs_reset(struct virtio_dev *d);
/* virtio_pci_state.c: the transport's device ops (device.h). */
ssize_t vp_dev_save(struct device *dev, void *buf, size_t cap);
int vp_dev_restore(struct device *dev, const void *buf, size_t len);
void vp_dev_resume(struct device *dev);

#endif
