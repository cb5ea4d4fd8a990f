/* SPDX-License-Identifier: MIT */
#include "regindex.h"

#include "layout.h"
#include "path.h"

#include <string.h>

void rm_index_init(struct rm_index *ix, void *(*alloc_fn)(size_t), void (*free_fn)(void *))
{
    memset(ix, 0, sizeof *ix);
    ix->alloc = alloc_fn;
    ix->free = free_fn;
}

void rm_index_clear(struct rm_index *ix)
{
    for (size_t i = 0; i < ix->cap; i++)
        if (ix->buckets[i].hash)
            ix->free(ix->buckets[i].text);
    ix->free(ix->buckets);
    rm_index_init(ix, ix->alloc, ix->free);
}

static uint64_t mix(uint64_t h, uint32_t kind)
{
    h ^= (uint64_t)kind * 0x9e3779b97f4a7c15ull;
    return h ? h : 1;
}

static uint64_t process_hash(uint32_t pid, uint32_t lo, uint32_t hi)
{
    uint16_t units[6] = {(uint16_t)pid, (uint16_t)(pid >> 16), (uint16_t)lo,
                         (uint16_t)(lo >> 16), (uint16_t)hi, (uint16_t)(hi >> 16)};
    return mix(rm_text_hash(units, 6), RM_REC_PROCESS);
}

static int entry_matches(const struct rm_index_entry *e, uint64_t hash, const struct rm_index_entry *key)
{
    if (e->hash != hash || e->kind != key->kind)
        return 0;
    if (key->kind == RM_REC_PROCESS)
        return e->pid == key->pid && e->time_lo == key->time_lo && e->time_hi == key->time_hi;
    return rm_text_equal(e->text, e->nchars, key->text, key->nchars);
}

/* Bucket holding key, or the empty bucket where it would go. */
static struct rm_index_entry *find(const struct rm_index *ix, const struct rm_index_entry *key)
{
    size_t mask = ix->cap - 1;
    for (size_t i = (size_t)key->hash & mask;; i = (i + 1) & mask) {
        struct rm_index_entry *e = &ix->buckets[i];
        if (!e->hash || entry_matches(e, key->hash, key))
            return e;
    }
}

static int grow(struct rm_index *ix)
{
    size_t cap = ix->cap ? ix->cap * 2 : 64;
    struct rm_index_entry *nb = ix->alloc(cap * sizeof *nb);
    if (!nb)
        return -1;
    memset(nb, 0, cap * sizeof *nb);
    struct rm_index old = *ix;
    ix->buckets = nb;
    ix->cap = cap;
    for (size_t i = 0; i < old.cap; i++)
        if (old.buckets[i].hash)
            *find(ix, &old.buckets[i]) = old.buckets[i];
    ix->free(old.buckets);
    return 0;
}

static int add(struct rm_index *ix, struct rm_index_entry *key)
{
    if ((ix->count + 1) * 10 > ix->cap * 7 && grow(ix) < 0)
        return -1;
    struct rm_index_entry *e = find(ix, key);
    if (e->hash)
        return 0;
    if (key->kind != RM_REC_PROCESS) {
        uint16_t *copy = ix->alloc(((size_t)key->nchars + 1) * sizeof *copy);
        if (!copy)
            return -1;
        memcpy(copy, key->text, (size_t)key->nchars * sizeof *copy);
        copy[key->nchars] = 0;
        key->text = copy;
    }
    *e = *key;
    ix->count++;
    ix->kind_count[key->kind & 3]++;
    return 1;
}

static struct rm_index_entry text_key(uint32_t kind, const uint16_t *text, uint32_t nchars)
{
    struct rm_index_entry k = {0};
    k.hash = mix(rm_text_hash(text, nchars), kind);
    k.kind = kind;
    k.nchars = nchars;
    k.text = (uint16_t *)(uintptr_t)text;
    return k;
}

static struct rm_index_entry process_key(uint32_t pid, uint32_t lo, uint32_t hi)
{
    struct rm_index_entry k = {0};
    k.hash = process_hash(pid, lo, hi);
    k.kind = RM_REC_PROCESS;
    k.pid = pid;
    k.time_lo = lo;
    k.time_hi = hi;
    return k;
}

int rm_index_add_text(struct rm_index *ix, uint32_t kind, const uint16_t *text, uint32_t nchars)
{
    struct rm_index_entry k = text_key(kind, text, nchars);
    return add(ix, &k);
}

int rm_index_add_process(struct rm_index *ix, uint32_t pid, uint32_t time_lo, uint32_t time_hi)
{
    struct rm_index_entry k = process_key(pid, time_lo, time_hi);
    return add(ix, &k);
}

struct rm_index_entry *rm_index_get_text(const struct rm_index *ix, uint32_t kind, const uint16_t *text,
                                         uint32_t nchars)
{
    struct rm_index_entry k = text_key(kind, text, nchars);
    if (!ix->cap)
        return NULL;
    struct rm_index_entry *e = find(ix, &k);
    return e->hash ? e : NULL;
}

int rm_index_has_text(const struct rm_index *ix, uint32_t kind, const uint16_t *text, uint32_t nchars)
{
    return rm_index_get_text(ix, kind, text, nchars) != NULL;
}

struct rm_index_entry *rm_index_get_process(const struct rm_index *ix, uint32_t pid, uint32_t time_lo,
                                            uint32_t time_hi)
{
    struct rm_index_entry k = process_key(pid, time_lo, time_hi);
    if (!ix->cap)
        return NULL;
    struct rm_index_entry *e = find(ix, &k);
    return e->hash ? e : NULL;
}

int rm_index_has_process(const struct rm_index *ix, uint32_t pid, uint32_t time_lo, uint32_t time_hi)
{
    return rm_index_get_process(ix, pid, time_lo, time_hi) != NULL;
}
