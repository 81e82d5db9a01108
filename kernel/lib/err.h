/* Error values shared by every layer: functions return 0 or a negative hv_err. */
#ifndef HV_KERNEL_LIB_ERR_H
#define HV_KERNEL_LIB_ERR_H

enum hv_err {
	HV_OK = 0,
	HV_EINVAL = -1,   /* a value was malformed or out of range */
	HV_ENOMEM = -2,   /* no memory (frames, table slots) left */
	HV_ENOTSUP = -3,  /* the hardware lacks a required feature */
	HV_ERANGE = -4,   /* an address or length fell outside its region */
	HV_EIO = -5,      /* a hardware operation reported failure */
	HV_EEXIST = -6,   /* the thing is already there */
	HV_ENOENT = -7,   /* the thing is not there */
	HV_EBUSY = -8,    /* the thing is in use */
};

const char *hv_strerror(int err);

#endif
