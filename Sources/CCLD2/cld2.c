#include "strata_cld2.h"
int strata_cld2_placeholder(void) { return 0; }
