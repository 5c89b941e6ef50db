/*
 * Sample a 2-D mixture of four unit Gaussians at (+-3, +-3) with ETD, once with the f64 API and
 * once with the f32 API, and check the ensemble against the truth: mean (0, 0), covariance
 * diag(10, 10), a quarter of the particles per mode. Exits non-zero when an answer is off.
 *
 * Build: cargo build --release -p etd-ffi && make -C examples/c && ./examples/c/build/mixture
 */
#include "etd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 64     /* particles */
#define M 16     /* proposals per particle */
#define D 2      /* dimension */
#ifndef BURN_IN
#define BURN_IN 100 /* steps before measuring */
#endif
#ifndef AVERAGE
#define AVERAGE 50 /* steps whose ensembles are averaged */
#endif
#ifndef SEED
#define SEED 1u
#endif

static const double MODES[4][2] = {{-3.0, -3.0}, {-3.0, 3.0}, {3.0, -3.0}, {3.0, 3.0}};

/* log pi(x) (up to a constant) and, if grad != NULL, its gradient. */
static double mixture(const double x[D], double grad[D]) {
    double logw[4], top = -INFINITY, sum = 0.0;
    int k;
    for (k = 0; k < 4; k++) {
        double dx = x[0] - MODES[k][0], dy = x[1] - MODES[k][1];
        logw[k] = -0.5 * (dx * dx + dy * dy);
        if (logw[k] > top) top = logw[k];
    }
    for (k = 0; k < 4; k++) sum += exp(logw[k] - top);
    if (grad != NULL) {
        grad[0] = grad[1] = 0.0;
        for (k = 0; k < 4; k++) {
            double r = exp(logw[k] - top) / sum; /* responsibility of mode k */
            grad[0] += r * (MODES[k][0] - x[0]);
            grad[1] += r * (MODES[k][1] - x[1]);
        }
    }
    return top + log(sum);
}

/* Batch callbacks: count points of D values each, row-major. */
static int log_density_f64(void *user, const double *x, size_t count, size_t dim, double *out) {
    size_t i;
    (void)user;
    if (dim != D) return 1;
    for (i = 0; i < count; i++) out[i] = mixture(x + i * D, NULL);
    return 0;
}

static int score_f64(void *user, const double *x, size_t count, size_t dim, double *out) {
    size_t i;
    (void)user;
    if (dim != D) return 1;
    for (i = 0; i < count; i++) mixture(x + i * D, out + i * D);
    return 0;
}

static int log_density_f32(void *user, const float *x, size_t count, size_t dim, float *out) {
    size_t i;
    (void)user;
    if (dim != D) return 1;
    for (i = 0; i < count; i++) {
        double p[D] = {x[i * D], x[i * D + 1]};
        out[i] = (float)mixture(p, NULL);
    }
    return 0;
}

static int score_f32(void *user, const float *x, size_t count, size_t dim, float *out) {
    size_t i;
    (void)user;
    if (dim != D) return 1;
    for (i = 0; i < count; i++) {
        double p[D] = {x[i * D], x[i * D + 1]}, g[D];
        mixture(p, g);
        out[i * D] = (float)g[0];
        out[i * D + 1] = (float)g[1];
    }
    return 0;
}

/* Deterministic start: uniform in [-2, 2]^2 from a small LCG (all particles near the centre). */
static double start(unsigned *state) {
    *state = *state * 1664525u + 1013904223u;
    return 4.0 * ((*state >> 8) / 16777216.0) - 2.0;
}

/* Running moments of the ensemble over the last AVERAGE steps (less noisy than one snapshot). */
typedef struct {
    double sum[D], sum_sq[D][D], counts[4];
    int snapshots;
} moments;

static void accumulate(moments *m, double x, double y) {
    double p[D] = {x, y};
    int a, b;
    for (a = 0; a < D; a++) {
        m->sum[a] += p[a];
        for (b = 0; b < D; b++) m->sum_sq[a][b] += p[a] * p[b];
    }
    m->counts[(x > 0.0) * 2 + (y > 0.0)] += 1.0; /* same order as MODES */
}

/* Prints mean, covariance and mode counts; returns 0 when they match the truth. */
static int check(const char *name, const moments *m) {
    double total = (double)N * m->snapshots, mean[D], cov[D][D], counts[4];
    int a, b, k, ok = 1;
    for (a = 0; a < D; a++) mean[a] = m->sum[a] / total;
    for (a = 0; a < D; a++)
        for (b = 0; b < D; b++) cov[a][b] = m->sum_sq[a][b] / total - mean[a] * mean[b];
    for (k = 0; k < 4; k++) counts[k] = m->counts[k] / m->snapshots;
    printf("%s: mean (%.3f, %.3f)  cov [[%.3f, %.3f], [%.3f, %.3f]]  "
           "particles per mode %.1f %.1f %.1f %.1f (of %d)\n",
           name, mean[0], mean[1], cov[0][0], cov[0][1], cov[1][0], cov[1][1], counts[0],
           counts[1], counts[2], counts[3], N);
    /* Truth: mean 0, cov diag(10, 10), N/4 per mode. Loose but meaningful bounds. */
    ok &= fabs(mean[0]) < 0.75 && fabs(mean[1]) < 0.75;
    ok &= cov[0][0] > 7.0 && cov[0][0] < 13.0 && cov[1][1] > 7.0 && cov[1][1] < 13.0;
    ok &= fabs(cov[0][1]) < 2.0;
    for (k = 0; k < 4; k++) ok &= counts[k] >= N / 8.0 && counts[k] <= 3.0 * N / 8.0;
    if (!ok) fprintf(stderr, "%s: ensemble does not match the mixture\n", name);
    return ok ? 0 : 1;
}

static int run_f64(void) {
    etd_config cfg;
    etd_sampler_f64 *s = NULL;
    etd_step_stats stats;
    moments m = {{0.0}, {{0.0}}, {0.0}, 0};
    static double x[N][D];
    void *mem;
    unsigned rng = 1u;
    int i, t, status;

    etd_config_default(&cfg, N, M, D);
    mem = malloc(etd_sampler_size_f64(&cfg));
    if (mem == NULL) return 1;
    for (i = 0; i < N; i++) x[i][0] = start(&rng), x[i][1] = start(&rng);
    status = etd_sampler_init_f64(mem, etd_sampler_size_f64(&cfg), &cfg, SEED, &s);
    for (t = 0; t < BURN_IN + AVERAGE && status == ETD_OK; t++) {
        status = etd_sampler_step_f64(s, &x[0][0], log_density_f64, score_f64, NULL, &stats);
        for (i = 0; t >= BURN_IN && i < N; i++) accumulate(&m, x[i][0], x[i][1]);
        m.snapshots += t >= BURN_IN;
    }
    free(mem);
    if (status != ETD_OK) {
        fprintf(stderr, "f64: etd status %d\n", (int)status);
        return 1;
    }
    printf("f64: last step: %u Sinkhorn iterations, weight ESS %.1f, coupling ESS %.1f\n",
           stats.sinkhorn_iterations, stats.weight_ess, stats.coupling_ess);
    return check("f64", &m);
}

static int run_f32(void) {
    etd_config cfg;
    etd_sampler_f32 *s = NULL;
    moments m = {{0.0}, {{0.0}}, {0.0}, 0};
    static float x[N][D];
    void *mem;
    unsigned rng = 2u;
    int i, t, status;

    etd_config_default(&cfg, N, M, D);
    mem = malloc(etd_sampler_size_f32(&cfg));
    if (mem == NULL) return 1;
    for (i = 0; i < N; i++) x[i][0] = (float)start(&rng), x[i][1] = (float)start(&rng);
    status = etd_sampler_init_f32(mem, etd_sampler_size_f32(&cfg), &cfg, SEED, &s);
    for (t = 0; t < BURN_IN + AVERAGE && status == ETD_OK; t++) {
        status = etd_sampler_step_f32(s, &x[0][0], log_density_f32, score_f32, NULL, NULL);
        for (i = 0; t >= BURN_IN && i < N; i++) accumulate(&m, x[i][0], x[i][1]);
        m.snapshots += t >= BURN_IN;
    }
    free(mem);
    if (status != ETD_OK) {
        fprintf(stderr, "f32: etd status %d\n", (int)status);
        return 1;
    }
    return check("f32", &m);
}

int main(void) {
    int failures;
    printf("etd %s: N = %d, M = %d, %d + %d steps\n", etd_version(), N, M, BURN_IN, AVERAGE);
    failures = run_f64() + run_f32();
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
