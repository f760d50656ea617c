#ifndef STRATA_CLD2_H
#define STRATA_CLD2_H

/* Plain C interface to Compact Language Detector 2 (Debian libcld2).
   The implementation (cld2.cpp) is C++; nothing C++ appears here and no
   exception crosses this boundary. CLD2 detection is thread-safe (it keeps
   no mutable global state; see "Thread safe" in compact_lang_det.h), so these
   functions may be called concurrently. */

#ifdef __cplusplus
extern "C" {
#endif

/* Size of every language-code buffer written by this API (codes are short,
   e.g. "en", "zh-Hant", "un"; always NUL-terminated and truncated to fit). */
#define STRATA_CLD2_CODE_SIZE 16

/* Return values. */
#define STRATA_CLD2_OK 0
/* utf8 is NULL with length > 0, length < 0, or a required output is NULL. */
#define STRATA_CLD2_BAD_ARGUMENT (-1)
/* The bytes are not interchange-valid UTF-8 (CLD2 rejects e.g. C0/C1 control
   characters other than tab/LF/CR, noncharacters, malformed sequences).
   Outputs are still written: "un", 0 percent, not reliable, and
   *valid_prefix_out (if given) holds the number of leading valid bytes. */
#define STRATA_CLD2_INVALID_UTF8 (-2)
/* An unexpected C++ exception was caught; outputs hold "un"/0/0. */
#define STRATA_CLD2_INTERNAL_ERROR (-3)

/* Top-3 result of one detection. */
typedef struct strata_cld2_summary {
    char code0[STRATA_CLD2_CODE_SIZE]; /* most likely language; "un" if unknown */
    char code1[STRATA_CLD2_CODE_SIZE]; /* second; "un" if none */
    char code2[STRATA_CLD2_CODE_SIZE]; /* third;  "un" if none */
    int percent0;                      /* percent (0..100) of text bytes */
    int percent1;
    int percent2;
    int text_bytes;                    /* letters-only text bytes CLD2 scored */
    int reliable;                      /* 1 if CLD2 judged the top guess reliable */
    int valid_prefix_bytes;            /* leading interchange-valid UTF-8 bytes */
} strata_cld2_summary;

/* Detects the language of `length` bytes of UTF-8 at `utf8` (not necessarily
   NUL-terminated). is_plain_text != 0 means plain text; 0 means HTML (tags
   skipped, entities expanded). Uses CLD2::ExtDetectLanguageSummaryCheckUTF8,
   so UNKNOWN_LANGUAGE ("un") is returned rather than defaulting to English. */
int strata_cld2_detect_summary(const char *utf8, int length, int is_plain_text,
                               strata_cld2_summary *out);

/* Convenience form: top language code into code_out (>= STRATA_CLD2_CODE_SIZE
   bytes), its percent of text bytes, and reliability (0/1). */
int strata_cld2_detect(const char *utf8, int length, int is_plain_text,
                       char *code_out, int *percent_out, int *reliable_out);

/* CLD2's version string, e.g. "V2.0 - 20141016". Never NULL. */
const char *strata_cld2_version(void);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_CLD2_H */
