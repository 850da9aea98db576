/* SPDX-License-Identifier: MIT */
/*
 * `vireo-bench net`: main.c hands the arguments after "net" to net_main.c.
 * Audience: tests/bench only.
 */
#ifndef VIREO_BENCH_NET_MAIN_H
#define VIREO_BENCH_NET_MAIN_H

/**
 * bench_net_main() - Parse @argv (argv[0] is "net"), run, print.
 * @return the process exit status (see `vireo-bench net --help`).
 */
int bench_net_main(int argc, char **argv);

#endif /* VIREO_BENCH_NET_MAIN_H */
