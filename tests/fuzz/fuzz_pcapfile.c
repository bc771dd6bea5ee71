/* Fuzz target: a whole pcap/pcapng file through the reader, link, IP and TCP layers. */
#include "tests/fuzz/fuzz_pcap_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pcapsrc *ps = fz_new();
    char err[256];

    if (pcapsrc_read_mem(ps, data, size, err, sizeof err) == ES_OK && pcapsrc_finish(ps) != ES_OK)
        abort(); /* hooks never fail */
    pcapsrc_free(ps);
    return 0;
}
