/*
 * Checks host command lines at build time with the kernel's own parser, so a
 * typo in a host's file stops `make netboot` instead of that host's boot.
 * usage: cmdline-check NAME "WORDS"   (exit 0: valid; 1: the kernel's message on stderr)
 * The message names the word that is wrong; a secret's value is never shown.
 */
#include <stdio.h>
#include "kernel/core/config.h"
#include "kernel/lib/err.h"

int main(int argc, char **argv)
{
	struct hv_config cfg;
	char err[CONFIG_ERR_MAX];

	if (argc != 3) {
		fprintf(stderr, "usage: %s NAME \"WORDS\"\n", argv[0]);
		return 2;
	}
	if (config_parse(argv[2], &cfg, err, sizeof(err)) != HV_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], err);
		return 1;
	}
	return 0;
}
