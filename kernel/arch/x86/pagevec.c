/* Page copy and zero check, on the path pagevec_use() chose (pagevec.h). */
#include "kernel/arch/x86/pagevec.h"

#include "kernel/arch/x86/hw/strops.h"

static bool avx512;

bool pagevec_use(bool on)
{
	avx512 = on;
	return avx512;
}

void page_copy(void *dst, const void *src)
{
	if (avx512)
		page_copy_avx512(dst, src);
	else
		str_copy(dst, src, PAGEVEC_SIZE);
}

bool page_is_zero(const void *p)
{
	return avx512 ? page_is_zero_avx512(p) : str_all_zero(p, PAGEVEC_SIZE / 8);
}
