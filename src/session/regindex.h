/*
 * The registered-resource index (pure: no OS calls, builds on Linux for fuzzing).
 *
 * A hash set of what a session has registered, kept per process and brought up to date from
 * the shared record log before every change, so duplicates collapse across calls and across
 * joined processes without ever scanning the whole log per item. Entries own copies of their
 * text: the shared view can change under us, the index cannot.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_REGINDEX_H
#define RM_REGINDEX_H

#include <stddef.h>
#include <stdint.h>

struct rm_index_entry {
    uint64_t hash; /* 0 marks an empty bucket; real hashes are forced non-zero */
    uint32_t kind; /* enum rm_record_type */
    uint32_t nchars;
    uint16_t *text; /* owned, NUL-terminated; NULL for processes */
    uint32_t pid, time_lo, time_hi;
    uint64_t value[2]; /* free for the owner of the index (e.g. a cached identity) */
};

struct rm_index {
    struct rm_index_entry *buckets;
    size_t cap; /* power of two, or 0 */
    size_t count;
    size_t kind_count[4];
    void *(*alloc)(size_t);
    void (*free)(void *);
};

void rm_index_init(struct rm_index *ix, void *(*alloc_fn)(size_t), void (*free_fn)(void *));
void rm_index_clear(struct rm_index *ix);

/* 1 added, 0 already present, -1 out of memory. */
int rm_index_add_text(struct rm_index *ix, uint32_t kind, const uint16_t *text, uint32_t nchars);
int rm_index_add_process(struct rm_index *ix, uint32_t pid, uint32_t time_lo, uint32_t time_hi);
int rm_index_has_text(const struct rm_index *ix, uint32_t kind, const uint16_t *text, uint32_t nchars);
/* The entry for text, or NULL; its value[] may be changed by the caller. */
struct rm_index_entry *rm_index_get_text(const struct rm_index *ix, uint32_t kind, const uint16_t *text,
                                         uint32_t nchars);
struct rm_index_entry *rm_index_get_process(const struct rm_index *ix, uint32_t pid, uint32_t time_lo,
                                            uint32_t time_hi);
int rm_index_has_process(const struct rm_index *ix, uint32_t pid, uint32_t time_lo, uint32_t time_hi);

#endif
