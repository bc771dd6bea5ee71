/* naming.command_shaped and naming.technical: the classifier, public for tests and the TUI. */
#ifndef ES_ANALYZER_CHECK_NAMING_H
#define ES_ANALYZER_CHECK_NAMING_H

#include <stddef.h>

#include "analyzer/config.h"

enum naming_verdict {
    NAMING_OK,
    NAMING_COMMAND,   /* imperative: SendWelcomeEmail, CreateOrder, order.create */
    NAMING_TECHNICAL, /* implementation detail: RowInserted, CacheInvalidated */
};

/*
 * Judges an event type name. Handles PascalCase, camelCase, snake_case, kebab-case,
 * dot.separated (billing.invoice.issued) and reverse-DNS (com.example.billing.InvoiceIssued)
 * names; version suffixes (V2, _v3) are ignored. cfg (may be NULL) adds technical words,
 * command verbs and exempt names. why (may be NULL) receives the word that decided.
 */
enum naming_verdict check_naming_classify(const struct analyzer_config *cfg, const char *type,
                                          char *why, size_t whylen);

#endif
