/* E820 memory map helpers: the table the board builds and the loaders hand to the guest
 * (zero page e820_table, PVH memmap). ACPI spec "System Address Map Interfaces" / INT 15h E820h.
 * Setup-time only, main thread. */
#include "arch/x86/boot.h"

#include <errno.h>

int e820_add(struct e820_table *t, uint64_t addr, uint64_t size, uint32_t type)
{
	struct e820_entry *prev = t->nr ? &t->e[t->nr - 1] : NULL;

	if (!size || addr + size < addr || !type)
		return -EINVAL;
	if (prev && addr < prev->addr + prev->size)
		return -EINVAL;
	if (prev && prev->type == type && prev->addr + prev->size == addr) {
		prev->size += size;
		return 0;
	}
	if (t->nr >= E820_TABLE_MAX)
		return -ENOSPC;
	t->e[t->nr++] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
	return 0;
}

int e820_check(const struct e820_table *t)
{
	int i;

	if (!t || t->nr <= 0 || t->nr > E820_TABLE_MAX)
		return -EINVAL;
	for (i = 0; i < t->nr; i++) {
		const struct e820_entry *e = &t->e[i];

		if (!e->size || e->addr + e->size < e->addr)
			return -EINVAL;
		if (i && e->addr < t->e[i - 1].addr + t->e[i - 1].size)
			return -EINVAL;
	}
	return 0;
}

uint64_t e820_ram_end(const struct e820_table *t, uint64_t gpa)
{
	int i;

	for (i = 0; t && i < t->nr && i < E820_TABLE_MAX; i++) {
		const struct e820_entry *e = &t->e[i];

		if (e->type == E820_RAM && gpa >= e->addr && gpa - e->addr < e->size)
			return e->addr + e->size;
	}
	return 0;
}
