#include "dms_png.h"

#include <png.h>
#include <setjmp.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *message;
    size_t message_capacity;
} dms_png_source;

static void dms_png_set_message(dms_png_source *source, const char *text) {
    if (source->message_capacity == 0) {
        return;
    }
    size_t length = strlen(text);
    if (length >= source->message_capacity) {
        length = source->message_capacity - 1;
    }
    memcpy(source->message, text, length);
    source->message[length] = '\0';
}

static void dms_png_on_error(png_structp png, png_const_charp text) {
    dms_png_set_message((dms_png_source *)png_get_error_ptr(png), text);
    png_longjmp(png, 1);
}

static void dms_png_on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void dms_png_read_bytes(png_structp png, png_bytep out, size_t length) {
    dms_png_source *source = (dms_png_source *)png_get_io_ptr(png);
    if (length > source->size - source->offset) {
        png_error(png, "unexpected end of PNG data");
    }
    memcpy(out, source->data + source->offset, length);
    source->offset += length;
}

static int dms_png_open(dms_png_source *source, png_structp *png, png_infop *info) {
    *png = png_create_read_struct(PNG_LIBPNG_VER_STRING, source, dms_png_on_error, dms_png_on_warning);
    if (*png == NULL) {
        dms_png_set_message(source, "cannot create the libpng read struct");
        return -1;
    }
    *info = png_create_info_struct(*png);
    if (*info == NULL) {
        png_destroy_read_struct(png, NULL, NULL);
        dms_png_set_message(source, "cannot create the libpng info struct");
        return -1;
    }
    png_set_read_fn(*png, source, dms_png_read_bytes);
    return 0;
}

int dms_png_read_size(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                      char *message, size_t message_capacity) {
    dms_png_source source = {data, size, 0, message, message_capacity};
    png_structp png;
    png_infop info;
    if (dms_png_open(&source, &png, &info) != 0) {
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_read_info(png, info);
    *width = png_get_image_width(png, info);
    *height = png_get_image_height(png, info);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}

/* The transformations below are the ones OpenCV 3.4's PNG decoder requests for an 8-bit, 1- or 3-channel
 * destination, except png_set_bgr: OpenCV returns BGR and MXNet swaps it back to RGB, so RGB is kept here. */
static void dms_png_request_opencv_transformations(png_structp png, png_infop info, int gray) {
    int bit_depth = png_get_bit_depth(png, info);
    int color_type = png_get_color_type(png, info);
    if (bit_depth == 16) {
        png_set_strip_16(png);
    }
    png_set_strip_alpha(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png);
    }
    if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (gray) {
        png_set_rgb_to_gray(png, PNG_ERROR_ACTION_NONE, 0.299, 0.587);
    } else if ((color_type & PNG_COLOR_MASK_COLOR) == 0) {
        png_set_gray_to_rgb(png);
    }
}

int dms_png_decode(const uint8_t *data, size_t size, int gray, uint32_t expected_width, uint32_t expected_height,
                   uint8_t *pixels, size_t pixels_capacity, char *message, size_t message_capacity) {
    dms_png_source source = {data, size, 0, message, message_capacity};
    png_structp png;
    png_infop info;
    if (dms_png_open(&source, &png, &info) != 0) {
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    if (width != expected_width || height != expected_height) {
        png_error(png, "PNG size differs from its header read");
    }
    dms_png_request_opencv_transformations(png, info, gray);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t channels = gray ? 1 : 3;
    size_t row_bytes = (size_t)width * channels;
    if (png_get_bit_depth(png, info) != 8 || png_get_channels(png, info) != channels ||
        png_get_rowbytes(png, info) != row_bytes) {
        png_error(png, "unexpected PNG layout after transformations");
    }
    if (pixels_capacity / row_bytes < (size_t)height) {
        png_error(png, "PNG output buffer too small");
    }
    for (int pass = 0; pass < passes; pass++) {
        for (png_uint_32 y = 0; y < height; y++) {
            png_read_row(png, pixels + (size_t)y * row_bytes, NULL);
        }
    }
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    return 0;
}
