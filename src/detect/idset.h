/*
 * A set of file identities (pure: no OS calls, builds on Linux for fuzzing).
 *
 * A file is its identity, volume serial + file ID, not any of its names: hard links, 8.3
 * names and other spellings of one file all land on the same key. Each identity carries a
 * small value (which registered file it came from) for callers that need it.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_IDSET_H
#define RM_IDSET_H

#include <stddef.h>
#include <stdint.h>

struct rm_identity {
    uint32_t volume;
    uint32_t reserved;
    uint64_t file_id;
};

struct rm_idset_entry {
    struct rm_identity id;
    uint32_t used;
    uint32_t value;
};

struct rm_idset {
    struct rm_idset_entry *buckets;
    size_t cap, count;
    void *(*alloc)(size_t);
    void (*free)(void *);
};

void rm_idset_init(struct rm_idset *s, void *(*alloc_fn)(size_t), void (*free_fn)(void *));
void rm_idset_clear(struct rm_idset *s);
/* 1 added, 0 already present (value kept), -1 out of memory. */
int rm_idset_add(struct rm_idset *s, const struct rm_identity *id, uint32_t value);
/* The entry's value, or -1 when absent. */
int64_t rm_idset_find(const struct rm_idset *s, const struct rm_identity *id);

#endif
