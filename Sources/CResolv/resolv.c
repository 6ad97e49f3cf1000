#include "CResolv.h"
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <netdb.h>

int cresolv_query_txt(const char *name, unsigned char *answer, int answer_len, int *herr) {
    struct __res_state state = {0};
    if (res_ninit(&state) != 0) {
        *herr = NO_RECOVERY;
        return -1;
    }
    int n = res_nquery(&state, name, ns_c_in, ns_t_txt, answer, answer_len);
    if (n < 0) {
        *herr = state.res_h_errno;
    }
    res_nclose(&state);
    return n;
}
