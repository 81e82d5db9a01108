#include "kernel/lib/parse.h"

#include "kernel/lib/err.h"

bool parse_is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int parse_dec(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return HV_EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return HV_EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return HV_EINVAL; /* also keeps v far from overflowing */
	}
	*out = (uint32_t)v;
	return HV_OK;
}

int ipv4_parse(const char *s, size_t len, uint32_t *out)
{
	uint32_t addr = 0, octet;
	size_t i = 0, start;
	int n;

	for (n = 0; n < 4; n++) {
		for (start = i; i < len && s[i] != '.'; i++)
			;
		if (parse_dec(s + start, i - start, 255, &octet))
			return HV_EINVAL;
		addr = addr << 8 | octet;
		if (n < 3) {
			if (i == len)
				return HV_EINVAL; /* too few octets */
			i++;                      /* the dot */
		}
	}
	if (i != len)
		return HV_EINVAL;
	*out = addr;
	return HV_OK;
}

uint32_t ipv4_mask(unsigned prefix) { return prefix ? 0xffffffffu << (32 - prefix) : 0; }

bool ipv4_is_unicast(uint32_t addr)
{
	uint32_t first = addr >> 24;

	return first != 0 && first != 127 && first < 224;
}
