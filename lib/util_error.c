#include <soasync/error.h>

const char *ss_strerror(int code)
{
	switch (code) {
#define SS_ERR_MSG(name, value, msg)                                                               \
	case value:                                                                                \
		return msg;
		SS_ERRORS(SS_ERR_MSG)
#undef SS_ERR_MSG
	}
	return "unknown error";
}

const char *ss_errname(int code)
{
	switch (code) {
#define SS_ERR_NAME(name, value, msg)                                                              \
	case value:                                                                                \
		return #name;
		SS_ERRORS(SS_ERR_NAME)
#undef SS_ERR_NAME
	}
	return "SS_EUNKNOWN";
}
