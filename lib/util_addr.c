#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <soasync/addr.h>
#include <soasync/error.h>

static int parse_port(const char *text, uint16_t *port)
{
	char *end = NULL;
	if (*text < '0' || *text > '9') {
		return SS_EADDR;
	}
	unsigned long v = strtoul(text, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535) {
		return SS_EADDR;
	}
	*port = (uint16_t)v;
	return 0;
}

int ss_addr_parse(ss_addr_t *out, const char *text, uint16_t default_port)
{
	char host[INET6_ADDRSTRLEN + 1];
	uint16_t port = default_port;
	const char *hash = strchr(text, '#');
	size_t hlen = hash ? (size_t)(hash - text) : strlen(text);
	if (hlen == 0 || hlen >= sizeof(host)) {
		return SS_EADDR;
	}
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (hash && parse_port(hash + 1, &port) != 0) {
		return SS_EADDR;
	}
	uint8_t raw[16];
	if (inet_pton(AF_INET, host, raw) == 1) {
		return ss_addr_from_raw(out, raw, 4, port);
	}
	if (inet_pton(AF_INET6, host, raw) == 1) {
		return ss_addr_from_raw(out, raw, 16, port);
	}
	return SS_EADDR;
}

int ss_addr_from_raw(ss_addr_t *out, const uint8_t *raw, size_t len, uint16_t port)
{
	memset(out, 0, sizeof(*out));
	if (len == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, raw, 4);
		return 0;
	}
	if (len == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, raw, 16);
		return 0;
	}
	return SS_EADDR;
}

int ss_addr_family(const ss_addr_t *a)
{
	return a->ss.ss_family;
}

uint16_t ss_addr_port(const ss_addr_t *a)
{
	if (a->ss.ss_family == AF_INET6) {
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	}
	return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
}

void ss_addr_set_port(ss_addr_t *a, uint16_t port)
{
	if (a->ss.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
	} else {
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	}
}

socklen_t ss_addr_len(const ss_addr_t *a)
{
	return a->ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                   : sizeof(struct sockaddr_in);
}

const struct sockaddr *ss_addr_sa(const ss_addr_t *a)
{
	return (const struct sockaddr *)&a->ss;
}

static const uint8_t *raw_bytes(const ss_addr_t *a, size_t *len)
{
	if (a->ss.ss_family == AF_INET6) {
		*len = 16;
		return (const uint8_t *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
	}
	*len = 4;
	return (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
}

int ss_addr_cmp(const ss_addr_t *a, const ss_addr_t *b)
{
	if (a->ss.ss_family != b->ss.ss_family) {
		return a->ss.ss_family < b->ss.ss_family ? -1 : 1;
	}
	size_t len;
	const uint8_t *ra = raw_bytes(a, &len);
	const uint8_t *rb = raw_bytes(b, &len);
	int c = memcmp(ra, rb, len);
	if (c != 0) {
		return c < 0 ? -1 : 1;
	}
	uint16_t pa = ss_addr_port(a), pb = ss_addr_port(b);
	return pa == pb ? 0 : (pa < pb ? -1 : 1);
}

bool ss_addr_equal(const ss_addr_t *a, const ss_addr_t *b)
{
	return ss_addr_cmp(a, b) == 0;
}

uint32_t ss_addr_hash(const ss_addr_t *a)
{
	size_t len;
	const uint8_t *r = raw_bytes(a, &len);
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++) {
		h = (h ^ r[i]) * 16777619u;
	}
	h = (h ^ (ss_addr_port(a) & 0xff)) * 16777619u;
	h = (h ^ (ss_addr_port(a) >> 8)) * 16777619u;
	return h;
}

const char *ss_addr_ntop(const ss_addr_t *a, char *buf, size_t len)
{
	size_t rlen;
	const uint8_t *r = raw_bytes(a, &rlen);
	if (inet_ntop(a->ss.ss_family, r, buf, (socklen_t)len) == NULL) {
		snprintf(buf, len, "?");
	}
	return buf;
}

const char *ss_addr_format(const ss_addr_t *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	ss_addr_ntop(a, host, sizeof(host));
	uint16_t port = ss_addr_port(a);
	if (port == 53) {
		snprintf(buf, len, "%s", host);
	} else {
		snprintf(buf, len, "%s#%u", host, port);
	}
	return buf;
}
