/* b64.h - strict Base64 (RFC 4648 section 4) and base64url (section 5). */
#ifndef SP_INGEST_B64_H
#define SP_INGEST_B64_H

#include <stddef.h>

/* Bytes needed to encode n bytes, with the NUL. */
#define SP_B64_ENC_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Encodes in[0..n) into out (SP_B64_ENC_LEN(n) bytes) and returns the
 * length. url selects the URL alphabet without padding. */
size_t ingest_b64_encode(const unsigned char *in, size_t n, char *out, int url);

/* Decodes in[0..n) into out (at least n / 4 * 3 + 3 bytes) and writes the
 * decoded length to *outlen. Standard: padding required to a multiple of 4;
 * url: unpadded (padding tolerated). Whitespace and other characters are
 * rejected. Returns SP_EINVAL on malformed input. */
int ingest_b64_decode(const char *in, size_t n, unsigned char *out, size_t *outlen, int url);

#endif
