/* Decoder: HTTP/1.x requests and responses (RFC 9112). Listed in decoders.c. */
#ifndef ES_DEC_HTTP_H
#define ES_DEC_HTTP_H

#include "collector/pcap/decoders.h"

extern const struct decoder dec_http;

#endif
