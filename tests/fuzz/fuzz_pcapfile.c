/*
 * Fuzz target: a whole pcap/pcapng file through the reader, link, IP and TCP layers. One
 * input in four goes through two worker threads in rounds of three packets (par.c), so
 * the copies, the merge and the shutdown paths see the same bytes.
 */
#include "tests/fuzz/fuzz_pcap_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pcapsrc *ps;
    char err[256];

    setenv("EVENTSCOPE_ROUND_PACKETS", "3", 1);
    ps = fz_new(size % 4 == 3 ? 2 : 0);
    if (pcapsrc_read_mem(ps, data, size, err, sizeof err) == ES_OK && pcapsrc_finish(ps) != ES_OK)
        abort(); /* hooks never fail */
    pcapsrc_free(ps);
    return 0;
}
