/*
 * Bare-metal C firmware linking the no_std libetd.a (thumbv7em-none-eabihf): static memory, no
 * heap, the f32 API. Linked (not run) by ffi/tests/c_api.rs with arm-none-eabi-gcc when present.
 */
#include "etd.h"

#define N 16
#define M 4
#define D 2

static float particles[N * D];
static unsigned char sampler_memory[32 * 1024];
static volatile int32_t last_status;

static int log_density(void *user, const float *x, size_t count, size_t dim, float *out) {
    size_t i;
    (void)user;
    for (i = 0; i < count; i++)
        out[i] = -0.5f * (x[i * dim] * x[i * dim] + x[i * dim + 1] * x[i * dim + 1]);
    return 0;
}

int main(void) {
    etd_config cfg;
    etd_sampler_f32 *s = 0;
    etd_config_default(&cfg, N, M, D);
    cfg.use_score = 0;
    if (etd_sampler_size_f32(&cfg) > sizeof sampler_memory) return 1;
    last_status = etd_sampler_init_f32(sampler_memory, sizeof sampler_memory, &cfg, 1u, &s);
    while (last_status == ETD_OK)
        last_status = etd_sampler_step_f32(s, particles, log_density, 0, 0, 0);
    return 1;
}
