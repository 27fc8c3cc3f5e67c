#ifndef DMS_CPNG_SHIM_H
#define DMS_CPNG_SHIM_H

#include <png.h>

#endif
