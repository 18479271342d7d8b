/*  zs_mem.h - how much memory this process may use: the machine's
    physical memory, or its control group's limit when lower (a container
    or a systemd unit with MemoryMax=).  Sizes the workers' caches by
    default. */
#ifndef ZS_MEM_H
#define ZS_MEM_H

#include <stdbool.h>
#include <stddef.h>

/*  Bytes of memory available to this process's control group: the lower
    of physical memory and the cgroup (v2 memory.max, or v1
    memory.limit_in_bytes) limit; 0 when neither can be read. */
size_t zs_mem_limit (void);

/*  The default cache budget of a worker when `share` workers run on one
    machine: half the memory limit divided among them, at least 256 MB
    (1 GB when the limit cannot be read). */
size_t zs_mem_cache_default (int share);

/*  keep: from now on glibc gives back to the kernel nothing freed (it
    trims no heap), so that freed memory is used again without page
    faults (a worker's default: see --prefault-mb).  !keep: glibc's
    default trimming again, and what is free now given back. */
void zs_mem_keep_freed (bool keep);

#endif
