/*
 * soasync: server addresses, as users write them: ADDR[#PORT] (dig/kdig style).
 */
#ifndef SOASYNC_ADDR_H
#define SOASYNC_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <soasync/api.h>

/* Longest text an ss_addr_t formats to: "[v6]#65535" plus NUL. */
#define SS_ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

typedef struct {
	struct sockaddr_storage ss; /* AF_INET or AF_INET6, port in network order */
} ss_addr_t;

/*
 * Parse "ADDR", "ADDR#PORT" (IPv4 or IPv6, no names) into out, with
 * default_port when no port is given. Returns 0, SS_EADDR.
 */
SS_API int ss_addr_parse(ss_addr_t *out, const char *text, uint16_t default_port);

/* Fill out from a raw address (4 or 16 bytes) and port. Returns 0, SS_EADDR. */
SS_API int ss_addr_from_raw(ss_addr_t *out, const uint8_t *raw, size_t len, uint16_t port);

SS_API int ss_addr_family(const ss_addr_t *a);
SS_API uint16_t ss_addr_port(const ss_addr_t *a);
SS_API void ss_addr_set_port(ss_addr_t *a, uint16_t port);
SS_API socklen_t ss_addr_len(const ss_addr_t *a);
SS_API const struct sockaddr *ss_addr_sa(const ss_addr_t *a);

/* Same family, address and port. */
SS_API bool ss_addr_equal(const ss_addr_t *a, const ss_addr_t *b);

/* Total order (family, address bytes, port), for sorting. */
SS_API int ss_addr_cmp(const ss_addr_t *a, const ss_addr_t *b);

/* A hash of family, address and port. */
SS_API uint32_t ss_addr_hash(const ss_addr_t *a);

/* The address alone ("192.0.2.1", "2001:db8::1") into buf (SS_ADDR_STRLEN). */
SS_API const char *ss_addr_ntop(const ss_addr_t *a, char *buf, size_t len);

/* "ADDR" when the port is 53, else "ADDR#PORT", into buf (SS_ADDR_STRLEN). */
SS_API const char *ss_addr_format(const ss_addr_t *a, char *buf, size_t len);

#endif
