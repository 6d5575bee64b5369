/* MSI-X for PCI functions (PCI Local Bus 3.0 §6.8.2): capability, vector table and PBA in a memory
 * BAR, per-vector and function masking with pending bits, delivery through an irqfd per vector.
 * Table accesses run on vCPU threads; pci_msix_notify on any thread (device workers, I/O thread). */
#include "dev/pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "log.h"

int pci_msix_init(struct pci_dev *d, uint16_t nvec, int bar, uint32_t table_off, uint32_t pba_off)
{
	uint64_t table_len = (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE, pba_len = ((nvec + 63u) / 64u) * 8u;
	uint8_t cap[12] = { PCI_CAP_ID_MSIX };
	struct pci_msix *m;
	int off;

	if (!nvec || nvec > PCI_MSIX_FLAGS_QSIZE + 1 || bar < 0 || bar >= PCI_NUM_BARS || !d->bar[bar].size ||
	    (table_off & 7) || (pba_off & 7) || table_off + table_len > d->bar[bar].size ||
	    pba_off + pba_len > d->bar[bar].size ||
	    (table_off < pba_off + pba_len && pba_off < table_off + table_len) || d->msix)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->vec = calloc(nvec, sizeof(*m->vec));
	m->pba = calloc(pba_len / 8, sizeof(*m->pba));
	if (!m->vec || !m->pba) {
		free(m->vec);
		free(m->pba);
		free(m);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nvec; i++) {
		m->vec[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;	/* masked after reset */
		m->vec[i].gsi = -1;
		m->vec[i].efd = -1;
	}
	/* Every vector's irqfd now, not when the guest first programs it: the threads that serve the
	 * guest create no file descriptors (their seccomp filters allow no eventfd2). */
	for (unsigned i = 0; i < nvec; i++) {
		m->vec[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->vec[i].efd < 0) {
			int err = -errno;

			while (i--)
				close(m->vec[i].efd);
			free(m->vec);
			free(m->pba);
			free(m);
			return err;
		}
	}
	pci_cfg_set16(cap, PCI_MSIX_FLAGS, (uint16_t)(nvec - 1));
	pci_cfg_set32(cap, PCI_MSIX_TABLE, table_off | (uint32_t)bar);
	pci_cfg_set32(cap, PCI_MSIX_PBA, pba_off | (uint32_t)bar);
	off = pci_add_cap(d, cap, sizeof(cap));
	if (off < 0) {
		for (unsigned i = 0; i < nvec; i++)
			close(m->vec[i].efd);
		free(m->vec);
		free(m->pba);
		free(m);
		return off;
	}
	d->wmask[off + PCI_MSIX_FLAGS + 1] = (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	m->nvec = nvec;
	m->cap = (uint8_t)off;
	m->bar = bar;
	m->table_off = table_off;
	m->pba_off = pba_off;
	d->msix = m;
	return 0;
}

void pci_msix_free(struct pci_dev *d)
{
	struct pci_msix *m = d->msix;
	const struct vmm_ops *ops = d->pci ? pci_vmm_ops(d->pci) : NULL;

	if (!m)
		return;
	for (unsigned i = 0; i < m->nvec; i++) {
		struct pci_msix_vec *v = &m->vec[i];

		if (v->irqfd_bound && ops && ops->irqfd)
			ops->irqfd(ops->ctx, v->efd, (uint32_t)v->gsi, false);
		if (v->efd >= 0)
			close(v->efd);
	}
	free(m->vec);
	free(m->pba);
	free(m);
	d->msix = NULL;
}

static uint64_t vec_addr(const struct pci_msix_vec *v)
{
	return (uint64_t)v->addr_hi << 32 | v->addr_lo;
}

/* d->lock held. Point the vector's GSI at its message; bind the irqfd the first time. */
static void msix_route(struct pci_dev *d, struct pci_msix_vec *v)
{
	const struct vmm_ops *ops = pci_vmm_ops(d->pci);

	v->route_stale = false;
	if (!ops || !ops->msi_alloc || !ops->msi_route)
		return;
	if (v->gsi < 0) {
		int gsi = ops->msi_alloc(ops->ctx);

		if (gsi < 0) {
			log_errno(LOG_WARN, "msix", gsi, "%s: no GSI for a vector, using direct MSI", d->name);
			v->route_stale = true;
			return;
		}
		v->gsi = gsi;
	}
	if (ops->msi_route(ops->ctx, (uint32_t)v->gsi, vec_addr(v), v->data) < 0) {
		v->route_stale = true;	/* deliver with msi_send until a route sticks */
		return;
	}
	if (!v->irqfd_bound && ops->irqfd) {
		if (v->efd >= 0 && ops->irqfd(ops->ctx, v->efd, (uint32_t)v->gsi, true) == 0)
			v->irqfd_bound = true;
	}
}

/* d->lock held; the vector is unmasked and MSI-X enabled. */
static void msix_deliver(struct pci_dev *d, struct pci_msix_vec *v)
{
	const struct vmm_ops *ops = pci_vmm_ops(d->pci);
	uint64_t one = 1;

	if (v->route_stale)
		msix_route(d, v);
	if (!v->route_stale && v->irqfd_bound && write(v->efd, &one, sizeof(one)) == sizeof(one))
		return;
	if (ops && ops->msi_send)
		ops->msi_send(ops->ctx, vec_addr(v), v->data);
}

static bool vec_masked(const struct pci_msix *m, unsigned i)
{
	return m->fmasked || (m->vec[i].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* d->lock held: deliver every pending vector that is no longer masked. */
static void msix_flush_pending(struct pci_dev *d)
{
	struct pci_msix *m = d->msix;

	if (!m->enabled || m->fmasked)
		return;
	for (unsigned i = 0; i < m->nvec; i++) {
		uint64_t bit = 1ULL << (i % 64);

		if (vec_masked(m, i))
			continue;
		if (m->vec[i].route_stale)
			msix_route(d, &m->vec[i]);
		if (m->pba[i / 64] & bit) {
			m->pba[i / 64] &= ~bit;
			msix_deliver(d, &m->vec[i]);
		}
	}
}

void msix_cfg_written(struct pci_dev *d)
{
	struct pci_msix *m = d->msix;
	uint8_t hi = d->cfg[m->cap + PCI_MSIX_FLAGS + 1];

	pthread_mutex_lock(&d->lock);
	m->enabled = hi & (PCI_MSIX_FLAGS_ENABLE >> 8);
	m->fmasked = hi & (PCI_MSIX_FLAGS_MASKALL >> 8);
	msix_flush_pending(d);
	pthread_mutex_unlock(&d->lock);
}

static uint32_t *entry_word(struct pci_msix_vec *v, unsigned w)
{
	uint32_t *words[4] = { &v->addr_lo, &v->addr_hi, &v->data, &v->ctrl };

	return words[w];
}

static void table_access(struct pci_dev *d, uint64_t off, void *rdata, const void *wdata, uint32_t len)
{
	struct pci_msix *m = d->msix;

	pthread_mutex_lock(&d->lock);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = off + i;
		struct pci_msix_vec *v = &m->vec[o / PCI_MSIX_ENTRY_SIZE];
		unsigned w = (o % PCI_MSIX_ENTRY_SIZE) / 4, shift = 8 * (unsigned)(o % 4);
		uint32_t *word = entry_word(v, w);

		if (rdata) {
			((uint8_t *)rdata)[i] = (uint8_t)(*word >> shift);
			continue;
		}
		uint32_t nv = (*word & ~(0xffu << shift)) | (uint32_t)((const uint8_t *)wdata)[i] << shift;

		if (w == PCI_MSIX_ENTRY_VECTOR_CTRL / 4)
			nv &= PCI_MSIX_ENTRY_CTRL_MASKBIT;	/* the rest is reserved */
		else if (nv != *word)
			v->route_stale = true;
		*word = nv;
	}
	if (wdata)
		msix_flush_pending(d);	/* routes updated and pending bits fired for unmasked vectors */
	pthread_mutex_unlock(&d->lock);
}

bool msix_bar_access(struct pci_dev *d, int bar, uint64_t off, void *rdata, const void *wdata,
		     uint32_t len)
{
	struct pci_msix *m = d->msix;
	uint64_t tlen = (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE, plen = ((m->nvec + 63u) / 64u) * 8u;

	if (bar != m->bar)
		return false;
	if (off >= m->table_off && off - m->table_off < tlen) {
		if (len <= tlen - (off - m->table_off)) {
			table_access(d, off - m->table_off, rdata, wdata, len);
			return true;
		}
	} else if (off >= m->pba_off && off - m->pba_off < plen) {
		if (len <= plen - (off - m->pba_off)) {
			if (rdata) {	/* the PBA is read-only */
				pthread_mutex_lock(&d->lock);
				memcpy(rdata, (uint8_t *)m->pba + (off - m->pba_off), len);
				pthread_mutex_unlock(&d->lock);
			}
			return true;
		}
	} else if ((off < m->table_off && m->table_off - off < len) ||
		   (off < m->pba_off && m->pba_off - off < len)) {
		/* starts before and runs into a region: treat as a bad access to it below */
	} else {
		return false;
	}
	log_guest("msix", "%s: access straddling the MSI-X table/PBA at %#llx len %u ignored", d->name,
		  (unsigned long long)off, len);
	if (rdata)
		memset(rdata, 0xff, len);
	return true;
}

bool pci_msix_enabled(struct pci_dev *d)
{
	bool on;

	if (!d->msix)
		return false;
	pthread_mutex_lock(&d->lock);
	on = d->msix->enabled;
	pthread_mutex_unlock(&d->lock);
	return on;
}

int pci_msix_notify(struct pci_dev *d, uint16_t vec)
{
	struct pci_msix *m = d->msix;
	int ret = 0;

	if (!m)
		return -ENODEV;
	pthread_mutex_lock(&d->lock);
	if (!m->enabled)
		ret = -ENODEV;
	else if (vec >= m->nvec)
		ret = -EINVAL;
	else if (vec_masked(m, vec))
		m->pba[vec / 64] |= 1ULL << (vec % 64);
	else
		msix_deliver(d, &m->vec[vec]);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

/* The state (pci.h): per vector addr_lo, addr_hi, data, ctrl (host order), then the PBA words. */
static size_t pba_words(const struct pci_msix *m)
{
	return (m->nvec + 63u) / 64u;
}

size_t msix_state_len(const struct pci_dev *d)
{
	const struct pci_msix *m = d->msix;

	return m ? m->nvec * 16u + pba_words(m) * 8u : 0;
}

void msix_save(struct pci_dev *d, uint8_t *buf)
{
	struct pci_msix *m = d->msix;

	if (!m)
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < m->nvec; i++)
		for (unsigned w = 0; w < 4; w++)
			memcpy(buf + 16 * i + 4 * w, entry_word(&m->vec[i], w), 4);
	memcpy(buf + 16 * m->nvec, m->pba, pba_words(m) * 8);
	pthread_mutex_unlock(&d->lock);
}

/* Reserved control bits and pending bits past the last vector are refused: this table never
 * holds them. Addresses and data are the guest's to choose (a bad one only misroutes its own
 * interrupt, as it would have before). */
int msix_check(struct pci_dev *d, const uint8_t *buf)
{
	struct pci_msix *m = d->msix;
	uint64_t last;

	if (!m)
		return 0;
	for (unsigned i = 0; i < m->nvec; i++) {
		uint32_t ctrl;

		memcpy(&ctrl, buf + 16 * i + 12, 4);
		if (ctrl & ~PCI_MSIX_ENTRY_CTRL_MASKBIT)
			return -EINVAL;
	}
	memcpy(&last, buf + 16 * m->nvec + (pba_words(m) - 1) * 8, 8);
	if (m->nvec % 64 && (last >> (m->nvec % 64)))
		return -EINVAL;
	return 0;
}

/* Every vector is re-routed before it next fires: the GSIs of this process may differ from the
 * saving one's, and the entries changed under them. */
void msix_load(struct pci_dev *d, const uint8_t *buf)
{
	struct pci_msix *m = d->msix;

	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < m->nvec; i++) {
		for (unsigned w = 0; w < 4; w++)
			memcpy(entry_word(&m->vec[i], w), buf + 16 * i + 4 * w, 4);
		m->vec[i].route_stale = true;
	}
	memcpy(m->pba, buf + 16 * m->nvec, pba_words(m) * 8);
	pthread_mutex_unlock(&d->lock);
}
