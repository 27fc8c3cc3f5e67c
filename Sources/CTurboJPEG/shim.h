#ifndef DMS_CTURBOJPEG_SHIM_H
#define DMS_CTURBOJPEG_SHIM_H

#include <turbojpeg.h>

#endif
