/* Fuzz target: the http decoder over a reassembled connection (see fuzz_pcap_common.h). */
#include "tests/fuzz/fuzz_pcap_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_stream(8080, data, size);
    return 0;
}
