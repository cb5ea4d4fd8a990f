/* SPDX-License-Identifier: MIT */
#include "idset.h"

#include <string.h>

void rm_idset_init(struct rm_idset *s, void *(*alloc_fn)(size_t), void (*free_fn)(void *))
{
    memset(s, 0, sizeof *s);
    s->alloc = alloc_fn;
    s->free = free_fn;
}

void rm_idset_clear(struct rm_idset *s)
{
    s->free(s->buckets);
    rm_idset_init(s, s->alloc, s->free);
}

static size_t slot_of(const struct rm_identity *id, size_t mask)
{
    uint64_t h = id->file_id * 0x9e3779b97f4a7c15ull ^ (uint64_t)id->volume * 0xc2b2ae3d27d4eb4full;
    return (size_t)(h ^ h >> 29) & mask;
}

static int same(const struct rm_identity *a, const struct rm_identity *b)
{
    return a->volume == b->volume && a->file_id == b->file_id;
}

static struct rm_idset_entry *find(const struct rm_idset *s, const struct rm_identity *id)
{
    size_t mask = s->cap - 1;
    for (size_t i = slot_of(id, mask);; i = (i + 1) & mask)
        if (!s->buckets[i].used || same(&s->buckets[i].id, id))
            return &s->buckets[i];
}

static int grow(struct rm_idset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    struct rm_idset_entry *nb = s->alloc(cap * sizeof *nb);
    if (!nb)
        return -1;
    memset(nb, 0, cap * sizeof *nb);
    struct rm_idset old = *s;
    s->buckets = nb;
    s->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.buckets[i].used)
            *find(s, &old.buckets[i].id) = old.buckets[i];
    s->free(old.buckets);
    return 0;
}

int rm_idset_add(struct rm_idset *s, const struct rm_identity *id, uint32_t value)
{
    if ((s->count + 1) * 4 > s->cap * 3 && grow(s) < 0)
        return -1;
    struct rm_idset_entry *e = find(s, id);
    if (e->used)
        return 0;
    e->id = *id;
    e->id.reserved = 0;
    e->used = 1;
    e->value = value;
    s->count++;
    return 1;
}

int64_t rm_idset_find(const struct rm_idset *s, const struct rm_identity *id)
{
    if (!s->cap)
        return -1;
    const struct rm_idset_entry *e = find(s, id);
    return e->used ? (int64_t)e->value : -1;
}
