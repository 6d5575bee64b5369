/* Shared between the seed generator's files (gen_seeds.c, gen_seeds_ops.c). */
#ifndef CKVM_GEN_SEEDS_H
#define CKVM_GEN_SEEDS_H

#include <stddef.h>

/* Write the next seed file: head then body. 0 or -errno. */
int seed_emit(const void *head, size_t head_len, const void *body, size_t body_len);

int gen_pci(void);
int gen_loaders(void);

#endif
