/*
 * procstat.h: what the kernel says about this process.
 */
#ifndef IA_PROCSTAT_H
#define IA_PROCSTAT_H

/*
 * The process's true peak resident memory so far, in KiB: VmHWM from
 * /proc/self/status (getrusage's ru_maxrss where /proc is absent); 0 when
 * neither can be read.  Call it where the peak is (after the reports are
 * built), not before: a peak measured at the end of the read misses the
 * report phase.
 */
long procstat_peak_rss_kb(void);

#endif
