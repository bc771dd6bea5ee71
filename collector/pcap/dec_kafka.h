/* Decoder: Kafka Produce requests and Fetch responses (record batch v2). Listed in decoders.c. */
#ifndef ES_DEC_KAFKA_H
#define ES_DEC_KAFKA_H

#include "collector/pcap/decoders.h"

extern const struct decoder dec_kafka;

#endif
