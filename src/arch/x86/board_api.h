/* The board as the API server sees it (board_api.c). */
#ifndef CKVM_X86_BOARD_API_H
#define CKVM_X86_BOARD_API_H

#include "control/api.h"

struct board;

/* Fill ops with the board's implementation; valid until the board is destroyed (api_vm_gone). */
void board_api_ops(struct board *b, struct api_vmm *ops);

#endif
