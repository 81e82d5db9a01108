/*
 * The code paths of the Poly1305 a test binary links (migration/mac_poly.h)
 * that this CPU can run: test_migr_poly.c runs its checks once per path.
 * poly_paths_asm.c forces each of OpenSSL's assembly paths in turn.
 */
#ifndef TESTS_UNIT_POLY_PATHS_H
#define TESTS_UNIT_POLY_PATHS_H

#include <check.h>

/* How many paths this CPU can run. */
unsigned poly_test_paths(void);

/* Makes path i (below poly_test_paths()) compute the tags started from now on; returns its name,
 * or NULL if it cannot. */
const char *poly_test_path(unsigned i);

/* Adds this implementation's own checks, if any, to s. */
void poly_test_extra(Suite *s);

#endif
