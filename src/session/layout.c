/* SPDX-License-Identifier: MIT */
#include "layout.h"

#include <string.h>

_Static_assert(sizeof(struct rm_slot) == 64, "slot layout is shared across bitnesses");
_Static_assert(sizeof(struct rm_data_header) == 64, "data header layout is shared");
_Static_assert(sizeof(struct rm_record_header) == 8, "record header layout is shared");

void rm_store_init(struct rm_store *s)
{
    memset(s, 0, sizeof *s);
    s->magic = RM_STORE_MAGIC;
    s->version = RM_LAYOUT_VERSION;
    s->size = (uint32_t)sizeof *s;
    s->slot_count = RM_MAX_SESSIONS;
    s->slot_size = (uint32_t)sizeof(struct rm_slot);
}

/* A fresh section is all zeroes. A zeroed header over slots that are not is damage, and
 * "initialising" it would wipe live sessions. */
static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

int rm_store_check(const struct rm_store *s)
{
    if (all_zero(s, sizeof *s))
        return RM_LAYOUT_EMPTY;
    if (s->magic != RM_STORE_MAGIC || s->version != RM_LAYOUT_VERSION ||
        s->size != sizeof *s || s->slot_count != RM_MAX_SESSIONS ||
        s->slot_size != sizeof(struct rm_slot))
        return RM_LAYOUT_CORRUPT;
    for (uint32_t i = 0; i < RM_MAX_SESSIONS; i++) {
        const struct rm_slot *slot = &s->slots[i];
        if (slot->state != RM_SLOT_FREE && slot->state != RM_SLOT_LIVE)
            return RM_LAYOUT_CORRUPT;
        if (slot->state == RM_SLOT_LIVE && slot->generation == 0)
            return RM_LAYOUT_CORRUPT;
    }
    return RM_LAYOUT_OK;
}

void rm_data_init(struct rm_data_header *h, uint32_t slot, uint32_t generation, uint32_t reserve,
                  uint32_t committed)
{
    memset(h, 0, sizeof *h);
    h->magic = RM_DATA_MAGIC;
    h->version = RM_LAYOUT_VERSION;
    h->slot = slot;
    h->generation = generation;
    h->reserve = reserve;
    h->committed = committed;
    h->used = (uint32_t)sizeof *h;
}

int rm_data_check(const struct rm_data_header *h, uint32_t slot, uint32_t generation,
                  uint32_t view_size)
{
    if (h->magic != RM_DATA_MAGIC || h->version != RM_LAYOUT_VERSION || h->slot != slot ||
        h->generation != generation)
        return RM_LAYOUT_CORRUPT;
    if (h->reserve != view_size || h->committed > view_size ||
        h->committed % RM_DATA_COMMIT_STEP != 0)
        return RM_LAYOUT_CORRUPT;
    if (h->used < sizeof *h || h->used > h->committed || h->used % 8 != 0)
        return RM_LAYOUT_CORRUPT;
    return RM_LAYOUT_OK;
}

static uint32_t pad8(uint32_t n)
{
    return (n + 7u) & ~7u;
}

uint32_t rm_record_size(uint32_t type, uint32_t nchars)
{
    switch (type) {
    case RM_REC_FILE:
    case RM_REC_SERVICE:
        if (nchars == 0 || nchars > RM_MAX_TEXT)
            return 0;
        return pad8((uint32_t)sizeof(struct rm_record_header) + 4u + 2u * (nchars + 1u));
    case RM_REC_PROCESS:
        return pad8((uint32_t)sizeof(struct rm_record_header) + 12u);
    case RM_REC_STATUS:
        return pad8((uint32_t)sizeof(struct rm_record_header) + 16u);
    default:
        return 0;
    }
}

void rm_record_write_text(void *dst, uint32_t type, const uint16_t *text, uint32_t nchars)
{
    struct rm_record_header h = {(uint16_t)type, 0, rm_record_size(type, nchars)};
    uint8_t *p = dst;
    uint16_t nul = 0;
    memset(p, 0, h.size);
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, &nchars, 4);
    memcpy(p + sizeof h + 4, text, sizeof(uint16_t) * nchars);
    memcpy(p + sizeof h + 4 + sizeof(uint16_t) * nchars, &nul, 2);
}

void rm_record_write_process(void *dst, uint32_t pid, uint32_t time_lo, uint32_t time_hi)
{
    struct rm_record_header h = {RM_REC_PROCESS, 0, rm_record_size(RM_REC_PROCESS, 0)};
    uint32_t v[3] = {pid, time_lo, time_hi};
    uint8_t *p = dst;
    memset(p, 0, h.size);
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, v, sizeof v);
}

void rm_record_write_status(void *dst, uint32_t pid, uint32_t time_lo, uint32_t time_hi, uint32_t status)
{
    struct rm_record_header h = {RM_REC_STATUS, 0, rm_record_size(RM_REC_STATUS, 0)};
    uint32_t v[4] = {pid, time_lo, time_hi, status};
    uint8_t *p = dst;
    memset(p, 0, h.size);
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, v, sizeof v);
}

#define STOPPED_FIXED ((uint32_t)sizeof(struct rm_record_header) + 28u)

uint32_t rm_record_size_stopped(const struct rm_stopped_info *info)
{
    if (info->nsvc > 256 || info->nname > 255)
        return 0;
    return pad8(STOPPED_FIXED + 2u * (info->nsvc + info->nname + 2u));
}

static uint8_t *put_text(uint8_t *p, const uint16_t *text, uint32_t n)
{
    if (n)
        memcpy(p, text, sizeof(uint16_t) * n);
    memset(p + sizeof(uint16_t) * n, 0, 2);
    return p + sizeof(uint16_t) * (n + 1);
}

void rm_record_write_stopped(void *dst, const struct rm_stopped_info *info)
{
    struct rm_record_header h = {RM_REC_STOPPED, 0, rm_record_size_stopped(info)};
    uint32_t v[7] = {info->pid,   info->time_lo, info->time_hi, info->app_type,
                     info->flags, info->nsvc,    info->nname};
    uint8_t *p = dst;
    memset(p, 0, h.size);
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, v, sizeof v);
    p = put_text(p + STOPPED_FIXED, info->svc, info->nsvc);
    put_text(p, info->name, info->nname);
}

#define FILTER_FIXED ((uint32_t)sizeof(struct rm_record_header) + 24u)

uint32_t rm_record_size_filter(uint32_t nchars)
{
    return nchars > RM_MAX_TEXT ? 0 : pad8(FILTER_FIXED + 2u * (nchars + 1u));
}

void rm_record_write_filter(void *dst, const struct rm_filter_record *f)
{
    struct rm_record_header h = {RM_REC_FILTER, 0, rm_record_size_filter(f->nchars)};
    uint32_t v[6] = {f->action, f->trigger, f->pid, f->time_lo, f->time_hi, f->nchars};
    uint8_t *p = dst;
    memset(p, 0, h.size);
    memcpy(p, &h, sizeof h);
    memcpy(p + sizeof h, v, sizeof v);
    put_text(p + FILTER_FIXED, f->text, f->nchars);
}

/* Each text must end with its NUL where its length says. */
static int text_ok(const uint8_t *p, uint32_t n)
{
    uint16_t nul;
    memcpy(&nul, p + sizeof(uint16_t) * n, 2);
    return nul == 0;
}

static int read_filter(const uint8_t *rec, uint32_t size, struct rm_record *out)
{
    uint32_t v[6];
    if (size < FILTER_FIXED)
        return RM_LAYOUT_CORRUPT;
    memcpy(v, rec + sizeof(struct rm_record_header), sizeof v);
    struct rm_filter_record *f = &out->filter;
    f->action = v[0];
    f->trigger = v[1];
    f->pid = v[2];
    f->time_lo = v[3];
    f->time_hi = v[4];
    f->nchars = v[5];
    if (rm_record_size_filter(f->nchars) != size || f->action > 2 || f->trigger < 1 || f->trigger > 3)
        return RM_LAYOUT_CORRUPT;
    f->text = (const uint16_t *)(const void *)(rec + FILTER_FIXED);
    return text_ok(rec + FILTER_FIXED, f->nchars) ? 1 : RM_LAYOUT_CORRUPT;
}

static int read_stopped(const uint8_t *rec, uint32_t size, struct rm_record *out)
{
    uint32_t v[7];
    memcpy(v, rec + sizeof(struct rm_record_header), sizeof v);
    struct rm_stopped_info *s = &out->stopped;
    s->pid = v[0];
    s->time_lo = v[1];
    s->time_hi = v[2];
    s->app_type = v[3];
    s->flags = v[4];
    s->nsvc = v[5];
    s->nname = v[6];
    if (rm_record_size_stopped(s) != size)
        return RM_LAYOUT_CORRUPT;
    const uint8_t *p = rec + STOPPED_FIXED;
    s->svc = (const uint16_t *)(const void *)p;
    s->name = (const uint16_t *)(const void *)(p + sizeof(uint16_t) * (s->nsvc + 1));
    if (!text_ok(p, s->nsvc) || !text_ok((const uint8_t *)s->name, s->nname))
        return RM_LAYOUT_CORRUPT;
    out->pid = s->pid;
    out->time_lo = s->time_lo;
    out->time_hi = s->time_hi;
    return 1;
}

int rm_record_next(const void *view, uint32_t used, uint32_t *offset, struct rm_record *out)
{
    const uint8_t *base = view;
    uint32_t off = *offset;
    struct rm_record_header h;

    if (off == used)
        return 0;
    if (off > used || off % 8 != 0 || used - off < sizeof h)
        return RM_LAYOUT_CORRUPT;
    /* Copy before checking: another process may rewrite the bytes while we look at them. */
    memcpy(&h, base + off, sizeof h);
    if (h.size < sizeof h || h.size % 8 != 0 || h.size > used - off)
        return RM_LAYOUT_CORRUPT;

    memset(out, 0, sizeof *out);
    out->type = h.type;
    out->offset = off;
    out->size = h.size;
    switch (h.type) {
    case RM_REC_FILE:
    case RM_REC_SERVICE: {
        uint32_t n;
        if (h.size < sizeof h + 4) /* the length itself must lie inside the record */
            return RM_LAYOUT_CORRUPT;
        memcpy(&n, base + off + sizeof h, 4);
        if (rm_record_size(h.type, n) != h.size)
            return RM_LAYOUT_CORRUPT;
        out->nchars = n;
        out->text = (const uint16_t *)(const void *)(base + off + sizeof h + 4);
        break;
    }
    case RM_REC_PROCESS:
    case RM_REC_STATUS: {
        uint32_t v[4] = {0};
        if (h.size != rm_record_size(h.type, 0))
            return RM_LAYOUT_CORRUPT;
        memcpy(v, base + off + sizeof h, h.type == RM_REC_STATUS ? 16 : 12);
        out->pid = v[0];
        out->time_lo = v[1];
        out->time_hi = v[2];
        out->status = v[3];
        break;
    }
    case RM_REC_STOPPED:
        if (h.size < STOPPED_FIXED || read_stopped(base + off, h.size, out) != 1)
            return RM_LAYOUT_CORRUPT;
        break;
    case RM_REC_FILTER:
        if (read_filter(base + off, h.size, out) != 1)
            return RM_LAYOUT_CORRUPT;
        break;
    default:
        return RM_LAYOUT_CORRUPT;
    }
    *offset = off + h.size;
    return 1;
}
