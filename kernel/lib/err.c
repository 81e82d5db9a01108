#include "kernel/lib/err.h"

const char *hv_strerror(int err)
{
	switch (err) {
	case HV_OK: return "ok";
	case HV_EINVAL: return "invalid value";
	case HV_ENOMEM: return "out of memory";
	case HV_ENOTSUP: return "not supported";
	case HV_ERANGE: return "out of range";
	case HV_EIO: return "hardware error";
	case HV_EEXIST: return "already exists";
	case HV_ENOENT: return "not found";
	case HV_EBUSY: return "busy";
	}
	return "unknown error";
}
