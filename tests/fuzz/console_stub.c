/* The fuzz targets link the real sandbox (src/core/sandbox.c: the role parser config.c uses, and
 * sandbox_enter, a no-op until sandbox_configure) but never the console: they never take the
 * terminal, so there is nothing to restore. */
#include "backend/console.h"

void console_restore(void)
{
}
