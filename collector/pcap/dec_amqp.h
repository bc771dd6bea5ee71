/* Decoder: AMQP 0-9-1 basic.publish / basic.deliver / basic.get-ok with content. Listed in decoders.c. */
#ifndef ES_DEC_AMQP_H
#define ES_DEC_AMQP_H

#include "collector/pcap/decoders.h"

extern const struct decoder dec_amqp;

#endif
