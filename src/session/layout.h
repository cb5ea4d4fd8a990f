/*
 * Layout of the shared session state (pure: no OS calls, builds on Linux for fuzzing).
 *
 * Two kinds of section, both per user:
 *   - the store: a fixed table of RM_MAX_SESSIONS slots (owner, key, generation);
 *   - one data section per live session, reserved at RM_DATA_RESERVE bytes and committed as
 *     it fills, holding an append-only log of registration records.
 * The data section is created by the session's owner and lives exactly as long as the owner
 * holds it, which is as long as the session can be used; joined processes commit pages into
 * the same section, so nothing they register can vanish when they exit.
 *
 * Every field is untrusted input (DESIGN §5): another process of the same user can write
 * anything here. Readers validate before use and copy out what they keep.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RM_LAYOUT_H
#define RM_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define RM_MAX_SESSIONS 64u

#define RM_STORE_MAGIC 0x53524d52u /* "RMRS" */
#define RM_DATA_MAGIC 0x44524d52u  /* "RMRD" */
/* 2: STOPPED records no longer carry a command line or directory. */
#define RM_LAYOUT_VERSION 2u

enum rm_slot_state { RM_SLOT_FREE = 0, RM_SLOT_LIVE = 1 };

/* rm_slot.flags */
#define RM_SLOT_SHUT_DOWN 0x1u /* RmShutdown ran: RmRestart is now in sequence */
#define RM_SLOT_GUARDED 0x2u   /* a safeguard watcher has been started for the session */
#define RM_SLOT_GUARD_READY 0x4u /* ... and has joined: the session now outlives its owner's crash */

struct rm_slot {
    uint32_t state;      /* enum rm_slot_state */
    uint32_t generation; /* bumped at every start and end; 0 is never live */
    uint32_t owner_pid;
    uint32_t owner_time_lo; /* owner's creation FILETIME: PID alone can be reused */
    uint32_t owner_time_hi;
    uint32_t flags;
    uint8_t key[16];
    uint32_t reserved[6];
};

struct rm_store {
    uint32_t magic;
    uint32_t version;
    uint32_t size; /* sizeof(struct rm_store) */
    uint32_t slot_count;
    uint32_t slot_size;
    uint32_t sequence; /* bumped on every change, for observers */
    uint32_t reserved[2];
    struct rm_slot slots[RM_MAX_SESSIONS];
};

/* Registration storage of one session. 128 MiB of address space, committed on demand: enough
 * for 100,000 paths of 600 characters, and small enough for a 32-bit installer to map. */
#define RM_DATA_RESERVE (128u << 20)
#define RM_DATA_COMMIT_STEP (64u << 10)

struct rm_data_header {
    uint32_t magic;
    uint32_t version;
    uint32_t slot;
    uint32_t generation;
    uint32_t reserve;   /* bytes of the section */
    uint32_t committed; /* bytes committed so far, a multiple of RM_DATA_COMMIT_STEP */
    uint32_t used;      /* end of the record log; records are visible once below it */
    uint32_t count[3];  /* records of each kind, informational */
    uint32_t sequence;  /* bumped on every append */
    uint32_t reserved[5];
};

enum rm_record_type {
    RM_REC_FILE = 1,
    RM_REC_PROCESS = 2,
    RM_REC_SERVICE = 3,
    RM_REC_STATUS = 4,  /* an app's AppStatus bits changed; the latest record wins */
    RM_REC_STOPPED = 5, /* what it takes to restart an app this session stopped */
    RM_REC_FILTER = 6,  /* a filter was set (action 1, 2) or removed (action 0); latest wins */
};

/* A record: this header, then the payload, padded to 8 bytes.
 * FILE/SERVICE payload: uint32_t nchars; uint16_t text[nchars]; uint16_t 0.
 * PROCESS payload: uint32_t pid, time_lo, time_hi. */
struct rm_record_header {
    uint16_t type;
    uint16_t flags;
    uint32_t size;
};

/* Longest string a record may hold: the Win32 path limit. */
#define RM_MAX_TEXT 32767u

/* What the log of one session may make a process hold: distinct apps with a recorded status
 * and distinct filter targets. Both are far above any installer's needs; they bound the
 * memory and the time that whoever can write the store (any process of the user) can make
 * another process spend. A log that holds more is refused as corrupt (ERROR_WRITE_FAULT); a
 * call that would add one more answers ERROR_OUTOFMEMORY. */
#define RM_MAX_APPS 4096u
#define RM_MAX_FILTERS 4096u

/* STATUS payload: uint32_t pid, time_lo, time_hi, status.
 * STOPPED payload: uint32_t pid, time_lo, time_hi, app_type, flags, nsvc, nname; then the
 * service name and friendly name, each NUL-terminated (either may be empty).
 *
 * A STOPPED record is what RmGetList shows of an app the session stopped, for every member:
 * nothing more. How to bring the app back (command line, directory, image, token) never
 * enters the log, which any process of the user can write; the process that stopped the app
 * keeps it in its own memory (src/restart, docs/threat-model.md). */
struct rm_stopped_info {
    uint32_t pid, time_lo, time_hi;
    uint32_t app_type; /* RM_APP_TYPE */
    uint32_t flags;    /* RM_STOPPED_* */
    const uint16_t *svc, *name;
    uint32_t nsvc, nname;
};
#define RM_STOPPED_NEW_CONSOLE 0x1u   /* restart in a console of its own */
#define RM_STOPPED_SAME_IDENTITY 0x2u /* ran as the caller runs (user, elevation): safe to
                                         restart from the caller's own identity */

/* FILTER payload: uint32_t action, trigger, pid, time_lo, time_hi, nchars; then the file or
 * service name, NUL-terminated (empty for a process filter). */
struct rm_filter_record {
    uint32_t action, trigger, pid, time_lo, time_hi;
    const uint16_t *text;
    uint32_t nchars;
};

/* A record as read back: copied scalars, pointers into the view for the text. */
struct rm_record {
    uint32_t type;
    uint32_t offset; /* of the record header */
    uint32_t size;
    uint32_t nchars;
    const uint16_t *text; /* FILE/SERVICE: nchars units, inside the view */
    uint32_t pid, time_lo, time_hi;
    uint32_t status;              /* STATUS */
    struct rm_stopped_info stopped; /* STOPPED (pid/time also above) */
    struct rm_filter_record filter; /* FILTER */
};

enum rm_layout_status { RM_LAYOUT_OK = 0, RM_LAYOUT_EMPTY = 1, RM_LAYOUT_CORRUPT = -1 };

void rm_store_init(struct rm_store *s);
/* OK, EMPTY (all-zero header: never initialised) or CORRUPT. Checks every slot too. */
int rm_store_check(const struct rm_store *s);

void rm_data_init(struct rm_data_header *h, uint32_t slot, uint32_t generation, uint32_t reserve,
                  uint32_t committed);
/* Validates the header against what this process knows: the slot/generation it opened and the
 * size it mapped. */
int rm_data_check(const struct rm_data_header *h, uint32_t slot, uint32_t generation,
                  uint32_t view_size);

/* Bytes a record takes (header + payload + padding); 0 when nchars is out of range. */
uint32_t rm_record_size(uint32_t type, uint32_t nchars);
/* Writes a record at dst (which must have rm_record_size bytes). */
void rm_record_write_text(void *dst, uint32_t type, const uint16_t *text, uint32_t nchars);
void rm_record_write_process(void *dst, uint32_t pid, uint32_t time_lo, uint32_t time_hi);
void rm_record_write_status(void *dst, uint32_t pid, uint32_t time_lo, uint32_t time_hi, uint32_t status);
/* Size of a STOPPED record (0 when a text is too long), and its writer. */
uint32_t rm_record_size_stopped(const struct rm_stopped_info *info);
uint32_t rm_record_size_filter(uint32_t nchars);
void rm_record_write_filter(void *dst, const struct rm_filter_record *f);
void rm_record_write_stopped(void *dst, const struct rm_stopped_info *info);

/* Reads the record at *offset (from the view start) if it lies wholly below `used`, which the
 * caller has already checked against its own view size. Returns 1 and advances *offset, 0 at
 * the end of the log, RM_LAYOUT_CORRUPT for anything malformed. */
int rm_record_next(const void *view, uint32_t used, uint32_t *offset, struct rm_record *out);

#endif
