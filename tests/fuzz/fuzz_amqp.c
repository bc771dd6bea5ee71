/* Fuzz target: the amqp decoder over a reassembled connection (see fuzz_pcap_common.h). */
#include "tests/fuzz/fuzz_pcap_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_stream(5672, data, size);
    return 0;
}
