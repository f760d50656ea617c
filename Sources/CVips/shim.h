#ifndef STRATA_CVIPS_SHIM_H
#define STRATA_CVIPS_SHIM_H

#include <vips/vips.h>

/*
 * Non-variadic wrappers around the parts of libvips 8.14 that StrataMedia uses.
 * Swift does not import variadic C functions (libvips' NULL-terminated option
 * lists), so every call with options goes through one of these.
 */

static void strata_vips_quiet_log(const gchar *domain, GLogLevelFlags level,
                                  const gchar *message, gpointer user_data) {
    (void)domain; (void)level; (void)message; (void)user_data;
}

/* vips_init plus process-wide settings. Returns 0 on success. */
static inline int strata_vips_start(const char *argv0, int concurrency, int quiet) {
    if (vips_init(argv0) != 0)
        return -1;
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    if (concurrency > 0)
        vips_concurrency_set(concurrency);
    if (quiet) {
        /* Problems are reported through the error buffer; keep libvips'
         * warnings (e.g. "premature end of JPEG file") off stderr. */
        g_log_set_handler("VIPS", (GLogLevelFlags)(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                          strata_vips_quiet_log, NULL);
    }
    return 0;
}

/* Opens a file by name without libvips' "name[options]" parsing. */
static inline VipsImage *strata_vips_open_file(const char *path, int fail_on) {
    VipsSource *source = vips_source_new_from_file(path);
    if (source == NULL)
        return NULL;
    VipsImage *image = vips_image_new_from_source(source, "",
        "access", VIPS_ACCESS_SEQUENTIAL,
        "fail_on", (VipsFailOn)fail_on,
        NULL);
    g_object_unref(source);
    return image;
}

/* The buffer must stay valid until the returned image is unreffed. */
static inline VipsImage *strata_vips_open_buffer(const void *data, size_t len, int fail_on) {
    return vips_image_new_from_buffer(data, len, "",
        "access", VIPS_ACCESS_SEQUENTIAL,
        "fail_on", (VipsFailOn)fail_on,
        NULL);
}

static inline int strata_vips_fail_on_error(void) { return VIPS_FAIL_ON_ERROR; }

/* Forces a full decode of every pixel. Returns 0 on success. */
static inline int strata_vips_avg(VipsImage *in, double *out) {
    return vips_avg(in, out, NULL);
}

static inline void strata_vips_unref(VipsImage *image) {
    g_object_unref(image);
}

/* A string metadata field ("vips-loader", "magick-format", ...) or NULL. */
static inline const char *strata_vips_string_field(VipsImage *image, const char *name) {
    const char *value = NULL;
    GType type = vips_image_get_typeof(image, name);
    /* Checked first: vips_image_get_string on another type writes to the error buffer. */
    if (type != G_TYPE_STRING && type != VIPS_TYPE_REF_STRING)
        return NULL;
    if (vips_image_get_string(image, name, &value) != 0)
        return NULL;
    return value;
}

/* "srgb", "b-w", "cmyk", "grey16", ... */
static inline const char *strata_vips_interpretation_nick(VipsImage *image) {
    return vips_enum_nick(VIPS_TYPE_INTERPRETATION, vips_image_get_interpretation(image));
}

/* EXIF orientation 1-8, 1 if absent. */
static inline int strata_vips_orientation(VipsImage *image) {
    int orientation = 1;
    if (vips_image_get_typeof(image, VIPS_META_ORIENTATION) == 0)
        return 1;
    if (vips_image_get_int(image, VIPS_META_ORIENTATION, &orientation) != 0)
        return 1;
    return orientation >= 1 && orientation <= 8 ? orientation : 1;
}

/* Wraps interleaved 8-bit RGB in an sRGB-tagged image (the data is copied). */
static inline VipsImage *strata_vips_rgb8_from_memory(const void *data, size_t size,
                                                      int width, int height) {
    VipsImage *raw = vips_image_new_from_memory_copy(data, size, width, height, 3, VIPS_FORMAT_UCHAR);
    if (raw == NULL)
        return NULL;
    VipsImage *tagged = NULL;
    int rc = vips_copy(raw, &tagged, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(raw);
    return rc == 0 ? tagged : NULL;
}

/* A constant black 8-bit image; cheap to make, compresses to almost nothing. */
static inline VipsImage *strata_vips_black(int width, int height, int bands) {
    VipsImage *out = NULL;
    if (vips_black(&out, width, height, "bands", bands, NULL) != 0)
        return NULL;
    return out;
}

/* Buffers returned by the savers are freed with g_free. */
static inline int strata_vips_pngsave(VipsImage *in, void **buf, size_t *len, int compression) {
    return vips_pngsave_buffer(in, buf, len, "compression", compression, "strip", TRUE, NULL);
}

static inline int strata_vips_jpegsave(VipsImage *in, void **buf, size_t *len, int quality) {
    return vips_jpegsave_buffer(in, buf, len, "Q", quality, "strip", TRUE, NULL);
}

/* JPEG with an EXIF orientation tag (1-8), for tests of the probe's orientation. */
static inline int strata_vips_jpegsave_oriented(VipsImage *in, void **buf, size_t *len,
                                                int quality, int orientation) {
    VipsImage *copy = NULL;
    if (vips_copy(in, &copy, NULL) != 0)
        return -1;
    vips_image_set_int(copy, VIPS_META_ORIENTATION, orientation);
    int rc = vips_jpegsave_buffer(copy, buf, len, "Q", quality, NULL);
    g_object_unref(copy);
    return rc;
}

static inline void strata_g_free(void *p) {
    g_free(p);
}

#endif
