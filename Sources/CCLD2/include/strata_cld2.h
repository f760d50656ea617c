#pragma once
/// Placeholder; the language-ID helper fills this in.
int strata_cld2_placeholder(void);
