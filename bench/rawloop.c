/* The floor for bench/exit-bench.sh: the least a KVM program can do per exit. It loads the bench guest
 * (bench/guest.S, an ELF with a Xen PVH entry note) into one memory slot, enters it in 32-bit protected
 * mode, and loops on KVM_RUN answering only what the guest uses: its port or MMIO writes (ignored),
 * COM1's LSR/THR (output to stdout) and the test-exit port 0x501 (status (V<<1)|1, like ckvm).
 * No threads, no irqchip, no signals, no bus: one switch per exit. Single-threaded.
 * Usage: rawloop GUEST_ELF [CMDLINE] [--irqchip]   (--irqchip adds KVM's in-kernel PIC/IOAPIC/PIT as ckvm
 * has them, to separate their cost from the VMM's). Prints "rawloop: exec->first KVM_RUN U us" on stderr,
 * exec counted as in ckvm's timeline (src/log.c). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEM_BYTES	(64ULL << 20)
#define GDT_GPA		0x500
#define START_INFO_GPA	0x6000
#define CMDLINE_GPA	0x20000
#define TSS_GPA		0xfffbd000
#define IDENT_GPA	0xfffbc000
#define HVM_MAGIC	0x336ec578
#define PVH_NOTE_TYPE	18		/* XEN_ELFNOTE_PHYS32_ENTRY */
#define COM1		0x3f8
#define PORT_TEST_EXIT	0x501

static int die(const char *what)
{
	fprintf(stderr, "rawloop: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* Copy PT_LOAD segments to their physical addresses; return the PVH entry from the Xen note. */
static uint32_t load_elf(const char *path, uint8_t *ram)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	const uint8_t *img;
	const Elf64_Ehdr *eh;
	uint32_t entry = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		die(path);
	eh = (const Elf64_Ehdr *)img;
	if ((size_t)st.st_size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > (uint64_t)st.st_size) {
		fprintf(stderr, "rawloop: %s: not an ELF64 file\n", path);
		exit(2);
	}
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff) + i;

		if (ph->p_offset + ph->p_filesz > (uint64_t)st.st_size || ph->p_paddr + ph->p_memsz > MEM_BYTES) {
			fprintf(stderr, "rawloop: %s: segment out of bounds\n", path);
			exit(2);
		}
		if (ph->p_type == PT_LOAD)
			memcpy(ram + ph->p_paddr, img + ph->p_offset, ph->p_filesz);
		if (ph->p_type == PT_NOTE) {
			const uint8_t *n = img + ph->p_offset, *end = n + ph->p_filesz;

			while (n + 12 <= end) {
				const uint32_t *nh = (const uint32_t *)n;
				uint32_t namesz = (nh[0] + 3) & ~3u, descsz = (nh[1] + 3) & ~3u;

				if (nh[2] == PVH_NOTE_TYPE && n + 12 + namesz + 4 <= end)
					memcpy(&entry, n + 12 + namesz, 4);
				n += 12 + namesz + descsz;
			}
		}
	}
	if (!entry) {
		fprintf(stderr, "rawloop: %s: no PVH entry note\n", path);
		exit(2);
	}
	munmap((void *)img, (size_t)st.st_size);
	close(fd);
	return entry;
}

static void setup_cpu(int vcpu, uint8_t *ram, uint32_t entry)
{
	static const uint64_t gdt[] = { 0, 0x00cf9b000000ffffULL, 0x00cf93000000ffffULL };
	struct kvm_segment code = { .limit = 0xffffffff, .selector = 8, .type = 0xb, .present = 1,
				    .s = 1, .db = 1, .g = 1 };
	struct kvm_segment data = code;
	struct kvm_sregs sr;
	struct kvm_regs r = { .rflags = 2, .rip = entry, .rbx = START_INFO_GPA };

	memcpy(ram + GDT_GPA, gdt, sizeof(gdt));
	if (ioctl(vcpu, KVM_GET_SREGS, &sr) < 0)
		die("KVM_GET_SREGS");
	data.selector = 16;
	data.type = 3;
	sr.cs = code;
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data;
	sr.gdt.base = GDT_GPA;
	sr.gdt.limit = sizeof(gdt) - 1;
	sr.cr0 = 0x31;	/* PE | ET | NE */
	sr.cr4 = 0;
	sr.efer = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sr) < 0 || ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		die("KVM_SET_SREGS/REGS");
}

int main(int argc, char **argv)
{
	/* exec as ckvm's timeline counts it: main()'s entry less the CPU time used before it (the loader) */
	double t0 = now_us() - clock_us(CLOCK_PROCESS_CPUTIME_ID);
	const char *cmdline = argc > 2 && argv[2][0] != '-' ? argv[2] : "";
	int irqchip = argc > 2 && !strcmp(argv[argc - 1], "--irqchip");
	int kvm, vm, vcpu, run_size, first = 1;
	struct kvm_run *run;
	uint8_t *ram;
	uint32_t *si;

	if (argc < 2) {
		fprintf(stderr, "usage: rawloop GUEST_ELF [CMDLINE] [--irqchip]\n");
		return 2;
	}
	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		die("/dev/kvm");
	if ((vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		die("KVM_CREATE_VM");
	ram = mmap(NULL, MEM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap");
	struct kvm_userspace_memory_region mr = { .memory_size = MEM_BYTES, .userspace_addr = (uintptr_t)ram };

	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	if (irqchip) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
		uint64_t ident = IDENT_GPA;

		if (ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0 ||
		    ioctl(vm, KVM_SET_TSS_ADDR, (unsigned long)TSS_GPA) < 0 ||
		    ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0 || ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
			die("irqchip");
	}
	if ((vcpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0)
		die("KVM_CREATE_VCPU");
	if ((run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	setup_cpu(vcpu, ram, load_elf(argv[1], ram));
	snprintf((char *)ram + CMDLINE_GPA, 4096, "%s", cmdline);
	si = (uint32_t *)(ram + START_INFO_GPA);
	si[0] = HVM_MAGIC;
	si[1] = 1;			/* version */
	si[6] = CMDLINE_GPA;		/* cmdline_paddr (low half) */

	for (;;) {
		if (first) {
			fprintf(stderr, "rawloop: exec->first KVM_RUN %.0f us\n", now_us() - t0);
			first = 0;
		}
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;

			if (run->io.direction == KVM_EXIT_IO_IN)
				memset(data, run->io.port == COM1 + 5 ? 0x20 : 0xff, run->io.size);
			else if (run->io.port == COM1 && write(1, data, 1) < 0)
				die("write");
			else if (run->io.port == PORT_TEST_EXIT)
				return ((data[0] << 1) | 1) & 0xff;
			break;
		}
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, run->mmio.len);
			break;
		case KVM_EXIT_HLT:
			return 0;
		default:
			fprintf(stderr, "rawloop: exit reason %u\n", run->exit_reason);
			return 3;
		}
	}
}
