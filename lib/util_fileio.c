/*
 * Whole-file reads and atomic replacement, for editing zone files in place.
 *
 * The new contents go to a temporary file next to the target (rename is
 * atomic only within one file system), get the old mode and owner, reach the
 * disk (fsync) and only then replace the target by rename; a crash leaves
 * the old file or the new one, never a mix. The directory is fsync'ed so the
 * rename itself survives a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <soasync/error.h>
#include <soasync/fileio.h>

int ss_file_read(const char *path, char **data, size_t *len, struct stat *st)
{
	struct stat sb;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	size_t cap = (size_t)sb.st_size + 1, n = 0;
	for (;;) {
		if (n + 1 >= cap || buf == NULL) {
			cap = buf == NULL ? cap + 1 : cap * 2;
			char *grown = realloc(buf, cap);
			if (grown == NULL) {
				free(buf);
				close(fd);
				return SS_ENOMEM;
			}
			buf = grown;
		}
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			goto fail;
		}
		if (got == 0) {
			break;
		}
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	if (st != NULL) {
		*st = sb;
	}
	return 0;
fail:;
	int saved = errno;
	free(buf);
	if (fd >= 0) {
		close(fd);
	}
	errno = saved;
	return SS_EIO;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			if (n == 0) {
				errno = EIO;
			}
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool changed(const struct stat *a, const struct stat *b)
{
	return a->st_dev != b->st_dev || a->st_ino != b->st_ino || a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* Mode and owner of orig onto fd; chown first, as it may clear set-id bits. */
static int keep_meta(int fd, const struct stat *orig)
{
	struct stat now;
	if (fstat(fd, &now) != 0) {
		return -1;
	}
	if ((now.st_uid != orig->st_uid || now.st_gid != orig->st_gid) &&
	    fchown(fd, orig->st_uid, orig->st_gid) != 0) {
		return -1;
	}
	return fchmod(fd, orig->st_mode & 07777);
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		/* Some file systems cannot fsync a directory; the rename is done. */
		(void)fsync(fd);
		close(fd);
	}
}

/* "DIR/.NAME.soasync-XXXXXX" for target, and DIR into *dir. */
static char *temp_name(const char *target, char **dir)
{
	char *a = strdup(target), *b = strdup(target), *tmp = NULL;
	if (a != NULL && b != NULL) {
		*dir = strdup(dirname(a));
		if (*dir != NULL &&
		    asprintf(&tmp, "%s/.%s.soasync-XXXXXX", *dir, basename(b)) < 0) {
			tmp = NULL;
		}
	}
	free(a);
	free(b);
	return tmp;
}

int ss_file_replace(const char *path, const char *data, size_t len, const struct stat *orig)
{
	int ret = SS_EIO, fd = -1;
	char *dir = NULL, *tmp = NULL;
	struct stat now;
	char *target = realpath(path, NULL);
	if (target == NULL || stat(target, &now) != 0) {
		goto fail;
	}
	if (orig != NULL && changed(orig, &now)) {
		ret = SS_ESTATE;
		goto fail;
	}
	/* A rename gives the new contents to this name only: the other links
	 * would keep the old serial, silently. */
	if (now.st_nlink > 1) {
		ret = SS_EHARDLINK;
		goto fail;
	}
	tmp = temp_name(target, &dir);
	if (tmp == NULL) {
		ret = SS_ENOMEM;
		goto fail;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		tmp = NULL;
		goto fail;
	}
	if (write_all(fd, data, len) != 0 || keep_meta(fd, orig != NULL ? orig : &now) != 0 ||
	    fsync(fd) != 0) {
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* Checked again right before the rename: an editor may have saved meanwhile. */
	if (stat(target, &now) != 0 || (orig != NULL && changed(orig, &now))) {
		ret = SS_ESTATE;
		goto fail;
	}
	if (rename(tmp, target) != 0) {
		goto fail;
	}
	sync_dir(dir);
	free(tmp);
	free(dir);
	free(target);
	return 0;
fail:;
	int saved = errno;
	if (fd >= 0) {
		close(fd);
	}
	if (tmp != NULL) {
		unlink(tmp);
	}
	free(tmp);
	free(dir);
	free(target);
	errno = saved;
	return ret;
}
