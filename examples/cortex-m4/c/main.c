/* ETD through the C ABI on a Cortex-M4F (QEMU mps2-an386): the Rust firmware's problem
 * (3-mode mixture, f32, N = 32, M = 4, d = 2, 100 steps, default configuration) through etd.h, with the
 * sampler in a static buffer. Prints per-step statistics and instruction counts, then the mean,
 * variance and mode shares; returns 0 only if they are within the Rust firmware's tolerances. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "etd.h"

#define N 32
#define M 4
#define D 2
#define K 3
#define ITERATIONS 100
#define SAMPLER_BYTES (24 * 1024)

static const float WEIGHTS[K] = {0.5f, 0.3f, 0.2f};
static const float MEANS[K][2] = {{-2.0f, -1.5f}, {2.5f, -1.0f}, {0.0f, 2.5f}};
static const float STD = 0.7f;
/* As TOLERANCES in src/lib.rs. */
static const float TOL_MEAN = 0.6f, TOL_LOG_VAR = 0.8f, TOL_SHARE = 0.15f;

static _Alignas(8) unsigned char sampler_mem[SAMPLER_BYTES];
static float particles[N * D];

/* SysTick, clocked by the 25 MHz system clock: 40 instructions per tick under -icount shift=0. */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

/* Component terms ln w_k - |x - mu_k|^2 / (2 s^2). */
static void terms(const float *x, float *t)
{
    for (int k = 0; k < K; k++) {
        float dx = x[0] - MEANS[k][0], dy = x[1] - MEANS[k][1];
        t[k] = logf(WEIGHTS[k]) - (dx * dx + dy * dy) / (2.0f * STD * STD);
    }
}

/* Responsibilities into r, returns the log-density up to a constant. */
static float responsibilities(const float *x, float *r)
{
    float t[K], max = -INFINITY, total = 0.0f;
    terms(x, t);
    for (int k = 0; k < K; k++)
        max = t[k] > max ? t[k] : max;
    for (int k = 0; k < K; k++) {
        r[k] = expf(t[k] - max);
        total += r[k];
    }
    for (int k = 0; k < K; k++)
        r[k] /= total;
    return max + logf(total);
}

static int log_density(void *user, const float *x, size_t count, size_t dim, float *out)
{
    (void)user;
    float r[K];
    for (size_t i = 0; i < count; i++)
        out[i] = responsibilities(x + i * dim, r);
    return 0;
}

static int score(void *user, const float *x, size_t count, size_t dim, float *out)
{
    (void)user;
    float r[K];
    for (size_t i = 0; i < count; i++) {
        const float *p = x + i * dim;
        responsibilities(p, r);
        for (size_t c = 0; c < dim; c++) {
            float pull = 0.0f;
            for (int k = 0; k < K; k++)
                pull += r[k] * MEANS[k][c];
            out[i * dim + c] = (pull - p[c]) / (STD * STD);
        }
    }
    return 0;
}

static int nearest_mode(const float *x)
{
    float t[K];
    int best = 0;
    terms(x, t);
    for (int k = 1; k < K; k++)
        if (t[k] > t[best])
            best = k;
    return best;
}

/* xorshift32 + Box-Muller: the initial ensemble N(0, 3^2 I). */
static uint32_t rng_state = 2024u;
static float uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return ((float)(rng_state >> 8) + 0.5f) / 16777216.0f;
}

int main(void)
{
    etd_config cfg;
    etd_config_default(&cfg, N, M, D);
    size_t need = etd_sampler_size_f32(&cfg);
    printf("ETD through the C ABI (libetd %s) on Cortex-M4F: f32, N = %d, M = %d, d = %d\n",
           etd_version(), N, M, D);
    printf("etd_sampler_size_f32 = %u bytes (static buffer %u)\n", (unsigned)need,
           (unsigned)SAMPLER_BYTES);
    if (need == 0 || need > SAMPLER_BYTES)
        return 1;
    etd_sampler_f32 *s = NULL;
    int32_t status = etd_sampler_init_f32(sampler_mem, sizeof sampler_mem, &cfg, 7, &s);
    if (status != ETD_OK) {
        printf("init failed: %d\n", (int)status);
        return 1;
    }
    for (int i = 0; i < N * D; i += 2) {
        float r = sqrtf(-2.0f * logf(uniform())), a = 6.2831853f * uniform();
        particles[i] = 3.0f * r * cosf(a);
        particles[i + 1] = 3.0f * r * sinf(a);
    }

    SYST_RVR = 0x00FFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 5u; /* enable, processor clock, no interrupt */
    unsigned long long total_ticks = 0;
    printf("iter  sink conv   marg.err  cost med    w ESS    c ESS     instr\n");
    for (int it = 1; it <= ITERATIONS; it++) {
        etd_step_stats st;
        uint32_t start = SYST_CVR;
        status = etd_sampler_step_f32(s, particles, log_density, score, NULL, &st);
        uint32_t ticks = (start - SYST_CVR) & 0x00FFFFFFu;
        total_ticks += ticks;
        if (status != ETD_OK) {
            printf("step %d failed: %d\n", it, (int)status);
            return 1;
        }
        printf("%4d %5u %4s %10.2e %9.3f %8.1f %8.2f %9lu\n", it, (unsigned)st.sinkhorn_iterations,
               st.converged ? "yes" : "no", st.marginal_error, st.cost_scale, st.weight_ess,
               st.coupling_ess, (unsigned long)ticks * 40ul);
    }
    printf("\ninstructions per step: mean %lu (SysTick at 40 instructions/tick)\n",
           (unsigned long)(total_ticks * 40ull / ITERATIONS));

    float mean[D] = {0}, var[D] = {0}, share[K] = {0};
    for (int i = 0; i < N; i++) {
        for (int c = 0; c < D; c++)
            mean[c] += particles[i * D + c] / N;
        share[nearest_mode(&particles[i * D])] += 1.0f / N;
    }
    for (int i = 0; i < N; i++)
        for (int c = 0; c < D; c++) {
            float dv = particles[i * D + c] - mean[c];
            var[c] += dv * dv / N;
        }
    int pass = 1;
    for (int c = 0; c < D; c++) {
        float m = 0.0f, ex2 = 0.0f;
        for (int k = 0; k < K; k++) {
            m += WEIGHTS[k] * MEANS[k][c];
            ex2 += WEIGHTS[k] * MEANS[k][c] * MEANS[k][c];
        }
        float v = STD * STD + ex2 - m * m;
        printf("coordinate %d: mean %+.3f (truth %+.3f), variance %.3f (truth %.3f)\n", c, mean[c],
               m, var[c], v);
        pass &= fabsf(mean[c] - m) <= TOL_MEAN && fabsf(logf(var[c] / v)) <= TOL_LOG_VAR;
    }
    for (int k = 0; k < K; k++) {
        printf("mode %d: share %.3f (weight %.3f)\n", k, share[k], WEIGHTS[k]);
        pass &= fabsf(share[k] - WEIGHTS[k]) <= TOL_SHARE;
    }
    printf("%s\n", pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
}
