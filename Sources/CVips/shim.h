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


/* ---- Pixels for hashing and quality signals ---- */

/* The thumbnail both pixel readers start from: `path` reduced to width x height (force=1: exactly, aspect ignored;
 * force=0: fit inside, never enlarged), EXIF orientation applied, shrink-on-load for JPEG and WebP. */
static inline int strata_vips_thumbnail_file(const char *path, int width, int height, int force, VipsImage **thumb) {
    VipsSource *source = vips_source_new_from_file(path);
    if (source == NULL)
        return -1;
    int rc = vips_thumbnail_source(source, thumb, width,
        "height", height,
        "size", force ? VIPS_SIZE_FORCE : VIPS_SIZE_DOWN,
        "option_string", "fail_on=error",
        NULL);
    g_object_unref(source);
    return rc;
}

/* `band` (taken: unreferenced here) scaled to 0...255 (16-bit divided by 257) and cast to floats in memory;
 * *out is freed with g_free. Returns 0 on success. */
static inline int strata_vips_float_pixels(VipsImage *band, int sixteen, float **out, int *out_w, int *out_h) {
    VipsImage *scaled = NULL;
    int rc = vips_linear1(band, &scaled, sixteen ? 1.0 / 257.0 : 1.0, 0.0, NULL);
    g_object_unref(band);
    if (rc != 0)
        return -1;
    VipsImage *f = NULL;
    rc = vips_cast(scaled, &f, VIPS_FORMAT_FLOAT, NULL);
    g_object_unref(scaled);
    if (rc != 0)
        return -1;
    size_t size = 0;
    void *mem = vips_image_write_to_memory(f, &size);
    *out_w = vips_image_get_width(f);
    *out_h = vips_image_get_height(f);
    g_object_unref(f);
    if (mem == NULL)
        return -1;
    *out = (float *)mem;
    return 0;
}

/* Decodes `path` reduced to fit width x height (force=1: exactly width x height, aspect ignored;
 * force=0: fit inside, never enlarged), honouring EXIF orientation, as one gray band of floats
 * scaled to 0...255. JPEG and WebP shrink on load. *out is freed with g_free. Returns 0 on success. */
static inline int strata_vips_gray_thumbnail(const char *path, int width, int height, int force,
                                             float **out, int *out_w, int *out_h) {
    VipsImage *thumb = NULL;
    if (strata_vips_thumbnail_file(path, width, height, force, &thumb) != 0)
        return -1;
    int rc;
    VipsImage *gray = NULL;
    int sixteen = vips_image_get_format(thumb) == VIPS_FORMAT_USHORT;
    rc = vips_colourspace(thumb, &gray, sixteen ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W, NULL);
    g_object_unref(thumb);
    if (rc != 0)
        return -1;
    VipsImage *band = NULL;
    if (vips_image_get_bands(gray) > 1) {
        rc = vips_extract_band(gray, &band, 0, NULL);
        g_object_unref(gray);
        if (rc != 0)
            return -1;
    } else {
        band = gray;
    }
    return strata_vips_float_pixels(band, sixteen, out, out_w, out_h);
}

/* Width and height as displayed (EXIF orientation 5-8 swaps them), from the header only. */
static inline int strata_vips_display_size(const char *path, int *width, int *height) {
    VipsImage *image = strata_vips_open_file(path, VIPS_FAIL_ON_ERROR);
    if (image == NULL)
        return -1;
    int w = vips_image_get_width(image), h = vips_image_get_height(image);
    int o = strata_vips_orientation(image);
    g_object_unref(image);
    if (o >= 5) { int t = w; w = h; h = t; }
    *width = w;
    *height = h;
    return 0;
}

/* ---- Conversion for clean.image ---- */

enum { STRATA_SAVE_JPEG = 0, STRATA_SAVE_PNG = 1, STRATA_SAVE_WEBP = 2 };

/* Loads `path`, applies EXIF orientation (autorot), shrinks so the longer side is at most max_side
 * (0: no limit), flattens alpha on white for JPEG, and saves as `format` with `quality`, stripping
 * metadata when `strip`. The buffer is freed with g_free. Returns 0 on success. */
static inline int strata_vips_convert(const char *path, int autorot, int max_side, int format,
                                      int quality, int strip, void **buf, size_t *len) {
    VipsSource *source = vips_source_new_from_file(path);
    if (source == NULL)
        return -1;
    VipsImage *image = vips_image_new_from_source(source, "", "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    g_object_unref(source);
    if (image == NULL)
        return -1;
    VipsImage *next = NULL;
    if (autorot) {
        if (vips_autorot(image, &next, NULL) != 0) { g_object_unref(image); return -1; }
        g_object_unref(image);
        image = next;
    }
    int w = vips_image_get_width(image), h = vips_image_get_height(image);
    int longer = w > h ? w : h;
    if (max_side > 0 && longer > max_side) {
        if (vips_resize(image, &next, (double)max_side / (double)longer, NULL) != 0) { g_object_unref(image); return -1; }
        g_object_unref(image);
        image = next;
    }
    if (format == STRATA_SAVE_JPEG && vips_image_hasalpha(image)) {
        double white[3] = {255, 255, 255};
        VipsArrayDouble *background = vips_array_double_new(white, 3);
        int rc = vips_flatten(image, &next, "background", background, NULL);
        vips_area_unref(VIPS_AREA(background));
        if (rc != 0) { g_object_unref(image); return -1; }
        g_object_unref(image);
        image = next;
    }
    int rc;
    switch (format) {
    case STRATA_SAVE_PNG:
        rc = vips_pngsave_buffer(image, buf, len, "compression", 6, "strip", strip, NULL);
        break;
    case STRATA_SAVE_WEBP:
        rc = vips_webpsave_buffer(image, buf, len, "Q", quality, "strip", strip, NULL);
        break;
    default:
        rc = vips_jpegsave_buffer(image, buf, len, "Q", quality, "strip", strip, NULL);
        break;
    }
    g_object_unref(image);
    return rc;
}


/* ---- A fast path for hashing JPEGs: libjpeg's DCT scaling straight to gray ---- */

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

struct strata_jpeg_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
};

static void strata_jpeg_error_exit(j_common_ptr info) {
    longjmp(((struct strata_jpeg_error *)info->err)->jump, 1);
}

static void strata_jpeg_quiet(j_common_ptr info, int level) {
    (void)info; (void)level;
}

/* EXIF orientation from an APP1 marker (1 when absent or unreadable). */
static inline int strata_exif_orientation(const unsigned char *d, unsigned int n) {
    if (n < 14 || memcmp(d, "Exif\0\0", 6) != 0)
        return 1;
    const unsigned char *t = d + 6;
    unsigned int len = n - 6;
    int le = t[0] == 'I';
    #define STRATA_U16(p) (le ? (unsigned)((p)[0] | (p)[1] << 8) : (unsigned)((p)[0] << 8 | (p)[1]))
    #define STRATA_U32(p) (le ? ((unsigned)(p)[0] | (unsigned)(p)[1] << 8 | (unsigned)(p)[2] << 16 | (unsigned)(p)[3] << 24) \
                              : ((unsigned)(p)[0] << 24 | (unsigned)(p)[1] << 16 | (unsigned)(p)[2] << 8 | (unsigned)(p)[3]))
    unsigned int ifd = STRATA_U32(t + 4);
    if (ifd + 2 > len)
        return 1;
    unsigned int count = STRATA_U16(t + ifd);
    for (unsigned int i = 0; i < count; i++) {
        unsigned int e = ifd + 2 + 12 * i;
        if (e + 12 > len)
            break;
        if (STRATA_U16(t + e) == 0x0112) {
            unsigned int v = STRATA_U16(t + e + 8);
            return v >= 1 && v <= 8 ? (int)v : 1;
        }
    }
    #undef STRATA_U16
    #undef STRATA_U32
    return 1;
}

/* Decodes a JPEG file to 8-bit gray at the smallest DCT scale (1/8, 1/4, 1/2, 1/1) that keeps both sides at
 * least min_side. Returns malloc'd pixels (free with free) and sets *width, *height; NULL when the file is not a
 * plain JPEG this path handles (not JPEG, CMYK, damaged, or an EXIF orientation other than 1): the caller then
 * uses libvips. */
static inline unsigned char *strata_jpeg_gray_small(const char *path, int min_side, int *width, int *height) {
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    struct jpeg_decompress_struct info;
    struct strata_jpeg_error error;
    unsigned char *volatile pixels = NULL;
    info.err = jpeg_std_error(&error.pub);
    error.pub.error_exit = strata_jpeg_error_exit;
    error.pub.emit_message = strata_jpeg_quiet;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&info);
        fclose(file);
        free(pixels);
        return NULL;
    }
    jpeg_create_decompress(&info);
    jpeg_stdio_src(&info, file);
    jpeg_save_markers(&info, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&info, TRUE);
    for (jpeg_saved_marker_ptr m = info.marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && strata_exif_orientation(m->data, m->data_length) != 1) {
            jpeg_destroy_decompress(&info);
            fclose(file);
            return NULL;
        }
    }
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&info);
        fclose(file);
        return NULL;
    }
    info.out_color_space = JCS_GRAYSCALE;
    unsigned int denom = 8;
    while (denom > 1 && (info.image_width / denom < (unsigned)min_side || info.image_height / denom < (unsigned)min_side))
        denom /= 2;
    info.scale_num = 1;
    info.scale_denom = denom;
    jpeg_start_decompress(&info);
    int w = (int)info.output_width, h = (int)info.output_height;
    pixels = (unsigned char *)malloc((size_t)w * (size_t)h);
    if (pixels == NULL) {
        jpeg_destroy_decompress(&info);
        fclose(file);
        return NULL;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + (size_t)info.output_scanline * (size_t)w;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    fclose(file);
    *width = w;
    *height = h;
    return pixels;
}

/* Like strata_vips_gray_thumbnail, but an image with an alpha channel keeps it: `out` holds `*out_bands` floats per
 * pixel (gray, then alpha when 2), both 0..255. The caller composites (a person sees a transparent image over a
 * background, not over the black that transparent pixels often store). */
static inline int strata_vips_gray_alpha_thumbnail(const char *path, int width, int height, int force,
                                                   float **out, int *out_w, int *out_h, int *out_bands) {
    VipsImage *thumb = NULL;
    if (strata_vips_thumbnail_file(path, width, height, force, &thumb) != 0)
        return -1;
    int rc;
    int alpha = vips_image_hasalpha(thumb);
    VipsImage *gray = NULL;
    int sixteen = vips_image_get_format(thumb) == VIPS_FORMAT_USHORT;
    rc = vips_colourspace(thumb, &gray, sixteen ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W, NULL);
    g_object_unref(thumb);
    if (rc != 0)
        return -1;
    int bands = vips_image_get_bands(gray);
    int keep = (alpha && bands >= 2) ? 2 : 1;
    VipsImage *band = NULL;
    if (bands != keep) {
        /* gray is band 0; alpha, when present, is the last band */
        if (keep == 2) {
            VipsImage *g0 = NULL, *a0 = NULL;
            if (vips_extract_band(gray, &g0, 0, NULL) != 0) { g_object_unref(gray); return -1; }
            if (vips_extract_band(gray, &a0, bands - 1, NULL) != 0) { g_object_unref(g0); g_object_unref(gray); return -1; }
            VipsImage *pair[2] = { g0, a0 };
            rc = vips_bandjoin(pair, &band, 2, NULL);
            g_object_unref(g0); g_object_unref(a0);
        } else {
            rc = vips_extract_band(gray, &band, 0, NULL);
        }
        g_object_unref(gray);
        if (rc != 0)
            return -1;
    } else {
        band = gray;
    }
    *out_bands = keep;
    return strata_vips_float_pixels(band, sixteen, out, out_w, out_h);
}

/* Wraps interleaved 8-bit RGBA (straight alpha) in an sRGB-tagged image (the data is copied). */
static inline VipsImage *strata_vips_rgba8_from_memory(const void *data, size_t size, int width, int height) {
    VipsImage *raw = vips_image_new_from_memory_copy(data, size, width, height, 4, VIPS_FORMAT_UCHAR);
    if (raw == NULL)
        return NULL;
    VipsImage *tagged = NULL;
    int rc = vips_copy(raw, &tagged, "interpretation", VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(raw);
    return rc == 0 ? tagged : NULL;
}

#endif
