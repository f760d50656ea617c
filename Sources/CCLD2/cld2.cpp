// C wrapper around CLD2's C++ API. See include/strata_cld2.h.
#include "strata_cld2.h"

#include <cstdio>  // compact_lang_det.h uses FILE without including it
#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>

#include <cstring>

namespace {

void copy_code(char *dst, const char *src) {
    if (src == nullptr || src[0] == '\0') src = "un";
    std::strncpy(dst, src, STRATA_CLD2_CODE_SIZE - 1);
    dst[STRATA_CLD2_CODE_SIZE - 1] = '\0';
}

void set_unknown(strata_cld2_summary *out) {
    std::memset(out, 0, sizeof *out);
    copy_code(out->code0, "un");
    copy_code(out->code1, "un");
    copy_code(out->code2, "un");
}

}  // namespace

extern "C" int strata_cld2_detect_summary(const char *utf8, int length, int is_plain_text,
                                          strata_cld2_summary *out) {
    if (out == nullptr) return STRATA_CLD2_BAD_ARGUMENT;
    set_unknown(out);
    if (length < 0 || (utf8 == nullptr && length > 0)) return STRATA_CLD2_BAD_ARGUMENT;
    if (length == 0) return STRATA_CLD2_OK;
    try {
        CLD2::CLDHints hints = {nullptr, nullptr, CLD2::UNKNOWN_ENCODING, CLD2::UNKNOWN_LANGUAGE};
        CLD2::Language language3[3] = {CLD2::UNKNOWN_LANGUAGE, CLD2::UNKNOWN_LANGUAGE,
                                       CLD2::UNKNOWN_LANGUAGE};
        int percent3[3] = {0, 0, 0};
        double normalized_score3[3] = {0, 0, 0};
        int text_bytes = 0;
        bool is_reliable = false;
        int valid_prefix_bytes = 0;
        CLD2::Language top = CLD2::ExtDetectLanguageSummaryCheckUTF8(
            utf8, length, is_plain_text != 0, &hints, /*flags=*/0, language3, percent3,
            normalized_score3, /*resultchunkvector=*/nullptr, &text_bytes, &is_reliable,
            &valid_prefix_bytes);
        out->valid_prefix_bytes = valid_prefix_bytes;
        if (valid_prefix_bytes < length) return STRATA_CLD2_INVALID_UTF8;
        copy_code(out->code0, CLD2::LanguageCode(top));
        copy_code(out->code1, CLD2::LanguageCode(language3[1]));
        copy_code(out->code2, CLD2::LanguageCode(language3[2]));
        // language3[0] is "usually" the return value; report the return value's share.
        out->percent0 = (language3[0] == top) ? percent3[0] : 0;
        out->percent1 = percent3[1];
        out->percent2 = percent3[2];
        out->text_bytes = text_bytes;
        out->reliable = (is_reliable && top != CLD2::UNKNOWN_LANGUAGE) ? 1 : 0;
        return STRATA_CLD2_OK;
    } catch (...) {
        set_unknown(out);
        return STRATA_CLD2_INTERNAL_ERROR;
    }
}

extern "C" int strata_cld2_detect(const char *utf8, int length, int is_plain_text,
                                  char *code_out, int *percent_out, int *reliable_out) {
    if (code_out == nullptr || percent_out == nullptr || reliable_out == nullptr)
        return STRATA_CLD2_BAD_ARGUMENT;
    strata_cld2_summary summary;
    int rc = strata_cld2_detect_summary(utf8, length, is_plain_text, &summary);
    copy_code(code_out, summary.code0);
    *percent_out = summary.percent0;
    *reliable_out = summary.reliable;
    return rc;
}

extern "C" const char *strata_cld2_version(void) {
    try {
        const char *v = CLD2::DetectLanguageVersion();
        return v != nullptr ? v : "";
    } catch (...) {
        return "";
    }
}
