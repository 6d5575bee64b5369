/* The VGA text screen as text: the 80x25 buffer at 0xb8000 (character, attribute pairs) converted
 * from code page 437 to UTF-8, for `ckvm test --screen-dump`. Pure: the caller copies the buffer out
 * of guest memory (through guest_mem) and hands it over. */
#ifndef CKVM_OSDEV_SCREEN_H
#define CKVM_OSDEV_SCREEN_H

#include <stddef.h>
#include <stdint.h>

#define SCREEN_VGA_TEXT_GPA	0xb8000ULL
#define SCREEN_COLS		80
#define SCREEN_ROWS		25
#define SCREEN_BYTES		(SCREEN_COLS * SCREEN_ROWS * 2)	/* 4000 */
/* Every CP437 glyph is in the BMP: at most 3 UTF-8 bytes; one '\n' per row and a closing NUL. */
#define SCREEN_TEXT_MAX		(SCREEN_ROWS * (SCREEN_COLS * 3 + 1) + 1)

/* The Unicode code point code page 437 shows for byte b (its graphic glyphs for 0x01-0x1f and 0x7f;
 * 0x00 shows as a blank cell and maps to U+0020). */
uint32_t screen_cp437(uint8_t b);

/* Convert buf (at least SCREEN_BYTES: the first 4000 are used; attributes are ignored) to UTF-8:
 * one line per row with its trailing spaces removed, each ending in '\n', NUL-terminated.
 * *text_len (if not NULL) gets the length without the NUL. -EINVAL for a short buffer,
 * -ENOSPC when out holds fewer than the text needs (SCREEN_TEXT_MAX always suffices). */
int screen_to_utf8(const uint8_t *buf, size_t len, char *out, size_t out_len, size_t *text_len);

#endif
