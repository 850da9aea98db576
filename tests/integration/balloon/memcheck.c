// SPDX-License-Identifier: MIT
/*
 * A guest workload for the balloon relay test (relay.sh):
 *   memcheck touch MIB            write MIB of memory once and exit (so the host backs it)
 *   memcheck hold MIB STOP LOG    fill MIB with a per-page pattern and its checksum, then
 *                                 verify every page over and over (rewriting one page in
 *                                 eight with a new pattern each round) until the file
 *                                 STOP exists; LOG gets "rounds N errors E" after every
 *                                 round; exit 0 only if no page ever failed its checksum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE  4096u
#define WORDS (PAGE / 8)

static uint64_t fill(uint64_t *p, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1, sum = 0;

	for (unsigned int i = 0; i < WORDS; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p[i] = x;
		sum = sum * 31 + x;
	}
	return sum;
}

static uint64_t checksum(const uint64_t *p)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < WORDS; i++)
		sum = sum * 31 + p[i];
	return sum;
}

int main(int argc, char **argv)
{
	size_t pages = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) * (1 << 20) / PAGE : 0;
	uint64_t *mem, *sums, *seeds, rounds = 0, errors = 0;

	if (argc == 3 && strcmp(argv[1], "touch") == 0) {
		char *p = malloc(pages * PAGE);

		if (!p)
			return 1;
		for (size_t i = 0; i < pages * PAGE; i += PAGE)
			memset(p + i, 0x5a, PAGE);
		printf("touched %zu pages\n", pages);
		return 0;
	}
	if (argc != 5 || strcmp(argv[1], "hold") != 0 || !pages) {
		fprintf(stderr, "usage: memcheck touch MIB | memcheck hold MIB STOP LOG\n");
		return 2;
	}
	mem = malloc(pages * PAGE);
	sums = calloc(pages, 8);
	seeds = calloc(pages, 8);
	if (!mem || !sums || !seeds)
		return 1;
	for (size_t i = 0; i < pages; i++) {
		seeds[i] = i + 1;
		sums[i] = fill(mem + i * WORDS, seeds[i]);
	}
	while (access(argv[3], F_OK) != 0) {
		FILE *log;

		for (size_t i = 0; i < pages; i++) {
			if (checksum(mem + i * WORDS) != sums[i]) {
				fprintf(stderr, "page %zu: checksum mismatch in round %llu\n", i,
					(unsigned long long)rounds);
				errors++;
			}
			if ((i + rounds) % 8 == 0) {
				seeds[i] += pages;
				sums[i] = fill(mem + i * WORDS, seeds[i]);
			}
		}
		rounds++;
		log = fopen(argv[4], "w");
		if (log) {
			fprintf(log, "rounds %llu errors %llu\n", (unsigned long long)rounds,
				(unsigned long long)errors);
			fclose(log);
		}
	}
	printf("rounds %llu errors %llu\n", (unsigned long long)rounds, (unsigned long long)errors);
	return errors ? 1 : 0;
}
