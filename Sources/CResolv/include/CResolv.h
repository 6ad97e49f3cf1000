#ifndef CRESOLV_H
#define CRESOLV_H

/// Asks the system resolver for the TXT records of `name` (res_query, class IN,
/// type TXT) and writes the raw DNS answer into `answer`.
/// Returns the answer's length, or -1 with *herr set to the resolver's
/// h_errno (1 HOST_NOT_FOUND, 2 TRY_AGAIN, 3 NO_RECOVERY, 4 NO_DATA).
int cresolv_query_txt(const char *name, unsigned char *answer, int answer_len, int *herr);

#endif
