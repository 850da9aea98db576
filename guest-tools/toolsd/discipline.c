// SPDX-License-Identifier: MIT
/*
 * Time discipline: keeps the guest's CLOCK_REALTIME on the host's, read through
 * vireo_ptp's PHC (the /dev/ptpN whose clock_name is "vireo_ptp"), when chrony does
 * not do it already. ddk-docs/time-sync.md has the design and the figures.
 *
 * Every DISC_POLL_MS a thread reads DISC_SAMPLES offsets with PTP_SYS_OFFSET_EXTENDED
 * and keeps the one with the shortest round trip: offset = host - guest midpoint,
 * error bound = half the round trip. Then:
 * - guest behind by more than the error plus DISC_JUMP_NS (a pause, a suspend): step
 *   forward at once. A forward step is what the pause already did to the guest.
 * - |offset| beyond the error plus the step threshold (default 1 s): step.
 * - otherwise slew, never backwards: the phase goes to the kernel's PLL (ADJ_OFFSET
 *   with time constant 0: a quarter of what is left each second, so a crash of
 *   toolsd leaves a finite correction behind, not a clock running off), and a slow
 *   integrator of the offset sets the frequency (ADJ_FREQUENCY, STA_FREQHOLD keeps the
 *   kernel's own frequency loop out of it).
 * A sample whose round trip is far longer than usual says little: it is only used
 * for steps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/ptp_clock.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "toolsd.h"

#define DISC_POLL_MS	   250
#define DISC_SAMPLES	   5
#define DISC_JUMP_NS	   (2 * 1000 * 1000ll) /* forward steps above this */
#define DISC_CHRONY_POLLS  20		       /* look for chronyd every 5 s */
#define DISC_MAX_FREQ_PPM  500.0	       /* the kernel's limit */
#define DISC_INTEGRATOR_S2 64.0		       /* ppm/s per us of offset: 1/64 */
#define DISC_RTT_OUTLIER   3		       /* times the usual round trip */
#define DISC_LEARN_NS	   (2 * 1000 * 1000ll) /* offsets that teach the frequency */

static struct {
	int64_t step_threshold_ns;
	bool enabled;
	pthread_t thread;

	pthread_mutex_t lock; /* protects: st */
	struct toolsd_sync_state {
		const char *mode; /* "toolsd", "chrony", "off" */
		char reason[96];  /* why "off", or the last error */
		char phc[32];	  /* /dev/ptpN, "" if none */
		bool have_sample;
		int64_t offset_ns; /* host - guest, the last sample */
		int64_t error_ns;  /* its bound: half its round trip */
		int64_t sample_realtime_ns;
		double freq_ppm;
		uint64_t samples, steps, slews;
		int64_t last_step_ns; /* the last step's size (+: forward) */
		int64_t last_step_realtime_ns;
	} st;
} disc = {
	.step_threshold_ns = 1000000000ll,
	.enabled = true,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.st = { .mode = "off", .reason = "not started" },
};

static int64_t ts_ns(const struct ptp_clock_time *t)
{
	return (int64_t)t->sec * 1000000000 + t->nsec;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool toolsd_discipline_set_threshold(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.001 && v <= 86400.0))
		return false;
	disc.step_threshold_ns = (int64_t)(v * 1e9);
	return true;
}

void toolsd_discipline_disable(void)
{
	disc.enabled = false;
}

static void set_state(const char *mode, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_state(const char *mode, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&disc.lock);
	disc.st.mode = mode;
	va_start(ap, fmt);
	vsnprintf(disc.st.reason, sizeof(disc.st.reason), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&disc.lock);
}

/* Opens vireo_ptp's /dev/ptpN; returns the fd or -errno. */
static int open_phc(char *path, size_t len)
{
	DIR *d = opendir("/sys/class/ptp");
	struct dirent *e;
	int fd = -ENOENT;

	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		char p[300], name[32] = "";
		FILE *f;

		if (strncmp(e->d_name, "ptp", 3) || strlen(e->d_name) > 20)
			continue;
		snprintf(p, sizeof(p), "/sys/class/ptp/%s/clock_name", e->d_name);
		f = fopen(p, "re");
		if (!f)
			continue;
		if (!fgets(name, sizeof(name), f))
			name[0] = 0;
		fclose(f);
		if (strcmp(name, "vireo_ptp\n"))
			continue;
		snprintf(path, len, "/dev/%.20s", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		break;
	}
	closedir(d);
	return fd;
}

/* Whether chronyd runs (then the clock is chrony's to steer). */
static bool chrony_runs(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char p[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/comm", e->d_name);
		f = fopen(p, "re");
		if (!f)
			continue;
		found = fgets(comm, sizeof(comm), f) && strcmp(comm, "chronyd\n") == 0;
		fclose(f);
	}
	closedir(d);
	return found;
}

/* The best of DISC_SAMPLES readings: 0, or -errno. */
static int sample(int fd, int64_t *offset, int64_t *rtt)
{
	struct ptp_sys_offset_extended x;

	memset(&x, 0, sizeof(x));
	x.n_samples = DISC_SAMPLES;
	if (ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &x) < 0)
		return -errno;
	*rtt = INT64_MAX;
	for (unsigned int i = 0; i < DISC_SAMPLES; i++) {
		int64_t pre = ts_ns(&x.ts[i][0]), phc = ts_ns(&x.ts[i][1]);
		int64_t post = ts_ns(&x.ts[i][2]);

		if (post < pre || post - pre >= *rtt)
			continue;
		*rtt = post - pre;
		*offset = phc - (pre + (post - pre) / 2);
	}
	return *rtt == INT64_MAX ? -EPROTO : 0;
}

static int step(int64_t off)
{
	struct timex tx = { .modes = ADJ_SETOFFSET | ADJ_NANO };

	/* tv_usec holds nanoseconds with ADJ_NANO; it must be in [0, 1e9). */
	tx.time.tv_sec = off / 1000000000;
	tx.time.tv_usec = off % 1000000000;
	if (tx.time.tv_usec < 0) {
		tx.time.tv_sec--;
		tx.time.tv_usec += 1000000000;
	}
	return adjtimex(&tx) < 0 ? -errno : 0;
}

/* Hands @phase_ns to the kernel's PLL and sets the frequency to @freq_ppm. */
static int slew(int64_t phase_ns, double freq_ppm, int64_t err_ns)
{
	struct timex tx = {
		.modes = ADJ_STATUS | ADJ_NANO | ADJ_TIMECONST | ADJ_OFFSET | ADJ_FREQUENCY |
			 ADJ_MAXERROR | ADJ_ESTERROR,
		.status = STA_PLL | STA_FREQHOLD,
		.constant = 0,
		.freq = (long)(freq_ppm * 65536.0),
		.esterror = err_ns / 1000,
		.maxerror = err_ns / 1000 + 1000,
	};

	/* The kernel clamps the phase to +-0.5 s; the next poll gives the rest. */
	if (phase_ns > 500000000)
		phase_ns = 500000000;
	if (phase_ns < -500000000)
		phase_ns = -500000000;
	tx.offset = (long)phase_ns;
	return adjtimex(&tx) < 0 ? -errno : 0;
}

static void record_step(int64_t off)
{
	pthread_mutex_lock(&disc.lock);
	disc.st.steps++;
	disc.st.last_step_ns = off;
	disc.st.last_step_realtime_ns = realtime_ns();
	pthread_mutex_unlock(&disc.lock);
}

static void *discipline_thread(void *arg)
{
	struct timespec next;
	int fd = -1, polls = 0, rc;
	bool chrony = false, warned = false;
	double freq = 0.0, usual_rtt = 0.0;
	char phc[32] = "";

	(void)arg;
	/* Start from the frequency the kernel has (chrony's, a previous run's). */
	{
		struct timex tx = { .modes = 0 };

		if (adjtimex(&tx) >= 0)
			freq = tx.freq / 65536.0;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;; polls++) {
		int64_t off = 0, rtt = 0, err;

		next.tv_nsec += DISC_POLL_MS * 1000000l;
		if (next.tv_nsec >= 1000000000) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000;
		}
		if (polls % DISC_CHRONY_POLLS == 0)
			chrony = chrony_runs();
		if (fd < 0) {
			fd = open_phc(phc, sizeof(phc));
			if (fd < 0) {
				set_state("off", "no vireo_ptp clock (%s)",
					  fd == -ENOENT ? "module not loaded" : strerror(-fd));
				pthread_mutex_lock(&disc.lock);
				disc.st.phc[0] = 0;
				pthread_mutex_unlock(&disc.lock);
				/* Look again every 2 s: the module may come later. */
				next.tv_sec += 2;
				goto sleep;
			}
			toolsd_log("time sync: using %s (vireo_ptp)", phc);
			pthread_mutex_lock(&disc.lock);
			snprintf(disc.st.phc, sizeof(disc.st.phc), "%s", phc);
			pthread_mutex_unlock(&disc.lock);
		}
		/* chrony owns the clock; read it only now and then, for the report. */
		if (chrony && polls % DISC_CHRONY_POLLS)
			goto sleep;
		rc = sample(fd, &off, &rtt);
		if (rc == -ENODEV) {
			close(fd); /* the module went away */
			fd = -1;
		}
		if (rc < 0) {
			if (!warned)
				toolsd_log("time sync: reading %s failed: %s", phc, strerror(-rc));
			warned = true;
			set_state(chrony	 ? "chrony"
				  : disc.enabled ? "toolsd"
						 : "off",
				  "reading %s: %s", phc, strerror(-rc));
			goto sleep;
		}
		warned = false;
		err = rtt / 2;
		pthread_mutex_lock(&disc.lock);
		disc.st.mode = chrony ? "chrony" : disc.enabled ? "toolsd" : "off";
		snprintf(disc.st.reason, sizeof(disc.st.reason), "%s",
			 chrony		? "chronyd runs"
			 : disc.enabled ? ""
					: "disabled (--no-time-sync)");
		disc.st.have_sample = true;
		disc.st.offset_ns = off;
		disc.st.error_ns = err;
		disc.st.sample_realtime_ns = realtime_ns();
		disc.st.samples++;
		pthread_mutex_unlock(&disc.lock);
		if (chrony || !disc.enabled)
			goto sleep;

		if (off - err > DISC_JUMP_NS || llabs(off) - err > disc.step_threshold_ns) {
			rc = step(off);
			if (rc < 0) {
				set_state("toolsd", "step: %s", strerror(-rc));
				goto sleep;
			}
			record_step(off);
			toolsd_log("time sync: stepped the clock by %+.6f s (error %.6f s)",
				   off / 1e9, err / 1e9);
			slew(0, freq, err); /* nothing left for the PLL to do */
			goto sleep;
		}
		/* A sample that waited far longer than usual is noise for the loop. */
		if (usual_rtt > 0 && rtt > DISC_RTT_OUTLIER * usual_rtt + 100000)
			goto sleep_learn;
		/* Only small offsets teach the frequency: a slew of a large one would wind
		 * the integrator up and overshoot. */
		if (llabs(off) < DISC_LEARN_NS)
			freq += (off / 1000.0) * (DISC_POLL_MS / 1000.0) / DISC_INTEGRATOR_S2;
		if (freq > DISC_MAX_FREQ_PPM)
			freq = DISC_MAX_FREQ_PPM;
		if (freq < -DISC_MAX_FREQ_PPM)
			freq = -DISC_MAX_FREQ_PPM;
		rc = slew(off, freq, err);
		if (rc < 0)
			set_state("toolsd", "adjtimex: %s", strerror(-rc));
		pthread_mutex_lock(&disc.lock);
		disc.st.freq_ppm = freq;
		disc.st.slews++;
		pthread_mutex_unlock(&disc.lock);
	sleep_learn:
		/* The usual round trip: quick to fall, slow to rise. */
		usual_rtt = usual_rtt == 0 || rtt < usual_rtt ? rtt
							      : usual_rtt + (rtt - usual_rtt) / 16;
	sleep:
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	return NULL;
}

int toolsd_discipline_start(void)
{
	int rc;

	if (!disc.enabled)
		set_state("off", "disabled (--no-time-sync)");
	/* Even when disabled, the thread reads the offset for the "time" command. */
	rc = pthread_create(&disc.thread, NULL, discipline_thread, NULL);
	if (rc)
		return -rc;
	return 0;
}

struct json_object *toolsd_discipline_json(void)
{
	struct json_object *o = json_object_new_object();
	struct toolsd_sync_state s;

	if (!o)
		return NULL;
	pthread_mutex_lock(&disc.lock);
	s = disc.st;
	pthread_mutex_unlock(&disc.lock);
	json_object_object_add(o, "mode", json_object_new_string(s.mode));
	if (s.reason[0])
		json_object_object_add(o, "reason", json_object_new_string(s.reason));
	json_object_object_add(o, "phc", s.phc[0] ? json_object_new_string(s.phc) : NULL);
	json_object_object_add(o, "step_threshold_ns",
			       json_object_new_int64(disc.step_threshold_ns));
	if (s.have_sample) {
		json_object_object_add(o, "offset_ns", json_object_new_int64(s.offset_ns));
		json_object_object_add(o, "error_ns", json_object_new_int64(s.error_ns));
		json_object_object_add(o, "sample_realtime_ns",
				       json_object_new_int64(s.sample_realtime_ns));
	}
	json_object_object_add(o, "freq_ppm", json_object_new_double(s.freq_ppm));
	json_object_object_add(o, "samples", json_object_new_int64((int64_t)s.samples));
	json_object_object_add(o, "slews", json_object_new_int64((int64_t)s.slews));
	json_object_object_add(o, "steps", json_object_new_int64((int64_t)s.steps));
	if (s.steps) {
		json_object_object_add(o, "last_step_ns", json_object_new_int64(s.last_step_ns));
		json_object_object_add(o, "last_step_realtime_ns",
				       json_object_new_int64(s.last_step_realtime_ns));
	}
	return o;
}
