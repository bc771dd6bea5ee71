/*
 * Text helpers of the TUI that need no curses: the one escaping function every piece of
 * store text goes through before it reaches the screen, and the time and duration formats.
 */
#ifndef ES_TUI_TEXT_H
#define ES_TUI_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Copies s (NUL-terminated, NULL reads as "-") into buf (len bytes, always NUL-terminated,
 * truncated to fit) with every byte that could move or reprogram a terminal made visible:
 * C0 controls, DEL, ESC and C1 controls become "\x1b", "\n", "\t"...; invalid UTF-8 bytes
 * become "\xNN". With ascii set, every non-ASCII character becomes '?'. Returns buf.
 */
char *text_escape(const char *s, char *buf, size_t len, int ascii);

/* "850us", "12.3ms", "4.2s", "3m07s", "2h05m"; ASCII only. */
void text_duration(int64_t us, char *buf, size_t len);
/* UTC wall clock with milliseconds, "10:30:00.123"; "-" for ES_TIME_NONE. */
void text_clock(int64_t us, char *buf, size_t len);
/* UTC date and time, "2026-03-15 10:30:00"; "-" for ES_TIME_NONE. */
void text_datetime(int64_t us, char *buf, size_t len);
/* 1 when needle occurs in hay, ASCII case-insensitively; an empty needle matches. */
int text_contains(const char *hay, const char *needle);

#endif
