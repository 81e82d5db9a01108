/* A library that chooses its own Poly1305 code from the CPU: one path, whichever it takes. */
#include "tests/unit/poly_paths.h"

unsigned poly_test_paths(void) { return 1; }

const char *poly_test_path(unsigned i)
{
	(void)i;
	return "the library's own choice";
}

void poly_test_extra(Suite *s) { (void)s; }
