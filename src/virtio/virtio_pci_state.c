/* virtio-pci saved state (device.h records; virtio 1.x spec §4.1.4.3 common configuration): the
 * register file, per queue its setup and the device-side ring indices, then the PCI function (config
 * space, MSI-X table and PBA). Runs on the thread that saves/restores a paused VM; resume on the
 * thread that resumes it. A record is untrusted (a snapshot file, a migration stream): every field is
 * checked before anything changes. */
#include "virtio/virtio_pci_int.h"

#include <errno.h>
#include <string.h>
#include <linux/virtio_pci.h>

#include "log.h"

/* Host byte order, no implicit padding (explicit pad bytes must be zero). */
struct vp_state {
	uint16_t device_id, num_queues, nvec, queue_select;
	uint32_t dfselect, gfselect;
	uint64_t driver_features;	/* as the driver wrote them */
	uint64_t features;		/* negotiated at FEATURES_OK (0 before) */
	uint16_t msix_config;
	uint8_t status, cfg_gen, isr, pad[3];
};

struct vp_qstate {
	uint64_t desc_gpa, driver_gpa, device_gpa;
	uint16_t size, vector, enable;
	uint16_t last_avail, used_idx;	/* the device side: what it consumed and what it returned */
	uint8_t broken, pad[5];
};

_Static_assert(sizeof(struct vp_state) == 40, "vp_state has no hidden padding");
_Static_assert(sizeof(struct vp_qstate) == 40, "vp_qstate has no hidden padding");

#define STATUS_KNOWN	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK | \
			 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)
#define ISR_KNOWN	(ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG)

static struct virtio_pci *vp_of(struct device *dev)
{
	return device_of(dev, struct virtio_pci, dev);
}

static size_t record_len(const struct virtio_pci *vp)
{
	return sizeof(struct vp_state) + vp->vdev->num_queues * sizeof(struct vp_qstate) +
	       pci_dev_state_len(&vp->pci);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* Only a quiescent device is saved: the device's pause completed or gave back every chain it had
 * popped (used == consumed on every queue), so no request is lost or repeated by the copy. */
ssize_t vp_dev_save(struct device *dev, void *buf, size_t cap)
{
	struct virtio_pci *vp = vp_of(dev);
	struct virtio_dev *d = vp->vdev;
	struct vp_state st = { 0 };
	uint8_t *p = buf;
	ssize_t ret = (ssize_t)record_len(vp);

	if (cap < (size_t)ret)
		return -ENOSPC;
	pthread_mutex_lock(&vp->lock);
	st.device_id = d->device_id;
	st.num_queues = d->num_queues;
	st.nvec = vp->nvec;
	st.queue_select = vp->queue_select;
	st.dfselect = vp->dfselect;
	st.gfselect = vp->gfselect;
	st.driver_features = vp->driver_features;
	st.features = d->features;
	st.msix_config = __atomic_load_n(&vp->msix_config, __ATOMIC_ACQUIRE);
	st.status = status_get(vp);
	st.cfg_gen = __atomic_load_n(&vp->cfg_gen, __ATOMIC_ACQUIRE);
	st.isr = __atomic_load_n(&vp->isr, __ATOMIC_ACQUIRE);
	memcpy(p, &st, sizeof(st));
	p += sizeof(st);
	for (unsigned i = 0; i < d->num_queues; i++) {
		struct vp_queue *q = &vp->q[i];
		struct virtq *vq = &d->vq[i];
		struct vp_qstate qs = {
			.desc_gpa = q->desc_gpa, .driver_gpa = q->driver_gpa, .device_gpa = q->device_gpa,
			.size = q->size, .vector = __atomic_load_n(&q->vector, __ATOMIC_ACQUIRE),
			.enable = __atomic_load_n(&q->enable, __ATOMIC_ACQUIRE),
			.last_avail = vq->last_avail, .used_idx = vq->used_idx, .broken = vq->broken,
		};

		if (qs.last_avail != qs.used_idx) {
			log_warnx("virtio-pci", "%s: queue %u has %u requests in flight: not paused?", d->name,
				  i, (uint16_t)(qs.last_avail - qs.used_idx));
			ret = -EBUSY;
		}
		memcpy(p, &qs, sizeof(qs));
		p += sizeof(qs);
	}
	pthread_mutex_unlock(&vp->lock);
	if (ret >= 0 && pci_dev_save(&vp->pci, p, pci_dev_state_len(&vp->pci)) < 0)
		ret = -ENOSPC;
	return ret;
}

static bool vector_ok(const struct virtio_pci *vp, uint16_t v)
{
	return v == VIRTIO_MSI_NO_VECTOR || v < vp->nvec;
}

/* The register file alone: what the driver could have reached from reset through this transport's
 * write paths, on a device offering what this one offers. */
static int check_regs(const struct virtio_pci *vp, const struct vp_state *st)
{
	const struct virtio_dev *d = vp->vdev;
	uint8_t s = st->status;

	if (st->device_id != d->device_id || st->num_queues != d->num_queues || st->nvec != vp->nvec ||
	    !all_zero(st->pad, sizeof(st->pad)) || (s & ~STATUS_KNOWN) || (st->isr & ~ISR_KNOWN) ||
	    !vector_ok(vp, st->msix_config))
		return -EINVAL;
	if (s & VIRTIO_CONFIG_S_FEATURES_OK) {
		/* what the transport accepted at FEATURES_OK, against what this device offers */
		if (st->features != st->driver_features || (st->features & ~vp->offered) ||
		    !(st->features & (1ULL << VIRTIO_F_VERSION_1)))
			return -EINVAL;
	} else if (st->features || (s & VIRTIO_CONFIG_S_DRIVER_OK)) {
		return -EINVAL;
	}
	return 0;
}

/* One queue. An enabled one must describe rings this device accepts now (vq_enable on a scratch
 * queue checks size, alignment and that each ring lies in guest RAM) with nothing in flight; the
 * driver's own index is bounded when the queue is next used (guest RAM may be loaded later). */
static int check_queue(const struct virtio_pci *vp, const struct vp_state *st, const struct vp_qstate *qs)
{
	const struct virtio_dev *d = vp->vdev;
	struct virtq scratch;

	if (!all_zero(qs->pad, sizeof(qs->pad)) || qs->enable > 1 || qs->broken > 1 ||
	    !vector_ok(vp, qs->vector))
		return -EINVAL;
	if (!qs->enable)
		return qs->last_avail || qs->used_idx || qs->broken ? -EINVAL : 0;
	if (!(st->status & VIRTIO_CONFIG_S_FEATURES_OK) || qs->size > d->queue_size_max ||
	    qs->last_avail != qs->used_idx)
		return -EINVAL;
	return vq_enable(&scratch, d->gm, qs->size, qs->desc_gpa, qs->driver_gpa, qs->device_gpa,
			 st->features);
}

int vp_dev_restore(struct device *dev, const void *buf, size_t len)
{
	struct virtio_pci *vp = vp_of(dev);
	struct virtio_dev *d = vp->vdev;
	const uint8_t *qp = (const uint8_t *)buf + sizeof(struct vp_state), *pcip;
	struct vp_state st;
	int ret = 0;

	if (len != record_len(vp))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	pcip = qp + d->num_queues * sizeof(struct vp_qstate);
	pthread_mutex_lock(&vp->lock);
	ret = check_regs(vp, &st);
	for (unsigned i = 0; i < d->num_queues && !ret; i++) {
		struct vp_qstate qs;

		memcpy(&qs, qp + i * sizeof(qs), sizeof(qs));
		ret = check_queue(vp, &st, &qs) ? -EINVAL : 0;
	}
	if (!ret)
		ret = pci_dev_check(&vp->pci, pcip, pci_dev_state_len(&vp->pci));
	if (ret) {
		pthread_mutex_unlock(&vp->lock);
		return -EINVAL;
	}

	/* From here on nothing fails: start from a reset device and replay the record into it. */
	vp_reset(vp);
	pci_dev_load(&vp->pci, pcip);
	vp->dfselect = st.dfselect;
	vp->gfselect = st.gfselect;
	vp->driver_features = st.driver_features;
	d->features = st.features;
	vp->queue_select = st.queue_select;
	__atomic_store_n(&vp->msix_config, st.msix_config, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < d->num_queues; i++) {
		struct vp_queue *q = &vp->q[i];
		struct vp_qstate qs;

		memcpy(&qs, qp + i * sizeof(qs), sizeof(qs));
		q->size = qs.size;
		q->desc_gpa = qs.desc_gpa;
		q->driver_gpa = qs.driver_gpa;
		q->device_gpa = qs.device_gpa;
		__atomic_store_n(&q->vector, qs.vector, __ATOMIC_RELEASE);
		if (!qs.enable)
			continue;
		/* checked above on a scratch queue: the same arguments succeed again */
		if (vq_enable(&d->vq[i], d->gm, qs.size, qs.desc_gpa, qs.driver_gpa, qs.device_gpa,
			      st.features) == 0) {
			vq_set_indices(&d->vq[i], qs.last_avail, qs.used_idx);
			d->vq[i].broken = qs.broken;
			__atomic_store_n(&q->enable, 1, __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&vp->cfg_gen, st.cfg_gen, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->isr, st.isr, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->status, st.status, __ATOMIC_RELEASE);
	/* A running device runs again, as at DRIVER_OK; it stays idle until its own resume. */
	if ((st.status & VIRTIO_CONFIG_S_DRIVER_OK) && !(st.status & VIRTIO_CONFIG_S_NEEDS_RESET) &&
	    d->ops->activate(d) < 0)
		vp_needs_reset(d);
	/* INTx is a level: an ISR the driver has not read yet still holds the line. */
	if (st.isr && !pci_msix_enabled(&vp->pci))
		pci_irq_set(&vp->pci, true);
	vp->restored = true;
	pthread_mutex_unlock(&vp->lock);
	return 0;
}

/* After a restore: an interrupt raised just before the save may never have reached the guest (an
 * irqfd write still in flight, or the irqchip state saved before it). A used-buffer interrupt for
 * each queue the driver has not caught up with costs at most a spurious interrupt. */
void vp_dev_resume(struct device *dev)
{
	struct virtio_pci *vp = vp_of(dev);
	struct virtio_dev *d = vp->vdev;
	uint8_t s = status_get(vp);

	pthread_mutex_lock(&vp->lock);
	if (vp->restored && (s & VIRTIO_CONFIG_S_DRIVER_OK) && !(s & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		for (unsigned i = 0; i < d->num_queues; i++)
			if (__atomic_load_n(&vp->q[i].enable, __ATOMIC_ACQUIRE) && vq_has_unseen(&d->vq[i]))
				vp_interrupt(vp, __atomic_load_n(&vp->q[i].vector, __ATOMIC_ACQUIRE),
					     ISR_QUEUE);
	}
	vp->restored = false;
	pthread_mutex_unlock(&vp->lock);
}
