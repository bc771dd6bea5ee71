/* naming.command_shaped / naming.technical classifier: table-driven. */
#include <stdio.h>

#include "../check.h"
#include "analyzer/check_naming.h"

static const struct {
    const char *type;
    enum naming_verdict want;
} cases[] = {
    /* facts: past participles, regular and irregular, in every naming convention */
    {"OrderCreated", NAMING_OK},
    {"PaymentFailed", NAMING_OK},
    {"OrderPlaced", NAMING_OK},
    {"EmailSent", NAMING_OK},
    {"InvoicePaid", NAMING_OK},
    {"ImageBuilt", NAMING_OK},
    {"OrderShipped", NAMING_OK},
    {"FundsWithdrawn", NAMING_OK},
    {"DecisionMade", NAMING_OK},
    {"TicketSold", NAMING_OK},
    {"FundsHeld", NAMING_OK},
    {"ExceptionCaught", NAMING_OK},
    {"PasswordReset", NAMING_OK},
    {"PasswordResetRequested", NAMING_OK},
    {"InventoryReservationFailed", NAMING_OK},
    {"TermsAgreed", NAMING_OK},
    {"com.example.billing.InvoiceIssued", NAMING_OK},
    {"billing.invoice.issued", NAMING_OK},
    {"order_created", NAMING_OK},
    {"order-shipped", NAMING_OK},
    {"orderCreated", NAMING_OK},
    {"OrderCreatedV2", NAMING_OK},
    {"HTTPRequestSent", NAMING_OK},
    /* nouns and adjectives are fine */
    {"Heartbeat", NAMING_OK},
    {"StockLow", NAMING_OK},
    {"OrderStatus", NAMING_OK},
    {"Refund", NAMING_OK},
    {"com.example.Refund", NAMING_OK},
    {"PriceQuote", NAMING_OK},
    {"ReportReady", NAMING_OK},
    {"", NAMING_OK},
    /* commands */
    {"SendWelcomeEmail", NAMING_COMMAND},
    {"CreateOrder", NAMING_COMMAND},
    {"ProcessPayment", NAMING_COMMAND},
    {"ChargePayment", NAMING_COMMAND},
    {"ReserveInventory", NAMING_COMMAND},
    {"CancelSubscription", NAMING_COMMAND},
    {"UpdateSearchIndex", NAMING_COMMAND},
    {"send_welcome_email", NAMING_COMMAND},
    {"order.create", NAMING_COMMAND},
    {"com.example.billing.IssueInvoice", NAMING_COMMAND},
    {"ResetPassword", NAMING_COMMAND},
    {"Send", NAMING_COMMAND},
    {"GetOrderStatus", NAMING_COMMAND},
    /* technical */
    {"RowInserted", NAMING_TECHNICAL},
    {"CacheInvalidated", NAMING_TECHNICAL},
    {"TableUpdated", NAMING_TECHNICAL},
    {"RecordSaved", NAMING_TECHNICAL},
    {"EntityPersisted", NAMING_TECHNICAL},
    {"DocumentUpserted", NAMING_TECHNICAL},
    {"DatabaseUpdated", NAMING_TECHNICAL},
    {"QueueFlushed", NAMING_TECHNICAL},
    {"DatabaseRowInserted", NAMING_TECHNICAL},
    {"OrderTableUpdated", NAMING_TECHNICAL},
    {"EmailJobQueued", NAMING_TECHNICAL},
    {"db.row.inserted", NAMING_TECHNICAL},
    /* business nouns that share a word with storage are fine */
    {"DocumentSigned", NAMING_OK},
    {"PaymentRecorded", NAMING_OK},
};

int main(void)
{
    struct analyzer_config cfg;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum naming_verdict got = check_naming_classify(NULL, cases[i].type, NULL, 0);
        CHECK_INT(got, cases[i].want);
        if (got != cases[i].want)
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].type);
    }
    CHECK_INT(check_naming_classify(NULL, NULL, NULL, 0), NAMING_OK);

    /* The config extends the lists and exempts names. */
    analyzer_config_init(&cfg);
    cfg.technical_words.v = (char *[]){"offset"};
    cfg.technical_words.n = 1;
    cfg.command_verbs.v = (char *[]){"onboard"};
    cfg.command_verbs.n = 1;
    cfg.event_words.v = (char *[]){"SendWelcomeEmail"};
    cfg.event_words.n = 1;
    CHECK_INT(check_naming_classify(&cfg, "OffsetCommitted", NULL, 0), NAMING_TECHNICAL);
    CHECK_INT(check_naming_classify(NULL, "OffsetCommitted", NULL, 0), NAMING_OK);
    CHECK_INT(check_naming_classify(&cfg, "OnboardCustomer", NULL, 0), NAMING_COMMAND);
    CHECK_INT(check_naming_classify(NULL, "OnboardCustomer", NULL, 0), NAMING_OK);
    CHECK_INT(check_naming_classify(&cfg, "SendWelcomeEmail", NULL, 0), NAMING_OK);
    return CHECK_DONE();
}
