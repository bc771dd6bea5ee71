/*
 * Analyzer settings: thresholds and the word lists the checks use, with defaults, and
 * the optional JSON config file (`analyze --config FILE`) that changes them:
 *
 *   {
 *     "root_types":             ["OrderPlaced"],       types that start a process
 *     "terminal_types":         ["OrderDelivered"],    types that complete a process
 *     "terminal_failure_types": ["OrderAbandoned"],    types that end it as failed
 *     "technical_words":        ["Outbox"],            extra words for naming.technical
 *     "command_verbs":          ["Onboard"],           extra verbs for naming.command_shaped
 *     "event_words":            ["Heartbeat"],         names never flagged by naming checks
 *     "semantic_window_s":      60,                    duplicate.semantic window
 *     "stuck_after_s":          3600,                  in flight -> stuck after this silence
 *     "replay_after_s":         3600,                  a copy this much later is a replay
 *     "root_share":             0.5                    a type is a root when fewer than this
 *   }                                                  share of its events carry a causation ID
 *
 * Every member is optional; unknown members are refused (a typo should not go unnoticed).
 */
#ifndef ES_ANALYZER_CONFIG_H
#define ES_ANALYZER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct analyzer_words {
    char **v; /* owned strings, lower case */
    size_t n;
};

struct analyzer_config {
    struct analyzer_words root_types;      /* exact type names (case kept) */
    struct analyzer_words terminal_types;  /* exact type names */
    struct analyzer_words failure_types;   /* exact type names */
    struct analyzer_words technical_words; /* lower-case words, added to the built-in list */
    struct analyzer_words command_verbs;   /* lower-case verbs, added to the built-in list */
    struct analyzer_words event_words;     /* exact type names exempt from naming checks */
    int64_t semantic_window_us;            /* default 60 s */
    int64_t stuck_after_us;                /* default 1 h */
    int64_t replay_after_us;               /* default 1 h */
    double root_share;                     /* default 0.5 */
};

/* Defaults (no lists). */
void analyzer_config_init(struct analyzer_config *cfg);
void analyzer_config_done(struct analyzer_config *cfg);

/*
 * Reads a JSON config file into cfg (which must be initialised; members present replace
 * the defaults). On error returns ES_EIO/ES_EINVALID and err holds a sentence naming the
 * file, line and problem.
 */
int analyzer_config_load(struct analyzer_config *cfg, const char *path, char *err,
                         size_t errlen) ES_WARN_UNUSED;

/* 1 when name is in the list; exact for type lists, case-insensitive for word lists. */
int analyzer_config_has_type(const struct analyzer_words *w, const char *name);
int analyzer_config_has_word(const struct analyzer_words *w, const char *word, size_t len);

#endif
