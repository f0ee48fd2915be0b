/*
 * soasync: reading a file whole and replacing it atomically (a temporary in
 * the same directory, fsync, rename; mode and owner kept), for zone files
 * the tool edits in place and reads.
 */
#ifndef SOASYNC_FILEIO_H
#define SOASYNC_FILEIO_H

#include <stddef.h>
#include <sys/stat.h>

#include <soasync/api.h>

/*
 * Read a whole regular file into a new buffer *data (free() it; one NUL
 * byte is added past *len) and its metadata into *st (may be NULL).
 * Returns 0, SS_EIO (errno tells why; EINVAL: not a regular file), SS_ENOMEM.
 */
SS_API int ss_file_read(const char *path, char **data, size_t *len, struct stat *st);

/*
 * Put data in place of the file at path (symbolic links are followed: the
 * target is replaced): written to a temporary file in the target's
 * directory, given orig's mode, owner and group, fsync'ed and renamed over
 * the target, then the directory is fsync'ed. The file is never seen half
 * written, and no temporary is left behind on failure. orig is the stat
 * from ss_file_read: when the file changed since (inode, size, mtime), it is
 * left alone and SS_ESTATE returned. A file with other hard links is left
 * alone too (SS_EHARDLINK): the rename would give the new contents to this
 * name only, the others would keep the old ones.
 * Returns 0, SS_EIO (errno tells why), SS_ESTATE, SS_EHARDLINK, SS_ENOMEM.
 */
SS_API int ss_file_replace(const char *path, const char *data, size_t len, const struct stat *orig);

#endif
