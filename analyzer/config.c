/* Analyzer settings: defaults and the JSON config file (see config.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "analyzer/config.h"
#include "core/xmalloc.h"

#define CONFIG_MAX_BYTES (4u << 20)
#define CONFIG_MAX_WORDS 10000

void analyzer_config_init(struct analyzer_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->semantic_window_us = 60 * 1000000LL;
    cfg->stuck_after_us = 3600 * 1000000LL;
    cfg->replay_after_us = 3600 * 1000000LL;
    cfg->root_share = 0.5;
}

static void words_done(struct analyzer_words *w)
{
    size_t i;

    for (i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
    w->v = NULL;
    w->n = 0;
}

void analyzer_config_done(struct analyzer_config *cfg)
{
    words_done(&cfg->root_types);
    words_done(&cfg->terminal_types);
    words_done(&cfg->failure_types);
    words_done(&cfg->technical_words);
    words_done(&cfg->command_verbs);
    words_done(&cfg->event_words);
}

int analyzer_config_has_type(const struct analyzer_words *w, const char *name)
{
    size_t i;

    if (name == NULL)
        return 0;
    for (i = 0; i < w->n; i++)
        if (strcmp(w->v[i], name) == 0)
            return 1;
    return 0;
}

int analyzer_config_has_word(const struct analyzer_words *w, const char *word, size_t len)
{
    size_t i;

    for (i = 0; i < w->n; i++)
        if (strlen(w->v[i]) == len && strncasecmp(w->v[i], word, len) == 0)
            return 1;
    return 0;
}

static int load_words(struct analyzer_words *w, json_t *arr, const char *name, int lower,
                      const char *path, char *err, size_t errlen)
{
    size_t i, n;

    if (!json_is_array(arr) || json_array_size(arr) > CONFIG_MAX_WORDS) {
        snprintf(err, errlen, "%s: \"%s\" must be an array of at most %u strings", path, name,
                 CONFIG_MAX_WORDS);
        return ES_EINVALID;
    }
    n = json_array_size(arr);
    words_done(w);
    w->v = xcalloc(n ? n : 1, sizeof *w->v);
    for (i = 0; i < n; i++) {
        json_t *s = json_array_get(arr, i);
        char *p;
        if (!json_is_string(s) || json_string_length(s) == 0) {
            snprintf(err, errlen, "%s: \"%s\"[%zu] must be a non-empty string", path, name, i);
            return ES_EINVALID;
        }
        w->v[w->n++] = xstrndup(json_string_value(s), json_string_length(s));
        if (lower)
            for (p = w->v[w->n - 1]; *p; p++)
                *p = (char)tolower((unsigned char)*p);
    }
    return ES_OK;
}

static int load_seconds(int64_t *out, json_t *v, const char *name, const char *path, char *err,
                        size_t errlen)
{
    double d;

    if (!json_is_number(v) || (d = json_number_value(v)) < 0 || d > 1e9) {
        snprintf(err, errlen, "%s: \"%s\" must be a number of seconds between 0 and 1e9", path,
                 name);
        return ES_EINVALID;
    }
    *out = (int64_t)(d * 1e6);
    return ES_OK;
}

int analyzer_config_load(struct analyzer_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t len;
    json_error_t jerr;
    json_t *root, *v;
    const char *key;
    int rc = ES_OK;

    if (f == NULL) {
        snprintf(err, errlen, "cannot read config %s", path);
        return ES_EIO;
    }
    buf = xmalloc(CONFIG_MAX_BYTES + 1);
    len = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
    fclose(f);
    if (len > CONFIG_MAX_BYTES) {
        free(buf);
        snprintf(err, errlen, "config %s is larger than %u bytes", path, CONFIG_MAX_BYTES);
        return ES_ETOOBIG;
    }
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free(buf);
    if (root == NULL) {
        snprintf(err, errlen, "config %s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return ES_EINVALID;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "config %s: the top level must be a JSON object", path);
        return ES_EINVALID;
    }
    json_object_foreach(root, key, v)
    {
        if (rc != ES_OK)
            break;
        if (strcmp(key, "root_types") == 0)
            rc = load_words(&cfg->root_types, v, key, 0, path, err, errlen);
        else if (strcmp(key, "terminal_types") == 0)
            rc = load_words(&cfg->terminal_types, v, key, 0, path, err, errlen);
        else if (strcmp(key, "terminal_failure_types") == 0)
            rc = load_words(&cfg->failure_types, v, key, 0, path, err, errlen);
        else if (strcmp(key, "technical_words") == 0)
            rc = load_words(&cfg->technical_words, v, key, 1, path, err, errlen);
        else if (strcmp(key, "command_verbs") == 0)
            rc = load_words(&cfg->command_verbs, v, key, 1, path, err, errlen);
        else if (strcmp(key, "event_words") == 0)
            rc = load_words(&cfg->event_words, v, key, 0, path, err, errlen);
        else if (strcmp(key, "semantic_window_s") == 0)
            rc = load_seconds(&cfg->semantic_window_us, v, key, path, err, errlen);
        else if (strcmp(key, "stuck_after_s") == 0)
            rc = load_seconds(&cfg->stuck_after_us, v, key, path, err, errlen);
        else if (strcmp(key, "replay_after_s") == 0)
            rc = load_seconds(&cfg->replay_after_us, v, key, path, err, errlen);
        else if (strcmp(key, "root_share") == 0) {
            if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1) {
                snprintf(err, errlen, "%s: \"root_share\" must be a number from 0 to 1", path);
                rc = ES_EINVALID;
            } else
                cfg->root_share = json_number_value(v);
        } else {
            snprintf(err, errlen,
                     "%s: unknown setting \"%s\" (known: root_types, terminal_types, "
                     "terminal_failure_types, technical_words, command_verbs, event_words, "
                     "semantic_window_s, stuck_after_s, replay_after_s, root_share)",
                     path, key);
            rc = ES_EINVALID;
        }
    }
    json_decref(root);
    return rc;
}
