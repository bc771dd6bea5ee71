/*
 * Fuzz target: kcat -J and mosquitto_sub -F %j replay lines into a real (temporary)
 * store. The first input byte picks the format; the rest are the lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/sink.h"
#include "collector/taps/tap_replay.h"

static struct store *st;

static void close_store(void)
{
    store_close(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sink sk;
    char err[256];
    int format;

    if (st == NULL) {
        char path[64];
        int fd;
        snprintf(path, sizeof path, "/tmp/es-fuzz-replay-XXXXXX");
        fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
        unlink(path);
        if (store_open(path, STORE_CREATE, &st, err, sizeof err) != ES_OK)
            abort();
        unlink(path); /* the open handle keeps it; nothing left behind */
        atexit(close_store);
    }
    if (size == 0)
        return 0;
    format = data[0] & 1 ? TAP_REPLAY_MOSQUITTO_JSON : TAP_REPLAY_KCAT;
    sink_init(&sk, st);
    if (sink_origin(&sk, "tap", "fuzz") == ES_OK &&
        tap_replay_buffer(&sk, format, data + 1, size - 1, "fuzz", err, sizeof err) != ES_OK &&
        strstr(err, "fuzz") == NULL)
        abort(); /* an error always names the input */
    if (sink_done(&sk) != ES_OK)
        abort();
    return 0;
}
