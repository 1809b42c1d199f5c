#include <isa-l/igzip_lib.h>
#include <isa-l/crc.h>

// ISA-L's flag and state constants are macros and enum cases; Swift sees these instead.
static inline void cisal_inflate_init_gzip(struct inflate_state *state) {
    isal_inflate_init(state);
    state->crc_flag = ISAL_GZIP;
}
static inline int cisal_is_finished(const struct inflate_state *state) {
    return state->block_state == ISAL_BLOCK_FINISH;
}
