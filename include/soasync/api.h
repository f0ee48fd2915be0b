/*
 * soasync: export control. The library is built with hidden visibility;
 * only declarations marked SS_API are part of its ABI.
 */
#ifndef SOASYNC_API_H
#define SOASYNC_API_H

#if defined(__GNUC__)
#define SS_API __attribute__((visibility("default")))
#else
#define SS_API
#endif

#endif
