/*
 * Every status code of the C ABI from C, the finer detail behind each (etd_error), and "nothing
 * written on failure": particles, *out, stats, f and g are compared byte for byte before and
 * after each failing call.
 * (ETD_ERR_PANIC cannot be provoked through a correct library; ffi/src/guard.rs tests it.)
 * Run by ffi/tests/c_api.rs; exits non-zero and names the first failed check.
 */
#include "etd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 8
#define M 4
#define D 2

static int failures = 0;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                         \
        }                                                                       \
    } while (0)

/* A standard normal; `user` points to an int selecting a failure mode. */
enum mode { GOOD, RETURN_ERROR, WRITE_NAN, WRITE_POS_INF, ALL_ZERO_DENSITY };

static int log_density(void *user, const double *x, size_t count, size_t dim, double *out) {
    int mode = user ? *(const int *)user : GOOD;
    size_t i, k;
    if (mode == RETURN_ERROR) return 3;
    for (i = 0; i < count; i++) {
        double s = 0.0;
        for (k = 0; k < dim; k++) s += x[i * dim + k] * x[i * dim + k];
        out[i] = mode == WRITE_NAN          ? NAN
                 : mode == WRITE_POS_INF    ? INFINITY
                 : mode == ALL_ZERO_DENSITY ? -INFINITY
                                            : -0.5 * s;
    }
    return 0;
}

static int score(void *user, const double *x, size_t count, size_t dim, double *out) {
    int mode = user ? *(const int *)user : GOOD;
    size_t i;
    if (mode == RETURN_ERROR) return -1;
    for (i = 0; i < count * dim; i++) out[i] = mode == WRITE_NAN ? NAN : -x[i];
    return 0;
}

/* Score that fails while the log-density is fine (user is ignored by it). */
static int score_fails(void *user, const double *x, size_t count, size_t dim, double *out) {
    (void)user, (void)x, (void)count, (void)dim, (void)out;
    return 9;
}

static int score_inf(void *user, const double *x, size_t count, size_t dim, double *out) {
    size_t i;
    (void)user, (void)x;
    for (i = 0; i < count * dim; i++) out[i] = -INFINITY;
    return 0;
}

static int log_density_f32(void *user, const float *x, size_t count, size_t dim, float *out) {
    size_t i;
    (void)user;
    for (i = 0; i < count; i++) out[i] = -0.5f * (x[i * dim] * x[i * dim] + x[i * dim + 1] * x[i * dim + 1]);
    return 0;
}

static double particles[N * D], saved[N * D];
static etd_step_stats stats, saved_stats;

static void save(void) {
    memcpy(saved, particles, sizeof particles);
    memset(&stats, 0xA5, sizeof stats);
    saved_stats = stats;
}

static int unchanged(void) {
    return memcmp(saved, particles, sizeof particles) == 0 &&
           memcmp(&saved_stats, &stats, sizeof stats) == 0;
}

/* The last call on a live sampler failed with this status, detail and callback code. */
static void expect_last(etd_sampler_f64 *s, int32_t status, int32_t detail, int32_t code) {
    etd_error err;
    CHECK(etd_sampler_last_error_f64(s, &err) == ETD_OK);
    CHECK(err.status == status && err.detail == detail && err.callback_code == code);
    if (err.detail != detail)
        fprintf(stderr, "  last error: status %d, detail %d (%s), code %d; expected detail %d\n", err.status, err.detail,
                etd_detail_str(err.detail), err.callback_code, detail);
}

/* One failing step: expected status, and particles and stats untouched. */
#define STEP_FAILS(expected, s, ld, sc, user)                                          \
    do {                                                                             \
        save();                                                                      \
        CHECK(etd_sampler_step_f64((s), particles, (ld), (sc), (user), &stats) == (expected)); \
        CHECK(unchanged());                                                          \
    } while (0)

static void test_config(void) {
    etd_config good, bad;
    etd_sampler_f64 *out = (etd_sampler_f64 *)&good; /* sentinel: must stay as it is */
    static unsigned char mem[1 << 16];
    int i;
    etd_config_default(&good, N, M, D);
    CHECK(good.max_iterations == 8 && good.epsilon == 0.1 && good.tolerance == 0.05);
    CHECK(good.alpha == 0.05 && good.sigma == 0.0 && good.score_clip == 5.0 && good.rho == 1.0);
    CHECK(good.damping == 1.0 && good.coupling == ETD_COUPLING_BALANCED);
    CHECK(good.update == ETD_UPDATE_CATEGORICAL && good.use_score == 1);
    CHECK(good.mutation_steps == 0 && good.mutation_step_size == 0.3); /* none at D = 2 */
    {
        etd_config high;
        etd_config_default(&high, N, M, 3);
        CHECK(high.mutation_steps == 10); /* from dim = 3 on */
    }
    CHECK(etd_sampler_size_f64(&good) > 0 && etd_sampler_size_f64(&good) <= sizeof mem);
    CHECK(etd_sampler_size_f64(NULL) == 0);
    static const int32_t details[19] = {
        ETD_DETAIL_ZERO_SIZE, ETD_DETAIL_ZERO_SIZE, ETD_DETAIL_ZERO_SIZE,
        ETD_DETAIL_INVALID_MAX_ITERATIONS, ETD_DETAIL_INVALID_EPSILON, ETD_DETAIL_INVALID_TOLERANCE,
        ETD_DETAIL_INVALID_ALPHA, ETD_DETAIL_INVALID_SIGMA, ETD_DETAIL_INVALID_SCORE_CLIP,
        ETD_DETAIL_INVALID_DAMPING, ETD_DETAIL_INVALID_DAMPING, ETD_DETAIL_INVALID_RHO,
        ETD_DETAIL_UNKNOWN_COUPLING, ETD_DETAIL_UNKNOWN_UPDATE, ETD_DETAIL_INVALID_USE_SCORE,
        ETD_DETAIL_INVALID_MUTATION_STEP_SIZE, ETD_DETAIL_INVALID_SIGMA, ETD_DETAIL_INVALID_SIGMA,
        ETD_DETAIL_INVALID_EPSILON};
    etd_error err;
    CHECK(etd_config_check_f64(&good, &err) == ETD_OK && err.detail == ETD_DETAIL_NONE);
    CHECK(etd_config_check_f64(NULL, &err) == ETD_ERR_NULL_POINTER &&
          err.detail == ETD_DETAIL_NULL_POINTER);
    CHECK(etd_config_check_f32(&good, NULL) == ETD_OK);
    for (i = 0; i < 19; i++) {
        bad = good;
        switch (i) {
        case 0: bad.n_particles = 0; break;
        case 1: bad.proposals_per_particle = 0; break;
        case 2: bad.dim = 0; break;
        case 3: bad.max_iterations = 0; break;
        case 4: bad.epsilon = 0.0; break;
        case 5: bad.tolerance = NAN; break;
        case 6: bad.alpha = -1.0; break;
        case 7: bad.sigma = -0.5; break;
        case 8: bad.score_clip = INFINITY; break;
        case 9: bad.damping = 1.5; break;
        case 10: bad.damping = 0.0; break;
        case 11: bad.coupling = ETD_COUPLING_UNBALANCED, bad.rho = 0.0; break;
        case 12: bad.coupling = 3; break;
        case 13: bad.update = 3; break;
        case 14: bad.use_score = 2; break;
        case 15: bad.mutation_steps = 2, bad.mutation_step_size = 0.0; break;
        case 16: bad.alpha = 0.0; break; /* with sigma 0: no proposal spread */
        case 17: bad.sigma = INFINITY; break;
        case 18: bad.epsilon = 1e-60; break; /* rounds to 0 in float */
        }
        if (i < 18) CHECK(etd_sampler_size_f64(&bad) == 0);
        CHECK(etd_sampler_size_f32(&bad) == 0);
        memset(&err, 0, sizeof err);
        CHECK(etd_config_check_f32(&bad, &err) == ETD_ERR_INVALID_ARGUMENT);
        CHECK(err.status == ETD_ERR_INVALID_ARGUMENT && err.detail == details[i] &&
              err.callback_code == 0);
        if (err.detail != details[i]) fprintf(stderr, "  config case %d: detail %d\n", i, err.detail);
        if (i < 18) CHECK(etd_sampler_init_f64(mem, sizeof mem, &bad, 1, &out) == ETD_ERR_INVALID_ARGUMENT);
        CHECK(out == (etd_sampler_f64 *)&good);
    }
    /* rho is ignored unless unbalanced; the step size unless mutating. */
    bad = good;
    bad.rho = -1.0, bad.mutation_step_size = NAN;
    CHECK(etd_sampler_size_f64(&bad) == etd_sampler_size_f64(&good));
    /* NULL pointers and small memory. */
    CHECK(etd_sampler_init_f64(NULL, sizeof mem, &good, 1, &out) == ETD_ERR_NULL_POINTER);
    CHECK(etd_sampler_init_f64(mem, sizeof mem, NULL, 1, &out) == ETD_ERR_NULL_POINTER);
    CHECK(etd_sampler_init_f64(mem, sizeof mem, &good, 1, NULL) == ETD_ERR_NULL_POINTER);
    CHECK(etd_sampler_init_f64(mem, etd_sampler_size_f64(&good) - 1, &good, 1, &out) ==
          ETD_ERR_BUFFER_TOO_SMALL);
    CHECK(etd_sampler_init_f64(mem, 0, &good, 1, &out) == ETD_ERR_BUFFER_TOO_SMALL);
    CHECK(out == (etd_sampler_f64 *)&good);
    etd_config_default(NULL, 1, 1, 1); /* a no-op, not a crash */
}

static void test_step(void) {
    static unsigned char mem[1 << 16];
    etd_config cfg;
    etd_sampler_f64 *s = NULL;
    int mode, i;

    etd_config_default(&cfg, N, M, D);
    /* Any alignment of mem works: start one byte in. */
    CHECK(etd_sampler_init_f64(mem + 1, etd_sampler_size_f64(&cfg), &cfg, 5, &s) == ETD_OK);
    CHECK(s != NULL);
    for (i = 0; i < N * D; i++) particles[i] = (i % 5) * 0.3 - 0.6;

    STEP_FAILS(ETD_ERR_NULL_POINTER, NULL, log_density, score, NULL);
    save();
    CHECK(etd_sampler_step_f64(s, NULL, log_density, score, NULL, &stats) == ETD_ERR_NULL_POINTER);
    CHECK(unchanged());
    STEP_FAILS(ETD_ERR_NULL_POINTER, s, NULL, score, NULL);
    expect_last(s, ETD_ERR_NULL_POINTER, ETD_DETAIL_NULL_POINTER, 0);
    /* use_score == 1 but no score callback. */
    STEP_FAILS(ETD_ERR_NO_SUPPORT, s, log_density, NULL, NULL);
    expect_last(s, ETD_ERR_NO_SUPPORT, ETD_DETAIL_NO_SCORE, 0);
    /* Callbacks that fail or write non-finite values; a failing callback's code comes back. */
    mode = RETURN_ERROR;
    STEP_FAILS(ETD_ERR_CALLBACK, s, log_density, score, &mode);
    expect_last(s, ETD_ERR_CALLBACK, ETD_DETAIL_CALLBACK_FAILED, -1); /* score runs first */
    STEP_FAILS(ETD_ERR_CALLBACK, s, log_density, score_fails, NULL);
    expect_last(s, ETD_ERR_CALLBACK, ETD_DETAIL_CALLBACK_FAILED, 9);
    cfg.use_score = 0;
    {
        static unsigned char free_mem[1 << 16];
        etd_sampler_f64 *free_s = NULL;
        CHECK(etd_sampler_init_f64(free_mem, sizeof free_mem, &cfg, 5, &free_s) == ETD_OK);
        STEP_FAILS(ETD_ERR_CALLBACK, free_s, log_density, NULL, &mode);
        expect_last(free_s, ETD_ERR_CALLBACK, ETD_DETAIL_CALLBACK_FAILED, 3);
        CHECK(etd_sampler_step_f64(free_s, particles, log_density, NULL, NULL, NULL) == ETD_OK);
        expect_last(free_s, ETD_OK, ETD_DETAIL_NONE, 0);
    }
    cfg.use_score = 1;
    mode = WRITE_NAN;
    STEP_FAILS(ETD_ERR_NON_FINITE, s, log_density, score, &mode);
    expect_last(s, ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_SCORE, 0);
    STEP_FAILS(ETD_ERR_NON_FINITE, s, log_density, score, &mode);
    mode = WRITE_POS_INF;
    STEP_FAILS(ETD_ERR_NON_FINITE, s, log_density, score, &mode);
    expect_last(s, ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_DENSITY, 0);
    mode = ALL_ZERO_DENSITY;
    STEP_FAILS(ETD_ERR_NON_FINITE, s, log_density, score, &mode);
    expect_last(s, ETD_ERR_NON_FINITE, ETD_DETAIL_ALL_WEIGHTS_ZERO, 0);
    STEP_FAILS(ETD_ERR_NON_FINITE, s, log_density, score_inf, NULL);
    expect_last(s, ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_SCORE, 0);
    /* A non-finite particle. */
    particles[3] = NAN;
    STEP_FAILS(ETD_ERR_NON_FINITE, s, log_density, score, NULL);
    expect_last(s, ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_PARTICLES, 0);
    particles[3] = INFINITY;
    STEP_FAILS(ETD_ERR_NON_FINITE, s, log_density, score, NULL);
    particles[3] = 0.25;
    /* Not a sampler: zeroed memory, and misaligned particles. */
    {
        static double zeros[64];
        STEP_FAILS(ETD_ERR_INVALID_ARGUMENT, (etd_sampler_f64 *)(void *)zeros, log_density, score, NULL);
        save();
        CHECK(etd_sampler_step_f64(s, (double *)(void *)((unsigned char *)particles + 1), log_density,
                                   score, NULL, &stats) == ETD_ERR_INVALID_ARGUMENT);
        CHECK(unchanged());
        expect_last(s, ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_MISALIGNED, 0);
        {
            etd_error err;
            CHECK(etd_sampler_last_error_f64((etd_sampler_f64 *)(void *)zeros, &err) ==
                  ETD_ERR_INVALID_ARGUMENT);
            CHECK(etd_sampler_last_error_f64(s, NULL) == ETD_ERR_NULL_POINTER);
            CHECK(etd_sampler_last_error_f64(NULL, &err) == ETD_ERR_NULL_POINTER);
        }
    }
    /* After all that the sampler still works, and moves the particles. */
    save();
    for (i = 0; i < 5; i++)
        CHECK(etd_sampler_step_f64(s, particles, log_density, score, NULL, &stats) == ETD_OK);
    expect_last(s, ETD_OK, ETD_DETAIL_NONE, 0);
    CHECK(memcmp(saved, particles, sizeof particles) != 0);
    CHECK(stats.sinkhorn_iterations >= 1 && stats.weight_ess >= 1.0 && stats.coupling_ess >= 1.0);
    CHECK(etd_sampler_step_f64(s, particles, log_density, score, NULL, NULL) == ETD_OK);

    /* Preconditioning: bad handles and rates change nothing; a huge spread overflows the
       covariance and leaves the particles untouched; a good rate steps. */
    {
        static double zeros[64];
        CHECK(etd_sampler_set_precondition_f64(NULL, 0.1) == ETD_ERR_NULL_POINTER);
        CHECK(etd_sampler_set_precondition_f64((etd_sampler_f64 *)(void *)zeros, 0.1) ==
              ETD_ERR_INVALID_ARGUMENT);
        CHECK(etd_sampler_set_precondition_f64(s, -0.1) == ETD_ERR_INVALID_ARGUMENT);
        CHECK(etd_sampler_set_precondition_f64(s, 1.5) == ETD_ERR_INVALID_ARGUMENT);
        CHECK(etd_sampler_set_precondition_f64(s, NAN) == ETD_ERR_INVALID_ARGUMENT);
        expect_last(s, ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_INVALID_PRECONDITION_RATE, 0);
        CHECK(etd_sampler_set_precondition_f64(s, 0.1) == ETD_OK);
        particles[0] = 1e200, particles[2] = -1e200;
        save();
        CHECK(etd_sampler_step_f64(s, particles, log_density, score, NULL, &stats) == ETD_ERR_NON_FINITE);
        CHECK(unchanged());
        expect_last(s, ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_COVARIANCE, 0);
        particles[0] = 0.5, particles[2] = -0.5;
        save();
        for (i = 0; i < 3; i++)
            CHECK(etd_sampler_step_f64(s, particles, log_density, score, NULL, &stats) == ETD_OK);
        CHECK(memcmp(saved, particles, sizeof particles) != 0);
        CHECK(etd_sampler_set_precondition_f64(s, 0.0) == ETD_OK);
        CHECK(etd_sampler_step_f64(s, particles, log_density, score, NULL, &stats) == ETD_OK);
    }

    /* Score-free with random-walk mutation: NULL score is fine when use_score == 0. */
    cfg.use_score = 0, cfg.mutation_steps = 2;
    CHECK(etd_sampler_init_f64(mem, sizeof mem, &cfg, 5, &s) == ETD_OK);
    CHECK(etd_sampler_step_f64(s, particles, log_density, NULL, NULL, &stats) == ETD_OK);
    CHECK(stats.acceptance_rate >= 0.0 && stats.acceptance_rate <= 1.0);
    /* ... and the mutation's score errors surface too when a score is given. */
    STEP_FAILS(ETD_ERR_CALLBACK, s, log_density, score_fails, NULL);
}

static void test_step_f32(void) {
    static unsigned char mem[1 << 15];
    etd_config cfg;
    etd_sampler_f32 *s = NULL;
    float x[N * D], before[N * D];
    int i;
    etd_config_default(&cfg, N, M, D);
    cfg.use_score = 0;
    CHECK(etd_sampler_init_f32(mem, etd_sampler_size_f32(&cfg), &cfg, 5, &s) == ETD_OK);
    for (i = 0; i < N * D; i++) x[i] = (float)(i % 3) - 1.0f;
    memcpy(before, x, sizeof x);
    CHECK(etd_sampler_step_f32(s, x, NULL, NULL, NULL, NULL) == ETD_ERR_NULL_POINTER);
    CHECK(etd_sampler_step_f32(s, x, log_density_f32, NULL, NULL, NULL) == ETD_OK);
    CHECK(memcmp(before, x, sizeof x) != 0);
    CHECK(etd_sampler_set_precondition_f32(s, 0.5) == ETD_OK);
    CHECK(etd_sampler_step_f32(s, x, log_density_f32, NULL, NULL, NULL) == ETD_OK);
    /* An f64 handle is not an f32 sampler. */
    memcpy(before, x, sizeof x);
    {
        static unsigned char mem64[1 << 16];
        etd_sampler_f64 *s64 = NULL;
        CHECK(etd_sampler_init_f64(mem64, sizeof mem64, &cfg, 5, &s64) == ETD_OK);
        CHECK(etd_sampler_step_f32((etd_sampler_f32 *)(void *)s64, x, log_density_f32, NULL, NULL,
                                   NULL) == ETD_ERR_INVALID_ARGUMENT);
        CHECK(etd_sampler_set_precondition_f32((etd_sampler_f32 *)(void *)s64, 0.1) ==
              ETD_ERR_INVALID_ARGUMENT);
    }
    CHECK(memcmp(before, x, sizeof x) == 0);
}

/* Sinkhorn: plan marginals, gibbs potentials, and each error with f, g untouched. */
#define SN 3
#define SP 4
static void test_sinkhorn(void) {
    double cost[SN * SP], log_a[SN], log_b[SP], f[SN], g[SP], f0[SN], g0[SP];
    double scratch[SN + SP + 2];
    etd_sinkhorn_stats st, st0;
    int i, j, c;
    for (i = 0; i < SN; i++)
        for (j = 0; j < SP; j++) cost[i * SP + j] = (i - j) * (i - j) * 0.5;
    for (i = 0; i < SN; i++) log_a[i] = log(1.0 / SN);
    for (j = 0; j < SP; j++) log_b[j] = log((j + 1) / 10.0);
    CHECK(etd_sinkhorn_scratch_len(SN, SP) == SN + SP);

    for (c = 0; c < 3; c++) {
        double eps = 0.5, row[SN] = {0}, col[SP] = {0};
        memset(f, 0, sizeof f), memset(g, 0, sizeof g);
        CHECK(etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, eps, (uint32_t)c, 1.0, 500, 1e-9, f, g, &st) ==
              ETD_OK);
        for (i = 0; i < SN; i++)
            for (j = 0; j < SP; j++) {
                double p = exp((f[i] + g[j] - cost[i * SP + j]) / eps);
                row[i] += p, col[j] += p;
            }
        for (i = 0; i < SN; i++) CHECK(fabs(row[i] - 1.0 / SN) < 1e-6); /* rows exact: all */
        if (c == ETD_COUPLING_BALANCED) {
            for (j = 0; j < SP; j++) CHECK(fabs(col[j] - (j + 1) / 10.0) < 1e-6);
            CHECK(st.converged == 1);
        }
        if (c == ETD_COUPLING_GIBBS) {
            for (j = 0; j < SP; j++) CHECK(fabs(g[j] - eps * log_b[j]) < 1e-12);
            CHECK(st.iterations == 1 && st.converged == 1);
        }
    }
    /* The scratch twin gives the same answer. */
    memcpy(f0, f, sizeof f), memcpy(g0, g, sizeof g);
    memset(f, 0, sizeof f), memset(g, 0, sizeof g);
    CHECK(etd_sinkhorn_scratch_f64(cost, SN, SP, log_a, log_b, 0.5, ETD_COUPLING_GIBBS, 1.0, 500, 1e-9, f, g,
                                   scratch, SN + SP, NULL) == ETD_OK);
    CHECK(memcmp(f, f0, sizeof f) == 0 && memcmp(g, g0, sizeof g) == 0);

#define SINKHORN_FAILS(expected, call)                                                 \
    do {                                                                             \
        memcpy(f0, f, sizeof f), memcpy(g0, g, sizeof g);                              \
        memset(&st, 0x5A, sizeof st), st0 = st;                                        \
        CHECK((call) == (expected));                                                 \
        CHECK(memcmp(f, f0, sizeof f) == 0 && memcmp(g, g0, sizeof g) == 0);           \
        CHECK(memcmp(&st, &st0, sizeof st) == 0);                                      \
    } while (0)

    SINKHORN_FAILS(ETD_ERR_NULL_POINTER,
                   etd_sinkhorn_f64(NULL, SN, SP, log_a, log_b, 0.5, 0, 1.0, 50, 1e-6, f, g, &st));
    SINKHORN_FAILS(ETD_ERR_NULL_POINTER,
                   etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, 0.5, 0, 1.0, 50, 1e-6, f, NULL, &st));
    SINKHORN_FAILS(ETD_ERR_INVALID_ARGUMENT,
                   etd_sinkhorn_f64(cost, 0, SP, log_a, log_b, 0.5, 0, 1.0, 50, 1e-6, f, g, &st));
    SINKHORN_FAILS(ETD_ERR_INVALID_ARGUMENT,
                   etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, 0.0, 0, 1.0, 50, 1e-6, f, g, &st));
    SINKHORN_FAILS(ETD_ERR_INVALID_ARGUMENT,
                   etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, 0.5, 7, 1.0, 50, 1e-6, f, g, &st));
    SINKHORN_FAILS(ETD_ERR_INVALID_ARGUMENT,
                   etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, 0.5, ETD_COUPLING_UNBALANCED, -1.0, 50,
                                    1e-6, f, g, &st));
    SINKHORN_FAILS(ETD_ERR_INVALID_ARGUMENT,
                   etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, 0.5, 0, 1.0, 0, 1e-6, f, g, &st));
    SINKHORN_FAILS(ETD_ERR_INVALID_ARGUMENT, /* f overlaps g */
                   etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, 0.5, 0, 1.0, 50, 1e-6, g, g, &st));
    SINKHORN_FAILS(ETD_ERR_BUFFER_TOO_SMALL,
                   etd_sinkhorn_scratch_f64(cost, SN, SP, log_a, log_b, 0.5, 0, 1.0, 50, 1e-6, f, g, scratch,
                                            SN + SP - 1, &st));
    cost[5] = NAN;
    SINKHORN_FAILS(ETD_ERR_NON_FINITE,
                   etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, 0.5, 0, 1.0, 50, 1e-6, f, g, &st));
    cost[5] = 1.0;
    log_b[2] = INFINITY;
    SINKHORN_FAILS(ETD_ERR_NON_FINITE,
                   etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, 0.5, 0, 1.0, 50, 1e-6, f, g, &st));
    for (j = 0; j < SP; j++) log_b[j] = -INFINITY;
    SINKHORN_FAILS(ETD_ERR_NON_FINITE,
                   etd_sinkhorn_f64(cost, SN, SP, log_a, log_b, 0.5, 0, 1.0, 50, 1e-6, f, g, &st));
    for (j = 0; j < SP; j++) log_b[j] = log(0.25);

    /* Why each of those failed: the same arguments through etd_sinkhorn_check_f64. */
    {
        etd_error err;
#define SINKHORN_DETAIL(expected, cst, n, la, eps, c, rho, iter, ff, gg, sc, len)                 \
    do {                                                                                    \
        memset(&err, 0x5A, sizeof err);                                                     \
        etd_sinkhorn_check_f64((cst), (n), SP, (la), log_b, (eps), (c), (rho), (iter), 1e-6, (ff), \
                               (gg), (sc), (len), &err);                                    \
        CHECK(err.detail == (expected));                                                    \
        if (err.detail != (expected)) fprintf(stderr, "  sinkhorn detail %d\n", err.detail);  \
    } while (0)
        SINKHORN_DETAIL(ETD_DETAIL_NONE, cost, SN, log_a, 0.5, 0, 1.0, 50, f, g, NULL, 0);
        SINKHORN_DETAIL(ETD_DETAIL_NONE, cost, SN, log_a, 0.5, 0, 1.0, 50, f, g, scratch, SN + SP);
        SINKHORN_DETAIL(ETD_DETAIL_NULL_POINTER, NULL, SN, log_a, 0.5, 0, 1.0, 50, f, g, NULL, 0);
        SINKHORN_DETAIL(ETD_DETAIL_ZERO_SIZE, cost, 0, log_a, 0.5, 0, 1.0, 50, f, g, NULL, 0);
        SINKHORN_DETAIL(ETD_DETAIL_INVALID_EPSILON, cost, SN, log_a, 0.0, 0, 1.0, 50, f, g, NULL, 0);
        SINKHORN_DETAIL(ETD_DETAIL_UNKNOWN_COUPLING, cost, SN, log_a, 0.5, 7, 1.0, 50, f, g, NULL, 0);
        SINKHORN_DETAIL(ETD_DETAIL_INVALID_RHO, cost, SN, log_a, 0.5, 1, -1.0, 50, f, g, NULL, 0);
        SINKHORN_DETAIL(ETD_DETAIL_INVALID_MAX_ITERATIONS, cost, SN, log_a, 0.5, 0, 1.0, 0, f, g, NULL, 0);
        SINKHORN_DETAIL(ETD_DETAIL_OVERLAP, cost, SN, log_a, 0.5, 0, 1.0, 50, g, g, NULL, 0);
        SINKHORN_DETAIL(ETD_DETAIL_MEMORY_TOO_SMALL, cost, SN, log_a, 0.5, 0, 1.0, 50, f, g, scratch,
                        SN + SP - 1);
        cost[5] = NAN;
        SINKHORN_DETAIL(ETD_DETAIL_NON_FINITE_INPUT, cost, SN, log_a, 0.5, 0, 1.0, 50, f, g, NULL, 0);
        cost[5] = 1.0;
        CHECK(etd_sinkhorn_check_f64(cost, SN, SP, log_a, log_b, 0.5, 0, 1.0, 50, 1e-6, f, g, NULL, 0,
                                     NULL) == ETD_OK);
    }
    /* Larger than the stack scratch: never the heap; caller scratch instead. */
    {
        enum { BN = 100, BP = 200 };
        static double bc[BN * BP], ba[BN], bb[BP], bf[BN], bg[BP], bs[BN + BP];
        etd_error err;
        for (i = 0; i < BN * BP; i++) bc[i] = (i % 17) * 0.1;
        for (i = 0; i < BN; i++) ba[i] = -log((double)BN);
        for (i = 0; i < BP; i++) bb[i] = -log((double)BP);
        CHECK(BN + BP > ETD_SINKHORN_STACK_SCRATCH);
        memset(&st, 0x5A, sizeof st), st0 = st;
        CHECK(etd_sinkhorn_f64(bc, BN, BP, ba, bb, 0.1, 0, 1.0, 200, 1e-6, bf, bg, &st) ==
              ETD_ERR_NO_SUPPORT);
        CHECK(memcmp(&st, &st0, sizeof st) == 0);
        CHECK(etd_sinkhorn_check_f64(bc, BN, BP, ba, bb, 0.1, 0, 1.0, 200, 1e-6, bf, bg, NULL, 0, &err) ==
              ETD_ERR_NO_SUPPORT);
        CHECK(err.detail == ETD_DETAIL_STACK_SCRATCH_TOO_SMALL);
        CHECK(etd_sinkhorn_scratch_f64(bc, BN, BP, ba, bb, 0.1, 0, 1.0, 200, 1e-6, bf, bg, bs, BN + BP,
                                       &st) == ETD_OK);
    }
    /* f32 twin. */
    {
        float fc[4] = {0.0f, 1.0f, 1.0f, 0.0f}, fa[2] = {-0.6931472f, -0.6931472f}, ff[2] = {0}, fg[2] = {0};
        float fs[4];
        CHECK(etd_sinkhorn_f32(fc, 2, 2, fa, fa, 0.5f, 0, 1.0f, 100, 1e-5f, ff, fg, &st) == ETD_OK);
        CHECK(etd_sinkhorn_scratch_f32(fc, 2, 2, fa, fa, 0.5f, 0, 1.0f, 100, 1e-5f, ff, fg, fs, 4, NULL) ==
              ETD_OK);
        CHECK(st.converged == 1);
    }
}

/* The filter entries: transport, systematic resampling and the weight ESS, good and bad. */
static void test_filter(void) {
    static unsigned char mem[1 << 16];
    static double proposals[(N * M + 1) * D], logw[N * M + 1]; /* one spare, for count = pool + 1 */
    etd_config cfg;
    etd_sampler_f64 *s = NULL;
    double ess = -1.0;
    size_t i, pool = N * M;
    etd_config_filter(&cfg, N, M, D);
    CHECK(cfg.max_iterations == 50 && cfg.epsilon == 0.2 && cfg.tolerance == 0.01);
    CHECK(etd_sampler_init_f64(mem, sizeof mem, &cfg, 3, &s) == ETD_OK);
    for (i = 0; i < N * D; i++) particles[i] = (double)i / (N * D);
    for (i = 0; i < pool * D; i++) proposals[i] = 1.0 + (double)(i % 7) / 7.0;
    for (i = 0; i < pool; i++) logw[i] = -(double)(i % 5);
    /* Success: every particle lands on a proposal, and stats are written. */
    save();
    CHECK(etd_sampler_transport_f64(s, particles, proposals, pool, logw, &stats) == ETD_OK);
    CHECK(stats.weight_ess > 1.0 && stats.weight_ess <= (double)pool && stats.acceptance_rate == 0.0);
    for (i = 0; i < N * D; i++) CHECK(particles[i] >= 1.0 && particles[i] < 2.0);
    CHECK(etd_sampler_resample_f64(s, particles, proposals, 3, logw) == ETD_OK);
    CHECK(etd_weight_ess_f64(logw, 5, &ess) == ETD_OK && ess > 1.0 && ess < 5.0);
    /* The rounded update lands every particle on a proposal too. */
    {
        static unsigned char rounded_mem[1 << 16];
        etd_sampler_f64 *r = NULL;
        etd_config rounded = cfg;
        rounded.update = ETD_UPDATE_ROUNDED;
        CHECK(etd_sampler_init_f64(rounded_mem, sizeof rounded_mem, &rounded, 4, &r) == ETD_OK);
        for (i = 0; i < N * D; i++) particles[i] = (double)i / (N * D);
        CHECK(etd_sampler_transport_f64(r, particles, proposals, pool, logw, &stats) == ETD_OK);
        for (i = 0; i < N * D; i++) CHECK(particles[i] >= 1.0 && particles[i] < 2.0);
    }
    /* Failures: a status, a detail, and the particles and stats untouched. */
    save();
    CHECK(etd_sampler_transport_f64(s, particles, proposals, 0, logw, &stats) == ETD_ERR_INVALID_ARGUMENT);
    expect_last(s, ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_PROPOSAL_COUNT, 0);
    CHECK(etd_sampler_transport_f64(s, particles, proposals, pool + 1, logw, &stats) ==
          ETD_ERR_INVALID_ARGUMENT);
    expect_last(s, ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_PROPOSAL_COUNT, 0);
    CHECK(etd_sampler_transport_f64(s, particles, NULL, pool, logw, &stats) == ETD_ERR_NULL_POINTER);
    CHECK(etd_sampler_transport_f64(s, particles, proposals, pool, particles, &stats) ==
          ETD_ERR_INVALID_ARGUMENT);
    expect_last(s, ETD_ERR_INVALID_ARGUMENT, ETD_DETAIL_OVERLAP, 0);
    logw[2] = NAN;
    CHECK(etd_sampler_transport_f64(s, particles, proposals, pool, logw, &stats) == ETD_ERR_NON_FINITE);
    expect_last(s, ETD_ERR_NON_FINITE, ETD_DETAIL_NON_FINITE_INPUT, 0);
    CHECK(etd_sampler_resample_f64(s, particles, proposals, pool, logw) == ETD_ERR_NON_FINITE);
    CHECK(etd_weight_ess_f64(logw, pool, &ess) == ETD_ERR_NON_FINITE);
    for (i = 0; i < pool; i++) logw[i] = -INFINITY;
    CHECK(etd_sampler_transport_f64(s, particles, proposals, pool, logw, &stats) == ETD_ERR_NON_FINITE);
    expect_last(s, ETD_ERR_NON_FINITE, ETD_DETAIL_ALL_WEIGHTS_ZERO, 0);
    CHECK(etd_sampler_resample_f64(s, particles, proposals, 0, logw) == ETD_ERR_INVALID_ARGUMENT);
    CHECK(unchanged());
    CHECK(etd_weight_ess_f64(logw, 0, &ess) == ETD_ERR_INVALID_ARGUMENT);
    CHECK(etd_weight_ess_f64(logw, 1, NULL) == ETD_ERR_NULL_POINTER);
}

/* Every status and detail has a static description; unknown values get one too. */
static void test_strings(void) {
    int32_t i, j;
    for (i = ETD_OK; i <= ETD_ERR_PANIC; i++) {
        CHECK(etd_status_str(i) != NULL && strstr(etd_status_str(i), "unknown") == NULL);
        for (j = 0; j < i; j++) CHECK(strcmp(etd_status_str(i), etd_status_str(j)) != 0);
    }
    CHECK(strcmp(etd_status_str(-1), "unknown status") == 0);
    CHECK(strcmp(etd_detail_str(ETD_DETAIL_NONE), "no failure") == 0);
    CHECK(strstr(etd_detail_str(ETD_DETAIL_CALLBACK_FAILED), "callback_code") != NULL);
    CHECK(strcmp(etd_detail_str(12345), "unknown detail") == 0);
}

int main(void) {
    char version[32];
    sprintf(version, "%u.%u.%u", ETD_VERSION_MAJOR, ETD_VERSION_MINOR, ETD_VERSION_PATCH);
    CHECK(strcmp(etd_version(), version) == 0); /* header and library match */
    test_strings();
    test_config();
    test_step();
    test_step_f32();
    test_sinkhorn();
    test_filter();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return EXIT_FAILURE;
    }
    printf("errors.c: all checks passed\n");
    return EXIT_SUCCESS;
}
