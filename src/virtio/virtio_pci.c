/* virtio-pci modern transport (virtio 1.x spec §4.1): capabilities, common configuration (feature
 * negotiation, device status, queue setup), ISR, notifications and interrupts for one virtio_dev.
 * Register accesses run on vCPU threads; doorbell eventfds on the I/O thread; signals on any thread. */
#include "virtio/virtio_pci.h"
#include "virtio/virtio_pci_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>

#include "log.h"

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040

/* Interrupt for MSI-X vector vec, or INTx with ISR bit isr_bit when MSI-X is off. Any thread. */
void vp_interrupt(struct virtio_pci *vp, uint16_t vec, uint8_t isr_bit)
{
	if (pci_msix_enabled(&vp->pci)) {
		if (vec == VIRTIO_MSI_NO_VECTOR || pci_msix_notify(&vp->pci, vec) != -ENODEV)
			return;
	}
	__atomic_fetch_or(&vp->isr, isr_bit, __ATOMIC_ACQ_REL);
	pci_irq_set(&vp->pci, true);
}

static void vp_signal_used(struct virtio_dev *d, uint16_t q)
{
	struct virtio_pci *vp = d->transport;

	if (q < d->num_queues)
		vp_interrupt(vp, __atomic_load_n(&vp->q[q].vector, __ATOMIC_ACQUIRE), ISR_QUEUE);
}

/* Config space changed: a new generation, and the config interrupt when `notify`. */
static void vp_config_changed(struct virtio_pci *vp, bool notify)
{
	__atomic_fetch_add(&vp->cfg_gen, 1, __ATOMIC_ACQ_REL);
	if (notify)
		vp_interrupt(vp, __atomic_load_n(&vp->msix_config, __ATOMIC_ACQUIRE), VIRTIO_PCI_ISR_CONFIG);
}

/* The device's config changed (a disk's new capacity, a link going down): only a driver that is up
 * is notified (virtio 1.x §4.1.4.5); before DRIVER_OK nobody handles the line, and the driver reads
 * config space (and its generation) when it gets there. */
static void vp_signal_config(struct virtio_dev *d)
{
	struct virtio_pci *vp = d->transport;

	vp_config_changed(vp, status_get(vp) & VIRTIO_CONFIG_S_DRIVER_OK);
}

void vp_needs_reset(struct virtio_dev *d)
{
	struct virtio_pci *vp = d->transport;
	uint8_t old = __atomic_fetch_or(&vp->status, VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_ACQ_REL);

	if (!(old & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		log_guest("virtio-pci", "%s: device needs reset", d->name);
		vp_config_changed(vp, true);	/* also during setup: the driver is polling status */
	}
}

/* Doorbell for queue q (ioeventfd on the I/O thread, or an MMIO write on a vCPU thread). */
static void vp_kick(struct virtio_pci *vp, uint16_t q)
{
	if (q >= vp->vdev->num_queues) {
		log_guest("virtio-pci", "%s: notify for queue %u of %u", vp->vdev->name, q,
			  vp->vdev->num_queues);
		return;
	}
	if ((status_get(vp) & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    __atomic_load_n(&vp->q[q].enable, __ATOMIC_ACQUIRE))
		vp->vdev->ops->notify(vp->vdev, q);
}

static void vp_kick_event(void *arg, uint32_t events)
{
	struct vp_queue *vq = arg;
	uint64_t cnt;

	(void)events;
	if (read(vq->kick_efd, &cnt, sizeof(cnt)) == sizeof(cnt))
		vp_kick(vq->vp, vq->idx);
}

/* Device reset (status := 0). vp->lock held. */
void vp_reset(struct virtio_pci *vp)
{
	struct virtio_dev *d = vp->vdev;

	d->ops->reset(d);
	for (unsigned i = 0; i < d->num_queues; i++) {
		struct vp_queue *q = &vp->q[i];

		vq_reset(&d->vq[i]);
		q->size = d->queue_size_max;
		__atomic_store_n(&q->vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELEASE);
		__atomic_store_n(&q->enable, 0, __ATOMIC_RELEASE);
		q->desc_gpa = q->driver_gpa = q->device_gpa = 0;
	}
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	d->features = 0;
	vp->queue_select = 0;
	__atomic_store_n(&vp->msix_config, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELEASE);
	__atomic_store_n(&vp->isr, 0, __ATOMIC_RELEASE);
	pci_irq_set(&vp->pci, false);
	__atomic_store_n(&vp->status, 0, __ATOMIC_RELEASE);
}

static void vp_write_status(struct virtio_pci *vp, uint8_t val)
{
	struct virtio_dev *d = vp->vdev;
	uint8_t old = status_get(vp);

	if (!val) {
		vp_reset(vp);
		return;
	}
	val &= (uint8_t)~VIRTIO_CONFIG_S_NEEDS_RESET;	/* device-owned */
	if (old & ~val & ~VIRTIO_CONFIG_S_NEEDS_RESET)
		log_guest("virtio-pci", "%s: driver cleared status bits %#x without reset", d->name, old & ~val);
	val |= old;
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		if ((vp->driver_features & ~vp->offered) ||
		    !(vp->driver_features & (1ULL << VIRTIO_F_VERSION_1))) {
			log_guest("virtio-pci", "%s: refusing features %#llx (offered %#llx)", d->name,
				  (unsigned long long)vp->driver_features, (unsigned long long)vp->offered);
			val &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
		} else {
			d->features = vp->driver_features;
		}
	}
	if ((val & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (!(val & VIRTIO_CONFIG_S_FEATURES_OK)) {
			log_guest("virtio-pci", "%s: DRIVER_OK before FEATURES_OK", d->name);
			val &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
		} else {
			__atomic_fetch_or(&vp->status, val, __ATOMIC_ACQ_REL);
			if (d->ops->activate(d) < 0)
				vp_needs_reset(d);
			return;
		}
	}
	__atomic_fetch_or(&vp->status, val, __ATOMIC_ACQ_REL);
}

static void vp_queue_enable(struct virtio_pci *vp, struct vp_queue *q, uint16_t val)
{
	struct virtio_dev *d = vp->vdev;
	uint16_t size = q->size;
	int err;

	if (val != 1 || q->enable) {
		log_guest("virtio-pci", "%s: queue %u: queue_enable %u ignored", d->name, q->idx, val);
		return;
	}
	if (!(status_get(vp) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		log_guest("virtio-pci", "%s: queue %u enabled before FEATURES_OK", d->name, q->idx);
		return;
	}
	if (!size || size > d->queue_size_max || (size & (size - 1)))
		err = -EINVAL;
	else
		err = vq_enable(&d->vq[q->idx], d->gm, size, q->desc_gpa, q->driver_gpa, q->device_gpa,
				d->features);
	if (err) {
		log_guest("virtio-pci", "%s: queue %u: bad ring (size %u desc %#llx avail %#llx used %#llx)",
			  d->name, q->idx, size, (unsigned long long)q->desc_gpa,
			  (unsigned long long)q->driver_gpa, (unsigned long long)q->device_gpa);
		vp_needs_reset(d);
		return;
	}
	__atomic_store_n(&q->enable, 1, __ATOMIC_RELEASE);
}

static uint16_t vp_vector(struct virtio_pci *vp, uint16_t v)
{
	return v < vp->nvec ? v : VIRTIO_MSI_NO_VECTOR;
}

static void set_half(uint64_t *r, uint32_t half, uint32_t v)
{
	*r = half ? (*r & 0xffffffffULL) | (uint64_t)v << 32 : (*r & ~0xffffffffULL) | v;
}

/* vp->lock held. Writes must hit one field with its width (64-bit fields: 4 or 8 bytes). */
static void common_write(struct virtio_pci *vp, uint64_t off, uint64_t v, uint32_t len)
{
	struct virtio_dev *d = vp->vdev;
	struct vp_queue *q = vp->queue_select < d->num_queues ? &vp->q[vp->queue_select] : NULL;
	bool q64 = off >= VIRTIO_PCI_COMMON_Q_DESCLO && off < COMMON_LEN;

	if (q64 && ((off & 3) || !(len == 4 || (len == 8 && !(off & 7)))))
		goto bad;
	switch (q64 ? VIRTIO_PCI_COMMON_Q_DESCLO : off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		if (len != 4)
			goto bad;
		vp->dfselect = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		if (len != 4)
			goto bad;
		vp->gfselect = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GF:
		if (len != 4)
			goto bad;
		if (status_get(vp) & VIRTIO_CONFIG_S_FEATURES_OK)
			log_guest("virtio-pci", "%s: driver_feature written after FEATURES_OK", d->name);
		else if (vp->gfselect < 2)
			set_half(&vp->driver_features, vp->gfselect, (uint32_t)v);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		if (len != 2)
			goto bad;
		__atomic_store_n(&vp->msix_config, vp_vector(vp, (uint16_t)v), __ATOMIC_RELEASE);
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		if (len != 1)
			goto bad;
		vp_write_status(vp, (uint8_t)v);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		if (len != 2)
			goto bad;
		vp->queue_select = (uint16_t)v;
		return;
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_DESCLO:
		break;
	default:
		goto bad;
	}
	if (!q) {
		log_guest("virtio-pci", "%s: write to queue %u of %u", d->name, vp->queue_select, d->num_queues);
		return;
	}
	if (!q64 && len != 2)
		goto bad;
	if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
		__atomic_store_n(&q->vector, vp_vector(vp, (uint16_t)v), __ATOMIC_RELEASE);
		return;
	}
	if (q->enable) {
		log_guest("virtio-pci", "%s: queue %u registers written while enabled", d->name, q->idx);
		return;
	}
	if (off == VIRTIO_PCI_COMMON_Q_SIZE) {
		q->size = (uint16_t)v;
	} else if (off == VIRTIO_PCI_COMMON_Q_ENABLE) {
		vp_queue_enable(vp, q, (uint16_t)v);
	} else {
		uint64_t *r = off < VIRTIO_PCI_COMMON_Q_AVAILLO ? &q->desc_gpa :
			      off < VIRTIO_PCI_COMMON_Q_USEDLO ? &q->driver_gpa : &q->device_gpa;

		if (len == 8)
			*r = v;
		else
			set_half(r, (off & 4) != 0, (uint32_t)v);
	}
	return;
bad:
	log_guest("virtio-pci", "%s: bad common config write off %#llx len %u", d->name,
		  (unsigned long long)off, len);
}

/* vp->lock held. The register file as the driver sees it; any width may read it. */
static void common_image(struct virtio_pci *vp, uint8_t img[COMMON_LEN])
{
	struct virtio_dev *d = vp->vdev;
	struct vp_queue *q = vp->queue_select < d->num_queues ? &vp->q[vp->queue_select] : NULL;
	uint32_t feat = vp->dfselect < 2 ? (uint32_t)(vp->offered >> (32 * vp->dfselect)) : 0;
	uint32_t gfeat = vp->gfselect < 2 ? (uint32_t)(vp->driver_features >> (32 * vp->gfselect)) : 0;

	memset(img, 0, COMMON_LEN);
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_DFSELECT, vp->dfselect);
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_DF, feat);
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_GFSELECT, vp->gfselect);
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_GF, gfeat);
	pci_cfg_set16(img, VIRTIO_PCI_COMMON_MSIX, __atomic_load_n(&vp->msix_config, __ATOMIC_ACQUIRE));
	pci_cfg_set16(img, VIRTIO_PCI_COMMON_NUMQ, d->num_queues);
	img[VIRTIO_PCI_COMMON_STATUS] = status_get(vp);
	img[VIRTIO_PCI_COMMON_CFGGENERATION] = __atomic_load_n(&vp->cfg_gen, __ATOMIC_ACQUIRE);
	pci_cfg_set16(img, VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_select);
	if (!q)
		return;		/* a nonexistent queue reads as size 0 */
	pci_cfg_set16(img, VIRTIO_PCI_COMMON_Q_SIZE, q->size);
	pci_cfg_set16(img, VIRTIO_PCI_COMMON_Q_MSIX, __atomic_load_n(&q->vector, __ATOMIC_ACQUIRE));
	pci_cfg_set16(img, VIRTIO_PCI_COMMON_Q_ENABLE, q->enable);
	pci_cfg_set16(img, VIRTIO_PCI_COMMON_Q_NOFF, q->idx);
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)q->desc_gpa);
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(q->desc_gpa >> 32));
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)q->driver_gpa);
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)(q->driver_gpa >> 32));
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)q->device_gpa);
	pci_cfg_set32(img, VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(q->device_gpa >> 32));
}

static void vp_bar_read(struct pci_dev *pd, int bar, uint64_t off, void *data, uint32_t len)
{
	struct virtio_pci *vp = pd->priv;
	struct virtio_dev *d = vp->vdev;
	uint8_t img[COMMON_LEN];

	(void)bar;
	memset(data, 0, len);
	if (off < VPCI_COMMON_OFF + COMMON_LEN) {	/* VPCI_COMMON_OFF is 0 */
		if (off + len > VPCI_COMMON_OFF + COMMON_LEN)
			goto bad;
		pthread_mutex_lock(&vp->lock);
		common_image(vp, img);
		pthread_mutex_unlock(&vp->lock);
		memcpy(data, img + (off - VPCI_COMMON_OFF), len);
	} else if (off == VPCI_ISR_OFF) {
		uint8_t isr = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_ACQ_REL);

		*(uint8_t *)data = isr;
		if (isr) {	/* reading acknowledges: drop the line unless a new cause raced in */
			pci_irq_set(&vp->pci, false);
			if (__atomic_load_n(&vp->isr, __ATOMIC_ACQUIRE))
				pci_irq_set(&vp->pci, true);
		}
	} else if (off >= VPCI_DEVICE_OFF && off < VPCI_DEVICE_OFF + VPCI_DEVICE_MAX) {
		if (off - VPCI_DEVICE_OFF + len > d->cfg_len)
			goto bad;
		pthread_mutex_lock(&vp->lock);
		d->ops->cfg_read(d, (uint32_t)(off - VPCI_DEVICE_OFF), data, len);
		pthread_mutex_unlock(&vp->lock);
	}
	return;	/* everything else (notify area, gaps) reads 0 */
bad:
	log_guest("virtio-pci", "%s: bad read at BAR offset %#llx len %u", d->name, (unsigned long long)off, len);
}

static void vp_bar_write(struct pci_dev *pd, int bar, uint64_t off, const void *data, uint32_t len)
{
	struct virtio_pci *vp = pd->priv;
	struct virtio_dev *d = vp->vdev;
	uint64_t v = 0;

	(void)bar;
	memcpy(&v, data, len < 8 ? len : 8);
	if (off < VPCI_COMMON_OFF + COMMON_LEN) {	/* VPCI_COMMON_OFF is 0 */
		pthread_mutex_lock(&vp->lock);
		common_write(vp, off - VPCI_COMMON_OFF, v, len);
		pthread_mutex_unlock(&vp->lock);
	} else if (off >= VPCI_DEVICE_OFF && off < VPCI_DEVICE_OFF + VPCI_DEVICE_MAX) {
		if (off - VPCI_DEVICE_OFF + len > d->cfg_len)
			goto bad;
		pthread_mutex_lock(&vp->lock);
		d->ops->cfg_write(d, (uint32_t)(off - VPCI_DEVICE_OFF), data, len);
		pthread_mutex_unlock(&vp->lock);
	} else if (off >= VPCI_NOTIFY_OFF && off < VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * (uint64_t)d->num_queues) {
		if ((off - VPCI_NOTIFY_OFF) % VPCI_NOTIFY_MULT)
			goto bad;
		vp_kick(vp, (uint16_t)((off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT));
	} else {
		goto bad;
	}
	return;
bad:
	log_guest("virtio-pci", "%s: bad write at BAR offset %#llx len %u", d->name, (unsigned long long)off, len);
}

static const struct pci_bar_ops vp_bar_ops = { .read = vp_bar_read, .write = vp_bar_write };

/* The BAR moved or stopped decoding: move the doorbell ioeventfds with it (pci config lock held). */
static void vp_bar_remap(struct pci_dev *pd, int bar, uint64_t old_gpa, uint64_t new_gpa)
{
	struct virtio_pci *vp = pd->priv;
	const struct vmm_ops *ops = pci_vmm_ops(pd->pci);

	(void)old_gpa;
	if (bar != VPCI_BAR || !ops || !ops->ioeventfd)
		return;
	for (unsigned i = 0; i < vp->vdev->num_queues; i++) {
		struct vp_queue *q = &vp->q[i];
		uint64_t gpa = new_gpa ? new_gpa + VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT * i : 0;

		if (q->ioev_gpa)
			ops->ioeventfd(ops->ctx, q->ioev_gpa, 0, false, q->kick_efd, false);
		q->ioev_gpa = 0;
		if (gpa && ops->ioeventfd(ops->ctx, gpa, 0, false, q->kick_efd, true) == 0)
			q->ioev_gpa = gpa;	/* else the MMIO write path serves the doorbell */
	}
}

static uint32_t vp_class(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET:
		return 0x020000;	/* network controller, ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x018000;	/* mass storage, other */
	default:
		return 0xff0000;
	}
}

static int vp_add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len, bool notify)
{
	uint8_t cap[sizeof(struct virtio_pci_notify_cap)] = { PCI_CAP_ID_VNDR };
	uint8_t cap_len = notify ? sizeof(struct virtio_pci_notify_cap) : sizeof(struct virtio_pci_cap);

	cap[VIRTIO_PCI_CAP_LEN] = cap_len;
	cap[VIRTIO_PCI_CAP_CFG_TYPE] = type;
	cap[VIRTIO_PCI_CAP_BAR] = VPCI_BAR;
	pci_cfg_set32(cap, VIRTIO_PCI_CAP_OFFSET, off);
	pci_cfg_set32(cap, VIRTIO_PCI_CAP_LENGTH, len);
	if (notify)
		pci_cfg_set32(cap, VIRTIO_PCI_NOTIFY_CAP_MULT, VPCI_NOTIFY_MULT);
	return pci_add_cap(&vp->pci, cap, cap_len) < 0 ? -ENOSPC : 0;
}

static void vp_dev_destroy(struct device *d)
{
	virtio_pci_destroy(device_of(d, struct virtio_pci, dev));
}

/* No pause: the transport does no work of its own. Its registers are reached only by vCPUs
 * (parked in a VM pause) and its doorbells only pass the kick on to the device, which holds it
 * while paused. Registered after its device, so it is destroyed first and resumed first. Save and
 * restore (virtio_pci_state.c) carry the registers, the queues' indices and the PCI function. */
static const struct device_ops vp_dev_ops = {
	.kind = "virtio-pci",
	.state_version = VP_STATE_VERSION,
	.resume = vp_dev_resume,
	.save = vp_dev_save,
	.restore = vp_dev_restore,
	.destroy = vp_dev_destroy,
};

int virtio_pci_create(struct virtio_pci **out, struct pci *pci, struct virtio_dev *vdev, struct evloop *ev)
{
	uint16_t nq = vdev->num_queues;
	struct virtio_pci *vp;
	int err = 0;

	if (!nq || nq > VPCI_MAX_QUEUES || !vdev->queue_size_max || vdev->cfg_len > VPCI_DEVICE_MAX ||
	    !vdev->ops || !vdev->vq)
		return -EINVAL;
	vp = calloc(1, sizeof(*vp) + nq * sizeof(vp->q[0]));
	if (!vp)
		return -ENOMEM;
	vp->vdev = vdev;
	vp->ev = ev;
	device_init(&vp->dev, &vp_dev_ops, vdev->name);
	snprintf(vp->dev.name, sizeof(vp->dev.name), "%.27s-pci", vdev->name);
	vp->nvec = nq + 1;
	vp->offered = vdev->ops->get_features(vdev) | 1ULL << VIRTIO_F_VERSION_1;
	pthread_mutex_init(&vp->lock, NULL);
	for (unsigned i = 0; i < nq; i++) {
		vp->q[i] = (struct vp_queue){ .vp = vp, .idx = (uint16_t)i, .kick_efd = -1 };
		vp->q[i].kick_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->q[i].kick_efd < 0) {
			err = -errno;
			goto fail;
		}
	}
	pci_dev_init(&vp->pci, vdev->name, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + vdev->device_id,
		     vp_class(vdev->device_id), 1);
	pci_dev_set_subsys(&vp->pci, VIRTIO_PCI_VENDOR, vdev->device_id);
	vp->pci.priv = vp;
	vp->pci.intx_pin = 1;
	vp->pci.bar_remap = vp_bar_remap;
	if ((err = pci_dev_add_bar(&vp->pci, VPCI_BAR, VPCI_BAR_SIZE, false, &vp_bar_ops)) ||
	    (err = pci_msix_init(&vp->pci, vp->nvec, VPCI_BAR, VPCI_MSIX_TABLE_OFF, VPCI_MSIX_PBA_OFF)) ||
	    (err = vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON_OFF, COMMON_LEN, false)) ||
	    (err = vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY_OFF, VPCI_NOTIFY_MULT * nq, true)) ||
	    (err = vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, 1, false)) ||
	    (vdev->cfg_len && (err = vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVICE_OFF, vdev->cfg_len,
						  false))))
		goto fail;
	vdev->transport = vp;
	vdev->signal_used = vp_signal_used;
	vdev->signal_config = vp_signal_config;
	vdev->needs_reset = vp_needs_reset;
	pthread_mutex_lock(&vp->lock);
	vp_reset(vp);
	pthread_mutex_unlock(&vp->lock);
	for (unsigned i = 0; ev && i < nq; i++) {
		if ((err = evloop_add(ev, vp->q[i].kick_efd, EPOLLIN, vp_kick_event, &vp->q[i])) < 0) {
			while (i--)
				evloop_del(ev, vp->q[i].kick_efd);
			goto fail;
		}
	}
	if ((err = pci_add_device(pci, &vp->pci)) < 0) {
		for (unsigned i = 0; ev && i < nq; i++)
			evloop_del(ev, vp->q[i].kick_efd);
		goto fail;
	}
	*out = vp;
	return 0;
fail:
	vdev->transport = NULL;
	vdev->signal_used = NULL;
	vdev->signal_config = NULL;
	vdev->needs_reset = NULL;
	pci_msix_free(&vp->pci);
	for (unsigned i = 0; i < nq; i++)
		if (vp->q[i].kick_efd >= 0)
			close(vp->q[i].kick_efd);
	free(vp);
	return err;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	vp_bar_remap(&vp->pci, VPCI_BAR, 0, 0);
	for (unsigned i = 0; i < vp->vdev->num_queues; i++) {
		if (vp->ev)
			evloop_del(vp->ev, vp->q[i].kick_efd);
		close(vp->q[i].kick_efd);
	}
	pci_msix_free(&vp->pci);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}

struct pci_dev *virtio_pci_dev(struct virtio_pci *vp)
{
	return &vp->pci;
}

struct device *virtio_pci_device(struct virtio_pci *vp)
{
	return &vp->dev;
}
