/*  zs_mem.c - see zs_mem.h. */
#include "zs_mem.h"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  The number in a file such as memory.max ("max" or a byte count);
    0 when it is absent, unreadable or "max". */
static size_t s_read_limit (const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return 0;
    char line[64] = "";
    size_t v = 0;
    if (fgets (line, sizeof line, f) && line[0] >= '0' && line[0] <= '9')
        v = (size_t) strtoull (line, NULL, 10);
    fclose (f);
    return v;
}

/*  This process's cgroup memory limit, or 0: the path of its group from
    /proc/self/cgroup ("0::/path" on v2, "N:memory:/path" on v1). */
static size_t s_cgroup_limit (void)
{
    FILE *f = fopen ("/proc/self/cgroup", "r");
    if (!f)
        return 0;
    char line[1024];
    size_t limit = 0;
    while (!limit && fgets (line, sizeof line, f)) {
        line[strcspn (line, "\n")] = 0;
        char path[1200];
        if (strncmp (line, "0::", 3) == 0) {
            snprintf (path, sizeof path, "/sys/fs/cgroup%s/memory.max",
                      line + 3);
            limit = s_read_limit (path);
        }
        else {
            char *c = strchr (line, ':');
            if (c && strncmp (c + 1, "memory:", 7) == 0) {
                snprintf (path, sizeof path,
                          "/sys/fs/cgroup/memory%s/memory.limit_in_bytes",
                          c + 8);
                limit = s_read_limit (path);
            }
        }
    }
    fclose (f);
    return limit;
}

size_t zs_mem_limit (void)
{
    long pages = sysconf (_SC_PHYS_PAGES), size = sysconf (_SC_PAGESIZE);
    size_t phys = pages > 0 && size > 0 ? (size_t) pages * (size_t) size : 0;
    size_t group = s_cgroup_limit ();
    if (group && (!phys || group < phys))
        return group;
    return phys;
}

size_t zs_mem_cache_default (int share)
{
    size_t limit = zs_mem_limit ();
    if (!limit)
        return (size_t) 1 << 30;
    size_t each = limit / 2 / (size_t) (share > 0 ? share : 1);
    size_t floor = (size_t) 256 << 20;
    return each < floor ? floor : each;
}

void zs_mem_keep_freed (bool keep)
{
    /* keeping also fixes the mmap threshold at its default (128 KB) */
    mallopt (M_TRIM_THRESHOLD, keep ? INT_MAX : 128 * 1024);
    if (!keep)
        malloc_trim (0);
}
