/* pythons.c - see pythons.h. POSIX only: the Windows build has its own way
 * to hand a pipe to Python (the Win32 issue). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "pythons.h"

extern char **environ;

const char *mpt_source_dir(void)
{
    const char *d = getenv("MPT_SOURCE_DIR");
    return d && *d ? d : MPT_DEFAULT_SOURCE_DIR;
}

/* Asks a Python for its version; 0 if it is not a CPython 3.8+. */
static int python_version(const char *path, char *out, size_t size)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd,
             "'%s' -c 'import sys; print(\"%%d.%%d.%%d\" %% sys.version_info[:3])' "
             "2>/dev/null",
             path);
    if (strchr(path, '\'')) return 0;
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    char line[64] = "";
    int ok = fgets(line, sizeof line, f) != NULL;
    int st = pclose(f);
    if (!ok || st != 0) return 0;
    line[strcspn(line, "\r\n")] = '\0';
    int major = 0, minor = 0;
    if (sscanf(line, "%d.%d", &major, &minor) != 2 || major != 3 || minor < 8) return 0;
    snprintf(out, size, "%s", line);
    return 1;
}

static int version_cmp(const char *a, const char *b)
{
    int x[3] = {0}, y[3] = {0};
    sscanf(a, "%d.%d.%d", &x[0], &x[1], &x[2]);
    sscanf(b, "%d.%d.%d", &y[0], &y[1], &y[2]);
    for (int i = 0; i < 3; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

static void consider(mpt_python *out, int *n, int max, const char *path)
{
    char v[32];
    if (*n >= max || !python_version(path, v, sizeof v)) return;
    for (int i = 0; i < *n; i++)
        if (strcmp(out[i].version, v) == 0) return;
    snprintf(out[*n].path, sizeof out[*n].path, "%s", path);
    snprintf(out[*n].version, sizeof out[*n].version, "%s", v);
    sscanf(v, "%d.%d", &out[*n].major, &out[*n].minor);
    (*n)++;
}

/* Each <root>/NAME/bin/python3. */
static void consider_versions(mpt_python *out, int *n, int max, const char *root)
{
    DIR *d = opendir(root);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[800];
        snprintf(path, sizeof path, "%s/%s/bin/python3", root, e->d_name);
        if (access(path, X_OK) == 0) consider(out, n, max, path);
    }
    closedir(d);
}

int mpt_find_pythons(mpt_python *out, int max)
{
    int n = 0;
    const char *env = getenv("MPT_PYTHON");
    if (env && *env) consider(out, &n, max, env);
    const char *path = getenv("PATH");
    if (path) {
        char *copy = strdup(path), *save = NULL;
        for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir;
             dir = strtok_r(NULL, ":", &save)) {
            char p[800];
            snprintf(p, sizeof p, "%s/python3", *dir ? dir : ".");
            if (access(p, X_OK) == 0) consider(out, &n, max, p);
        }
        free(copy);
    }
    char name[32];
    for (int minor = 8; minor <= 20; minor++) {
        snprintf(name, sizeof name, "python3.%d", minor);
        consider(out, &n, max, name);
    }
    consider(out, &n, max, "/usr/bin/python3");
    consider(out, &n, max, "/usr/local/bin/python3");
    char root[600];
    const char *pyenv = getenv("PYENV_ROOT");
    const char *home = getenv("HOME");
    if (pyenv && *pyenv) {
        snprintf(root, sizeof root, "%s/versions", pyenv);
        consider_versions(out, &n, max, root);
    }
    if (home && *home) {
        snprintf(root, sizeof root, "%s/.pyenv/versions", home);
        consider_versions(out, &n, max, root);
    }
    for (int i = 1; i < n; i++) /* insertion sort by version */
        for (int j = i; j > 0 && version_cmp(out[j - 1].version, out[j].version) > 0;
             j--) {
            mpt_python t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

void mpt_python_report(const char *who, const mpt_python *py, int n)
{
    char list[512] = "";
    size_t used = 0;
    int lowest = n ? py[0].minor : 0, highest = n ? py[n - 1].minor : 0;
    for (int i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 py[i].version);
    fprintf(stderr, "\n" MPT_NOTE "%s: covered %d Python version%s: %s\n", who, n,
            n == 1 ? "" : "s", n ? list : "none (install python3)");
    /* One per minor version from 3.8 up to the newest found is all there is. */
    if (n == 0 || lowest > 8 || n < highest - 8 + 1)
        fprintf(stderr,
                MPT_NOTE
                "%s: for more, put other CPythons 3.8+ on PATH as python3.N, under "
                "$PYENV_ROOT/versions or ~/.pyenv/versions (pyenv install 3.N), or "
                "name one in MPT_PYTHON\n",
                who);
}

long mpt_spawn_program(const char *const *argv, int fd, int child_fd)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) return -1;
    int rc = 0;
    /* dup2 onto another number clears close-on-exec on the child's copy. */
    if (fd >= 0 && child_fd >= 0 && fd != child_fd)
        rc = posix_spawn_file_actions_adddup2(&fa, fd, child_fd);
    pid_t pid = -1;
    if (rc == 0)
        rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv,
                          environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? (long)pid : -1;
}

int mpt_wait_program(long pid)
{
    int st = 0;
    while (waitpid((pid_t)pid, &st, 0) < 0)
        if (errno != EINTR) return -1000;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? -WTERMSIG(st) : -1000;
}

int mpt_run_program(const char *const *argv, int fd, int child_fd)
{
    long pid = mpt_spawn_program(argv, fd, child_fd);
    return pid < 0 ? -1000 : mpt_wait_program(pid);
}

#endif

const mpt_python *mpt_pythons(const char *who, int *n)
{
    static mpt_python found[MPT_MAX_PYTHONS];
    static int count = -1;
    if (count < 0) count = mpt_find_pythons(found, MPT_MAX_PYTHONS);
    mpt_python_report(who, found, count);
    *n = count;
    return found;
}
