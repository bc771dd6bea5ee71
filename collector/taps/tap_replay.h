/*
 * Replays of the usual command-line clients' output as taps: `kcat -C -J` (one JSON object
 * per line: topic, partition, offset, ts, headers, key, payload) and `mosquitto_sub -F %j`
 * (one JSON object per line: tst, topic, qos, retain, properties, payload). Each line is
 * one delivered message, decoded with the same CloudEvents bindings as the live taps.
 */
#ifndef ES_TAP_REPLAY_H
#define ES_TAP_REPLAY_H

#include <stddef.h>
#include <stdio.h>

#include "collector/sink.h"
#include "core/err.h"

enum tap_replay_format {
    TAP_REPLAY_KCAT = 1,       /* kcat -C -J */
    TAP_REPLAY_MOSQUITTO_JSON, /* mosquitto_sub -F %j */
};

#define TAP_REPLAY_MAX_LINE (16u << 20) /* longer lines are rejects */

/* "kcat" / "mosquitto-json" -> format; 0 when unknown. */
int tap_replay_format_parse(const char *name);
/* Format -> its name ("kcat"), "?" when unknown. */
const char *tap_replay_format_name(int format);

/*
 * Reads in to EOF (or until sink_stopping(s)) and stores every line as a delivered
 * message into the sink's current origin (call sink_origin first). name labels locations
 * of lines that carry no broker coordinates ("name:LINE", mosquitto-json) and messages;
 * kcat lines are located "topic/partition@offset" like the live Kafka tap. A line that is
 * not a message of the format becomes a reject ("replay_bad_json", "kcat_missing_field",
 * "replay_line_too_long", ...) and reading goes on. Returns ES_OK, ES_EUSAGE (unknown
 * format), ES_EIO (read error) or a store error; err then holds one line.
 */
int tap_replay_stream(struct sink *s, int format, FILE *in, const char *name, char *err,
                      size_t errlen) ES_WARN_UNUSED;

/* The same over one buffer (tests, fuzzing): len bytes of lines. */
int tap_replay_buffer(struct sink *s, int format, const void *buf, size_t len,
                      const char *name, char *err, size_t errlen) ES_WARN_UNUSED;

#endif
