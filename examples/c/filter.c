/*
 * A robot localisation particle filter in C on the ETD transport entry: pose (x, y, heading),
 * unicycle motion with noise, range-bearing readings to four known landmarks. Each update
 * pushes the particles through the motion model (the proposals), weighs them by the reading's
 * log-likelihood, and, when the weight ESS falls below N/2, moves every particle along the
 * entropic transport plan (etd_sampler_transport_f64); the same loop with systematic
 * resampling (etd_sampler_resample_f64) is the baseline. Prints the position RMSE of both
 * over SEEDS runs and exits non-zero when ETD's is off.
 *
 * Build: cargo build --release -p etd-ffi && make -C examples/c && ./examples/c/build/filter
 */
#include "etd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 64      /* particles */
#define D 3       /* pose: x, y, heading */
#define STEPS 60  /* updates per run */
#define SEEDS 20  /* runs */
#define LANDMARKS 4

static const double LANDMARK[LANDMARKS][2] = {{0, 0}, {10, 0}, {0, 10}, {10, 10}};
static const double SPEED = 0.5, TURN = 0.1;              /* controls per step: m, rad */
static const double MOTION_SD[D] = {0.05, 0.05, 0.02};    /* m, m, rad per step */
static const double RANGE_SD = 0.3, BEARING_SD = 0.05;    /* m, rad */

/* xorshift64* and Box-Muller: the example's own noise. */
static unsigned long long rng_state;
static double uniform01(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void) {
    return sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01());
}

static double wrap(double a) { return atan2(sin(a), cos(a)); }

/* Moves a pose one step under the unicycle model, with motion noise. */
static void move(const double from[D], double to[D]) {
    to[0] = from[0] + SPEED * cos(from[2]) + MOTION_SD[0] * normal();
    to[1] = from[1] + SPEED * sin(from[2]) + MOTION_SD[1] * normal();
    to[2] = from[2] + TURN + MOTION_SD[2] * normal();
}

/* Range and bearing of every landmark seen from `pose`. */
static void observe(const double pose[D], double z[LANDMARKS][2]) {
    int k;
    for (k = 0; k < LANDMARKS; k++) {
        double dx = LANDMARK[k][0] - pose[0], dy = LANDMARK[k][1] - pose[1];
        z[k][0] = sqrt(dx * dx + dy * dy);
        z[k][1] = wrap(atan2(dy, dx) - pose[2]);
    }
}

static double log_likelihood(const double pose[D], double z[LANDMARKS][2]) {
    double expected[LANDMARKS][2], sum = 0.0;
    int k;
    observe(pose, expected);
    for (k = 0; k < LANDMARKS; k++) {
        double r = (z[k][0] - expected[k][0]) / RANGE_SD;
        double b = wrap(z[k][1] - expected[k][1]) / BEARING_SD;
        sum -= 0.5 * (r * r + b * b);
    }
    return sum;
}

/* One run of the filter; `transport` picks ETD or systematic resampling. Returns the mean
 * squared position error over the run, or a negative value on a library error. */
static double run(etd_sampler_f64 *s, unsigned seed, int transport) {
    double truth[D] = {5.0, 2.0, 0.0}, next[D];
    double particles[N * D], proposals[N * D], logw[N], z[LANDMARKS][2], sq = 0.0;
    int t, i;
    rng_state = 0x9E3779B97F4A7C15ULL * (seed + 1);
    for (i = 0; i < N; i++) { /* the prior: within a metre and 0.2 rad of the start */
        particles[i * D + 0] = truth[0] + normal();
        particles[i * D + 1] = truth[1] + normal();
        particles[i * D + 2] = truth[2] + 0.2 * normal();
        logw[i] = 0.0;
    }
    for (t = 0; t < STEPS; t++) {
        double ess, top = -INFINITY, total = 0.0, mx = 0.0, my = 0.0;
        int status = ETD_OK;
        move(truth, next);
        memcpy(truth, next, sizeof truth);
        observe(truth, z);
        for (i = 0; i < N; i++) { /* predict and weigh */
            move(particles + i * D, proposals + i * D);
            logw[i] += log_likelihood(proposals + i * D, z);
        }
        for (i = 0; i < N; i++) { /* the weighted mean position, before any resampling */
            if (logw[i] > top) top = logw[i];
        }
        for (i = 0; i < N; i++) {
            double w = exp(logw[i] - top);
            total += w;
            mx += w * proposals[i * D];
            my += w * proposals[i * D + 1];
        }
        sq += pow(mx / total - truth[0], 2) + pow(my / total - truth[1], 2);
        if (etd_weight_ess_f64(logw, N, &ess) != ETD_OK) return -1.0;
        if (ess < N / 2) { /* move every particle (or resample), then weights are equal */
            etd_step_stats st;
            status = transport ? etd_sampler_transport_f64(s, particles, proposals, N, logw, &st)
                               : etd_sampler_resample_f64(s, particles, proposals, N, logw);
            if (transport && status == ETD_OK && !st.converged) /* a capped plan: resample */
                status = etd_sampler_resample_f64(s, particles, proposals, N, logw);
            for (i = 0; i < N; i++) logw[i] = 0.0;
        } else {
            memcpy(particles, proposals, sizeof particles);
        }
        if (status != ETD_OK) {
            fprintf(stderr, "update failed: %s\n", etd_status_str(status));
            return -1.0;
        }
    }
    return sq / STEPS;
}

int main(void) {
    etd_config cfg;
    etd_sampler_f64 *s = NULL;
    void *mem;
    double etd = 0.0, sir = 0.0;
    unsigned seed;
    etd_config_filter(&cfg, N, 1, D); /* a pool of N proposals: one per particle */
    mem = malloc(etd_sampler_size_f64(&cfg));
    if (mem == NULL || etd_sampler_init_f64(mem, etd_sampler_size_f64(&cfg), &cfg, 1, &s) != ETD_OK) {
        fprintf(stderr, "init failed\n");
        return 1;
    }
    for (seed = 0; seed < SEEDS; seed++) {
        double a = run(s, seed, 1), b = run(s, seed, 0);
        if (a < 0.0 || b < 0.0) return 1;
        etd += a / SEEDS;
        sir += b / SEEDS;
    }
    printf("filter: N %d, %d runs of %d updates: position RMSE transport %.3f m, systematic %.3f m\n",
           N, SEEDS, STEPS, sqrt(etd), sqrt(sir));
    free(mem);
    /* The readings pin the pose to a few tenths of a metre; a broken update drifts by metres. */
    return sqrt(etd) < 0.5 ? 0 : 1;
}
