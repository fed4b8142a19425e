/* statedir.c - the CA directory: atomic writes (tmp + fsync + rename), bounded reads. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <openssl/crypto.h>

#include "ca_int.h"
#include "cairn/log.h"

static int
path_join(char *out, size_t outsz, const char *dir, const char *name, const char *suffix)
{
    int n = snprintf(out, outsz, "%s/%s%s", dir, name, suffix);

    if (n < 0 || (size_t)n >= outsz) {
        log_err("ca", "path too long: %s/%s", dir, name);
        return CAIRN_ERR_INVAL;
    }
    return CAIRN_OK;
}

int
ca_dir_prepare(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_err("ca", "cannot create %s: %s", dir, strerror(errno));
        return CAIRN_ERR_IO;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        log_err("ca", "%s is not a directory", dir);
        return CAIRN_ERR_IO;
    }
    /* Issuer keys live here: nobody but the owner may even list it. */
    if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0) {
        log_err("ca", "cannot restrict %s to 0700: %s", dir, strerror(errno));
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

int
ca_dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = CAIRN_OK;

    if (fd < 0 || fsync(fd) != 0) {
        log_err("ca", "cannot sync directory %s: %s", dir, strerror(errno));
        rc = CAIRN_ERR_IO;
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

bool
ca_dir_exists_file(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    if (path_join(path, sizeof(path), dir, name, "") != CAIRN_OK)
        return false;
    return lstat(path, &st) == 0;
}

static bool
looks_like_hierarchy(const char *name)
{
    size_t len = strlen(name);

    if (strcmp(name, "manifest.json") == 0 || strncmp(name, "root.", 5) == 0 ||
        strncmp(name, "int-", 4) == 0)
        return true;
    return len > 4 && strcmp(name + len - 4, ".pem") == 0;
}

bool
ca_dir_find_stray(const char *dir, char *name, size_t namesz)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;

    if (d == NULL)
        return false;
    while (!found && (e = readdir(d)) != NULL) {
        if (!looks_like_hierarchy(e->d_name))
            continue;
        snprintf(name, namesz, "%s", e->d_name);
        found = true;
    }
    closedir(d);
    return found;
}

static int
write_all(int fd, const void *buf, size_t len)
{
    const char *q = buf;

    while (len > 0) {
        ssize_t n = write(fd, q, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        q += n;
        len -= (size_t)n;
    }
    return 0;
}

int
ca_file_write(const char *dir, const char *name, const void *buf, size_t len, mode_t mode)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    int fd, rc;

    rc = path_join(path, sizeof(path), dir, name, "");
    if (rc == CAIRN_OK)
        rc = path_join(tmp, sizeof(tmp), dir, name, ".tmp");
    if (rc != CAIRN_OK)
        return rc;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        log_err("ca", "cannot create %s: %s", tmp, strerror(errno));
        return CAIRN_ERR_IO;
    }
    /* fchmod: a leftover tmp file keeps its old mode through O_TRUNC. */
    if (fchmod(fd, mode) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        log_err("ca", "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return CAIRN_ERR_IO;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        log_err("ca", "cannot put %s in place: %s", path, strerror(errno));
        unlink(tmp);
        return CAIRN_ERR_IO;
    }
    return CAIRN_OK;
}

static int
read_fd(int fd, const char *path, char **buf, size_t *len)
{
    struct stat st;
    char *b;
    size_t got = 0;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CA_MAX_FILE) {
        log_err("ca", "%s is not a regular file of at most %d bytes", path, CA_MAX_FILE);
        return CAIRN_ERR_IO;
    }
    b = malloc((size_t)st.st_size + 1);
    if (b == NULL)
        return CAIRN_ERR_NOMEM;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_err("ca", "cannot read %s: %s", path, n == 0 ? "short file" : strerror(errno));
            OPENSSL_cleanse(b, got);
            free(b);
            return CAIRN_ERR_IO;
        }
        got += (size_t)n;
    }
    b[got] = '\0';
    *buf = b;
    *len = got;
    return CAIRN_OK;
}

int
ca_file_read(const char *dir, const char *name, char **buf, size_t *len)
{
    char path[PATH_MAX];
    int fd, rc;

    rc = path_join(path, sizeof(path), dir, name, "");
    if (rc != CAIRN_OK)
        return rc;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return CAIRN_ERR_NOTFOUND;
    if (fd < 0) {
        log_err("ca", "cannot open %s: %s", path, strerror(errno));
        return CAIRN_ERR_IO;
    }
    rc = read_fd(fd, path, buf, len);
    close(fd);
    return rc;
}
