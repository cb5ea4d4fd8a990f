/*
 * Session key codec (pure: no OS calls, builds on Linux for fuzzing).
 *
 * The text key is the 16 random bytes hex-encoded byte by byte, lowercase, 32 characters,
 * NUL-terminated; callers (Inno Setup, Tailscale) slice exactly 32 characters and rely on the NUL.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_KEY_H
#define RM_KEY_H

#include <stdint.h>

#define RM_KEY_BYTES 16
#define RM_KEY_CHARS 32 /* without the NUL */

/* Writes exactly RM_KEY_CHARS + 1 code units: 32 lowercase hex digits and a NUL. */
void rm_key_encode(const uint8_t key[RM_KEY_BYTES], uint16_t out[RM_KEY_CHARS + 1]);

/* Reads at most RM_KEY_CHARS + 1 code units. Accepts exactly 32 hex digits (either case)
 * followed by a NUL; returns 0 on success, -1 for anything else. */
int rm_key_decode(const uint16_t *text, uint8_t key[RM_KEY_BYTES]);

#endif
