/*
 * The length of a mapped PE image from its header (pure: no OS calls, builds on Linux).
 *
 * Detection walks other processes' address spaces, where an image is one view made of many
 * regions (one per section); its header says how far the view reaches, so the walk can pass
 * over it at once. The bytes come from another process's memory and may be anything.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_PEHEADER_H
#define RM_PEHEADER_H

#include <stddef.h>
#include <stdint.h>

/* SizeOfImage from the first `n` bytes of an image as mapped; 0 when they are not a PE header
 * that gives one (nonzero). */
int rm_pe_image_size(const uint8_t *hdr, size_t n, uint32_t *size);

#endif
