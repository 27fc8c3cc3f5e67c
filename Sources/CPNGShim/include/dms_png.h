#ifndef DMS_PNG_H
#define DMS_PNG_H

#include <stddef.h>
#include <stdint.h>

/*
 * A small C layer over libpng's classic (non-simplified) reading API.
 *
 * Why C: libpng reports errors with longjmp, and a longjmp must never cross Swift frames. Every libpng call
 * is made here, below a setjmp in the same C function, and errors come back as a return value plus a message.
 *
 * Why not the simplified API (png_image_*): to reproduce OpenCV 3.4's imdecode, the decode has to use the
 * very transformations OpenCV asks libpng for. The simplified API treats 16-bit data as linear light and
 * converts it to sRGB, composites alpha onto a background instead of dropping it, and converts RGB to gray
 * with its own gamma-aware coefficients; all of that changes the pixels.
 */

/// Reads the IHDR of an in-memory PNG. Returns 0 on success, -1 on error (message filled, NUL-terminated).
int dms_png_read_size(const uint8_t *data, size_t size, uint32_t *width, uint32_t *height,
                      char *message, size_t message_capacity);

/// Decodes an in-memory PNG to 8-bit RGB (gray == 0) or 8-bit gray (gray != 0), the way OpenCV 3.4's
/// imdecode does with IMREAD_COLOR / IMREAD_GRAYSCALE, but in RGB order. The image must be exactly
/// expected_width x expected_height and `pixels` must hold width * height * channels bytes.
/// Returns 0 on success, -1 on error (message filled, NUL-terminated).
int dms_png_decode(const uint8_t *data, size_t size, int gray, uint32_t expected_width, uint32_t expected_height,
                   uint8_t *pixels, size_t pixels_capacity, char *message, size_t message_capacity);

#endif
