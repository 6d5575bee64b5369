/* The GDB stub's commands (GDB manual, "Packets", "Stop Reply Packets", "General Query Packets"):
 * registers and memory of a halted vCPU, breakpoints, continue and step, threads (one per vCPU,
 * GDB thread id = vCPU index + 1). Memory addresses are guest linear addresses, translated with
 * the vCPU's own page tables (gdb_stub_mmu.c) and accessed through gm_read/gm_write. Stub thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/guest_mem.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "log.h"
#include "osdev/gdb_stub_int.h"
#include "osdev/gdb_stub_mmu.h"

#define INT3 0xcc

static struct vcpu *cpu(struct gdb_stub *s, unsigned i)
{
	return &s->vm->vcpus[i < s->vm->ncpus ? i : 0];
}

static int reply_err(struct gdb_stub *s, int e)
{
	char buf[4];

	snprintf(buf, sizeof(buf), "E%02x", (unsigned)e & 0xff);
	return gdb_stub_send_str(s, buf);
}

size_t gdb_stub_stop_reply(struct gdb_stub *s, int sig)
{
	int ev_cpu;
	enum vm_debug_event ev = vm_debug_event(s->vm, &ev_cpu);
	unsigned c = ev_cpu >= 0 ? (unsigned)ev_cpu : s->g_cpu;

	if (ev_cpu >= 0)
		sig = 5;	/* a breakpoint or step ended the run, even if a Ctrl-C crossed it */
	s->g_cpu = s->c_cpu = c;
	return (size_t)snprintf(s->reply, sizeof(s->reply), "T%02xthread:%x;%s", (unsigned)sig, c + 1,
				ev == VM_DEBUG_EV_SW_BP && (s->features & GDB_FEAT_SWBREAK) ? "swbreak:;" :
				ev == VM_DEBUG_EV_HW_BP && (s->features & GDB_FEAT_HWBREAK) ? "hwbreak:;" : "");
}

/* ---- memory ---- */

/* Copy len bytes at linear lin of vCPU c's address space (write: into the guest). Returns the
 * bytes done before the first unmapped page, or -errno. */
static long mem_rw(struct gdb_stub *s, unsigned c, uint64_t lin, void *buf, size_t len, bool write)
{
	struct vcpu_dbg_regs r;
	struct gdb_mmu_mode m;
	size_t done = 0;
	int ret;

	if ((ret = vcpu_debug_get_regs(cpu(s, c), &r)))
		return ret;
	m = (struct gdb_mmu_mode){ r.cr0, r.cr3, r.cr4, r.efer };
	while (done < len) {
		uint64_t gpa, left;
		size_t n;

		if (gdb_mmu_translate(&s->vm->gm, &m, lin + done, &gpa, &left))
			break;
		n = len - done < left ? len - done : (size_t)left;
		ret = write ? gm_write(&s->vm->gm, gpa, (uint8_t *)buf + done, n) :
			      gm_read(&s->vm->gm, (uint8_t *)buf + done, gpa, n);
		if (ret)
			break;	/* not RAM (MMIO, a hole): GDB gets what came before */
		done += n;
	}
	return (long)done;
}

static void cmd_read_mem(struct gdb_stub *s)
{
	uint8_t buf[GDB_MEM_MAX];
	long n = mem_rw(s, s->g_cpu, s->cmd.addr, buf, s->cmd.len, false);

	if (n <= 0 && s->cmd.len) {
		reply_err(s, EFAULT);
		return;
	}
	gdb_hex_encode(buf, (size_t)n, s->reply);
	gdb_stub_send(s, 2 * (size_t)n);
}

static void cmd_write_mem(struct gdb_stub *s)
{
	long n = mem_rw(s, s->g_cpu, s->cmd.addr, (void *)s->cmd.data, s->cmd.len, true);

	if (n != (long)s->cmd.len)
		reply_err(s, EFAULT);
	else
		gdb_stub_send_str(s, "OK");
}

/* ---- breakpoints ---- */

/* Is any vCPU in user mode? Then no int3 is planted and no step is taken (this host's KVM lets
 * the trap flag leak into ring-3 code, and an int3 there would reach the guest's own handler). */
static bool any_user_mode(struct gdb_stub *s)
{
	struct vcpu_dbg_regs r;

	for (unsigned i = 0; i < s->vm->ncpus; i++)
		if (vcpu_debug_get_regs(&s->vm->vcpus[i], &r) || r.cpl == 3)
			return true;
	return false;
}

static int sw_sync(struct gdb_stub *s)
{
	uint64_t lin[VM_DEBUG_SW_BPS];

	for (unsigned i = 0; i < s->n_sw; i++)
		lin[i] = s->sw[i].lin;
	return vm_debug_set_sw(s->vm, lin, s->n_sw);
}

static int sw_insert(struct gdb_stub *s, uint64_t lin)
{
	struct vcpu_dbg_regs r;
	struct gdb_mmu_mode m;
	struct gdb_sw_bp *b;
	uint64_t gpa, left;
	uint8_t cc = INT3;

	for (unsigned i = 0; i < s->n_sw; i++)
		if (s->sw[i].lin == lin)
			return 0;
	if (s->n_sw == VM_DEBUG_SW_BPS)
		return -ENOSPC;
	if (any_user_mode(s))
		return -EPERM;
	if (vcpu_debug_get_regs(cpu(s, s->g_cpu), &r))
		return -EIO;
	m = (struct gdb_mmu_mode){ r.cr0, r.cr3, r.cr4, r.efer };
	b = &s->sw[s->n_sw];
	if (gdb_mmu_translate(&s->vm->gm, &m, lin, &gpa, &left) || gm_read(&s->vm->gm, &b->orig, gpa, 1) ||
	    gm_write(&s->vm->gm, gpa, &cc, 1))
		return -EFAULT;
	b->lin = lin;
	b->gpa = gpa;
	s->n_sw++;
	return sw_sync(s);
}

static int sw_remove(struct gdb_stub *s, uint64_t lin)
{
	for (unsigned i = 0; i < s->n_sw; i++) {
		uint8_t cur;

		if (s->sw[i].lin != lin)
			continue;
		/* Put the byte back only if our int3 is still there (the guest may have rewritten it). */
		if (!gm_read(&s->vm->gm, &cur, s->sw[i].gpa, 1) && cur == INT3)
			gm_write(&s->vm->gm, s->sw[i].gpa, &s->sw[i].orig, 1);
		s->sw[i] = s->sw[--s->n_sw];
		return sw_sync(s);
	}
	return 0;	/* GDB may remove what it never managed to insert */
}

static int hw_insert(struct gdb_stub *s, uint64_t lin)
{
	for (unsigned i = 0; i < VM_DEBUG_HW_BPS; i++)
		if ((s->hw_mask >> i & 1) && s->hw_addr[i] == lin)
			return 0;
	for (unsigned i = 0; i < VM_DEBUG_HW_BPS; i++) {
		if (s->hw_mask >> i & 1)
			continue;
		s->hw_addr[i] = lin;
		s->hw_mask |= 1u << i;
		return vm_debug_set_hw(s->vm, s->hw_addr, s->hw_mask);
	}
	return -ENOSPC;	/* GDB says it cannot insert the breakpoint */
}

static int hw_remove(struct gdb_stub *s, uint64_t lin)
{
	for (unsigned i = 0; i < VM_DEBUG_HW_BPS; i++)
		if ((s->hw_mask >> i & 1) && s->hw_addr[i] == lin) {
			s->hw_mask &= ~(1u << i);
			return vm_debug_set_hw(s->vm, s->hw_addr, s->hw_mask);
		}
	return 0;
}

void gdb_stub_release(struct gdb_stub *s)
{
	/* All vCPUs out of KVM_RUN first: none is then between an int3 and its exit handler while the
	 * bytes go back, and each one takes the cleared settings on its way in again. */
	if (s->running)
		vm_debug_halt(s->vm, 2000000000LL);
	while (s->n_sw)
		sw_remove(s, s->sw[s->n_sw - 1].lin);
	s->hw_mask = 0;
	vm_debug_set_hw(s->vm, s->hw_addr, 0);
	vm_debug_resume(s->vm, -1, UINT64_MAX);
	s->running = false;
}

/* ---- run ---- */

/* Resume: step_cpu >= 0 single-steps that vCPU alone; else the vCPUs in run_mask run. */
static void run(struct gdb_stub *s, int step_cpu, uint64_t run_mask)
{
	struct vcpu_dbg_regs r;

	if (step_cpu >= 0) {
		if (vcpu_debug_get_regs(cpu(s, (unsigned)step_cpu), &r) || r.cpl == 3) {
			/* Stepping ring-3 code does not work on this host: say so, stay stopped. */
			log_warnx("gdb", "vCPU %d is in user mode (ring 3): cannot single-step it",
				  step_cpu);
			reply_err(s, EPERM);
			return;
		}
	}
	vm_debug_resume(s->vm, step_cpu, run_mask);
	s->running = true;
}

/* A thread id of the client's -> vCPU index; false if there is no such vCPU. */
static bool thread_cpu(struct gdb_stub *s, int32_t t, unsigned *c)
{
	if (t == GDB_THREAD_ALL || t == GDB_THREAD_ANY) {
		*c = s->g_cpu;
		return true;
	}
	if (t < 1 || (uint32_t)t > s->vm->ncpus)
		return false;
	*c = (unsigned)t - 1;
	return true;
}

static void cmd_vcont(struct gdb_stub *s)
{
	uint64_t run_mask = 0;
	int step_cpu = -1;

	/* Each vCPU takes the first action that names it or names no thread (GDB manual, vCont). */
	for (unsigned c = 0; c < s->vm->ncpus; c++) {
		for (unsigned a = 0; a < s->cmd.n_actions; a++) {
			const struct gdb_vcont_action *act = &s->cmd.actions[a];

			if (act->thread != GDB_THREAD_ALL && act->thread != (int32_t)c + 1)
				continue;
			if ((act->action == 's' || act->action == 'S') && step_cpu < 0)
				step_cpu = (int)c;
			else if (act->action == 'c' || act->action == 'C')
				run_mask |= c < 64 ? 1ull << c : 0;
			break;
		}
	}
	if (step_cpu < 0 && !run_mask) {
		/* 't' alone, or threads that do not exist: nothing runs; still stopped. */
		gdb_stub_send(s, gdb_stub_stop_reply(s, 0));
		return;
	}
	/* A step runs the stepping vCPU alone, the others stay stopped (like GDB's scheduler-locking
	 * step): a step must end at the next instruction of that vCPU, not anywhere in the guest. */
	run(s, step_cpu, run_mask);
}

/* ---- registers ---- */

static void cmd_regs(struct gdb_stub *s)
{
	struct vcpu_dbg_regs r;
	struct vcpu *v = cpu(s, s->g_cpu);
	int ret;

	if (vcpu_debug_get_regs(v, &r)) {
		reply_err(s, EIO);
		return;
	}
	switch (s->cmd.kind) {
	case GDB_CMD_READ_REGS:
		gdb_stub_send(s, gdb_regs_get_all(&r, s->reply));
		return;
	case GDB_CMD_READ_REG: {
		size_t n = gdb_regs_get(&r, s->cmd.regno, s->reply);

		if (n)
			gdb_stub_send(s, n);
		else
			reply_err(s, ENOENT);
		return;
	}
	case GDB_CMD_WRITE_REG:
		ret = gdb_regs_set(&r, s->cmd.regno, s->cmd.data, s->cmd.data_len);
		break;
	default:
		ret = gdb_regs_set_all(&r, s->cmd.data, s->cmd.data_len);
		break;
	}
	if (!ret)
		ret = vcpu_debug_set_regs(v, &r);
	if (ret)
		reply_err(s, -ret);
	else
		gdb_stub_send_str(s, "OK");
}

static void cmd_xfer(struct gdb_stub *s)
{
	size_t len, n;
	const char *xml = gdb_regs_target_xml(&len);

	if (strcmp(s->cmd.annex, "target.xml")) {
		reply_err(s, ENOENT);
		return;
	}
	if (s->cmd.offset >= len) {
		gdb_stub_send_str(s, "l");
		return;
	}
	n = len - s->cmd.offset;
	if (n > s->cmd.len)
		n = s->cmd.len;
	if (n > sizeof(s->reply) - 1)
		n = sizeof(s->reply) - 1;
	s->reply[0] = s->cmd.offset + n < len ? 'm' : 'l';
	memcpy(s->reply + 1, xml + s->cmd.offset, n);
	gdb_stub_send(s, n + 1);
}

static void cmd_threads(struct gdb_stub *s)
{
	size_t n = 1;

	s->reply[0] = 'm';
	for (unsigned i = 0; i < s->vm->ncpus && n + 12 < sizeof(s->reply); i++)
		n += (size_t)snprintf(s->reply + n, sizeof(s->reply) - n, "%s%x", i ? "," : "", i + 1);
	gdb_stub_send(s, n);
}

void gdb_stub_command(struct gdb_stub *s)
{
	struct gdb_cmd *c = &s->cmd;
	unsigned t;
	int ret;

	switch (c->kind) {
	case GDB_CMD_SUPPORTED:
		s->features = c->features;
		gdb_stub_send_str(s, GDB_PACKET_SIZE_FEATURE ";qXfer:features:read+;swbreak+;hwbreak+;"
				  "QStartNoAckMode+;vContSupported+");
		break;
	case GDB_CMD_NOACK:
		gdb_stub_send_str(s, "OK");
		s->noack = true;
		break;
	case GDB_CMD_HALT_REASON:
		gdb_stub_send(s, gdb_stub_stop_reply(s, 5));
		break;
	case GDB_CMD_READ_REGS:
	case GDB_CMD_WRITE_REGS:
	case GDB_CMD_READ_REG:
	case GDB_CMD_WRITE_REG:
		cmd_regs(s);
		break;
	case GDB_CMD_READ_MEM:
		cmd_read_mem(s);
		break;
	case GDB_CMD_WRITE_MEM:
		cmd_write_mem(s);
		break;
	case GDB_CMD_CONTINUE:
	case GDB_CMD_STEP:
		if (c->has_addr) {
			struct vcpu_dbg_regs r;

			if (vcpu_debug_get_regs(cpu(s, s->c_cpu), &r)) {
				reply_err(s, EIO);
				break;
			}
			r.rip = c->addr;
			if (vcpu_debug_set_regs(cpu(s, s->c_cpu), &r)) {
				reply_err(s, EIO);
				break;
			}
		}
		if (c->kind == GDB_CMD_STEP)
			run(s, (int)s->c_cpu, 0);
		else
			run(s, -1, UINT64_MAX);
		break;
	case GDB_CMD_VCONT_QUERY:
		gdb_stub_send_str(s, "vCont;c;C;s;S;t");
		break;
	case GDB_CMD_VCONT:
		cmd_vcont(s);
		break;
	case GDB_CMD_INSERT_BP:
	case GDB_CMD_REMOVE_BP:
		if (c->kind == GDB_CMD_INSERT_BP)
			ret = c->bp == GDB_BP_SW ? sw_insert(s, c->addr) : hw_insert(s, c->addr);
		else
			ret = c->bp == GDB_BP_SW ? sw_remove(s, c->addr) : hw_remove(s, c->addr);
		if (ret)
			reply_err(s, -ret);
		else
			gdb_stub_send_str(s, "OK");
		break;
	case GDB_CMD_SET_THREAD:
		if (!thread_cpu(s, c->thread, &t)) {
			reply_err(s, ESRCH);
			break;
		}
		if (c->h_op == 'g')
			s->g_cpu = t;
		else
			s->c_cpu = t;
		gdb_stub_send_str(s, "OK");
		break;
	case GDB_CMD_THREAD_ALIVE:
		if (thread_cpu(s, c->thread, &t))
			gdb_stub_send_str(s, "OK");
		else
			reply_err(s, ESRCH);
		break;
	case GDB_CMD_THREADS_FIRST:
		cmd_threads(s);
		break;
	case GDB_CMD_THREADS_NEXT:
		gdb_stub_send_str(s, "l");
		break;
	case GDB_CMD_CURRENT_THREAD:
		snprintf(s->reply, sizeof(s->reply), "QC%x", s->g_cpu + 1);
		gdb_stub_send(s, strlen(s->reply));
		break;
	case GDB_CMD_ATTACHED:
		gdb_stub_send_str(s, "1");	/* GDB detaches, not kills, when it quits */
		break;
	case GDB_CMD_XFER_FEATURES:
		cmd_xfer(s);
		break;
	case GDB_CMD_KILL:
		log_info("gdb", "the client killed the VM");
		vm_stop(s->vm, VM_STOP_USER, 0, "killed by the GDB client");
		break;
	case GDB_CMD_DETACH:
		gdb_stub_send_str(s, "OK");
		gdb_stub_release(s);
		log_info("gdb", "client detached; the VM runs on");
		break;
	case GDB_CMD_INVALID:
		gdb_stub_send_str(s, "E01");
		break;
	case GDB_CMD_UNKNOWN:
		gdb_stub_send_str(s, "");
		break;
	}
}
