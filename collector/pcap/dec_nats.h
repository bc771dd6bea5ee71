/* Decoder: NATS PUB, HPUB, MSG, HMSG. Listed in decoders.c. */
#ifndef ES_DEC_NATS_H
#define ES_DEC_NATS_H

#include "collector/pcap/decoders.h"

extern const struct decoder dec_nats;

#endif
