/* Decoder: MQTT 3.1.1 and 5 PUBLISH. Listed in decoders.c. */
#ifndef ES_DEC_MQTT_H
#define ES_DEC_MQTT_H

#include "collector/pcap/decoders.h"

extern const struct decoder dec_mqtt;

#endif
