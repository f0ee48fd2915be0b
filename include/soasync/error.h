/*
 * soasync: the one error space.
 *
 * Every library function that can fail returns 0 on success or one of the
 * negative SS_E* codes below. ss_strerror() gives the message; the table is
 * the single source of both.
 */
#ifndef SOASYNC_ERROR_H
#define SOASYNC_ERROR_H

#include <soasync/api.h>

/* X(name, value, message) */
#define SS_ERRORS(X)                                                                               \
	X(SS_EOK, 0, "success")                                                                    \
	X(SS_ENOMEM, -1, "out of memory")                                                          \
	X(SS_EINVAL, -2, "invalid argument")                                                       \
	X(SS_ETIMEOUT, -3, "timed out")                                                            \
	X(SS_ECONNREFUSED, -4, "connection refused")                                               \
	X(SS_ENETWORK, -5, "network error")                                                        \
	X(SS_EMALFORMED, -6, "malformed response")                                                 \
	X(SS_ECANCELED, -7, "canceled")                                                            \
	X(SS_EADDR, -8, "invalid address")                                                         \
	X(SS_ENAME, -9, "invalid domain name")                                                     \
	X(SS_EPARSE, -10, "parse error")                                                           \
	X(SS_EIO, -11, "input/output error")                                                       \
	X(SS_ENOTFOUND, -12, "not found")                                                          \
	X(SS_ELIMIT, -13, "limit exceeded")                                                        \
	X(SS_ECLOSED, -14, "connection closed")                                                    \
	X(SS_ENOSOA, -15, "no SOA record")                                                         \
	X(SS_EMULTISOA, -16, "more than one SOA record")                                           \
	X(SS_ETSIG, -17, "TSIG verification failed")                                               \
	X(SS_EREFUSED, -18, "refused")                                                             \
	X(SS_EXFR, -19, "zone transfer failed")                                                    \
	X(SS_EEXISTS, -20, "already exists")                                                       \
	X(SS_ESTATE, -21, "invalid state")                                                         \
	X(SS_EDEADLINE, -22, "deadline passed")                                                    \
	X(SS_EMFILE, -23, "too many open files (a local limit: ulimit -n)")                        \
	X(SS_EHARDLINK, -24, "the file has other hard links")

enum ss_error {
#define SS_ERR_ENUM(name, value, msg) name = (value),
	SS_ERRORS(SS_ERR_ENUM)
#undef SS_ERR_ENUM
};

/* The message for an SS_E* code; never NULL (unknown codes get a generic text). */
SS_API const char *ss_strerror(int code);

/* The symbolic name ("SS_ETIMEOUT") of a code; never NULL. */
SS_API const char *ss_errname(int code);

#endif
