/* UUIDs as text and as random version-4 identities (kernel/lib/uuid.h). */
#include "kernel/lib/uuid.h"

#include "kernel/lib/err.h"

#define UUID_VERSION_BYTE 6
#define UUID_VERSION_4 0x40
#define UUID_VARIANT_BYTE 8
#define UUID_VARIANT_RFC4122 0x80

/* Where the hyphens of 8-4-4-4-12 stand. */
static bool uuid_hyphen_at(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

static int uuid_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int uuid_parse(const char *s, size_t len, uint8_t out[UUID_LEN])
{
	uint8_t u[UUID_LEN] = { 0 };
	size_t i, nibble = 0;
	int d;

	if (len != UUID_TEXT_LEN)
		return HV_EINVAL;
	for (i = 0; i < len; i++) {
		if (uuid_hyphen_at(i)) {
			if (s[i] != '-')
				return HV_EINVAL;
			continue;
		}
		if ((d = uuid_hex(s[i])) < 0)
			return HV_EINVAL;
		u[nibble / 2] |= (uint8_t)(nibble % 2 ? d : d << 4);
		nibble++;
	}
	for (i = 0; i < UUID_LEN; i++)
		out[i] = u[i];
	return HV_OK;
}

void uuid_format(const uint8_t u[UUID_LEN], char out[UUID_TEXT_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, nibble = 0;

	for (i = 0; i < UUID_TEXT_LEN; i++) {
		if (uuid_hyphen_at(i)) {
			out[i] = '-';
			continue;
		}
		out[i] = hex[nibble % 2 ? u[nibble / 2] & 0xf : u[nibble / 2] >> 4];
		nibble++;
	}
	out[UUID_TEXT_LEN] = '\0';
}

void uuid_make_v4(uint8_t u[UUID_LEN])
{
	u[UUID_VERSION_BYTE] = (uint8_t)((u[UUID_VERSION_BYTE] & 0x0f) | UUID_VERSION_4);
	u[UUID_VARIANT_BYTE] = (uint8_t)((u[UUID_VARIANT_BYTE] & 0x3f) | UUID_VARIANT_RFC4122);
}

bool uuid_is_nil(const uint8_t u[UUID_LEN])
{
	uint8_t any = 0;
	size_t i;

	for (i = 0; i < UUID_LEN; i++)
		any |= u[i];
	return any == 0;
}
